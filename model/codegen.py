"""``kws codegen``: a .tflite model as C source, run without an interpreter.

:func:`generate` reads the flatbuffer (``model.tflite_reader``, no TensorFlow), checks that
every op, type and shape is one the kernels handle (``BadInput`` naming it otherwise) and emits

- ``<name>.h``: input/output shapes and types, input scale and zero point, labels, arena size,
  ``<name>_invoke(input, output)`` and ``<name>_features_to_input(features, input)``;
- ``<name>.c``: weights, biases and requantization constants as ``const`` data (flash), one
  parameter struct per op, the activation arena planned here, the input lookup table
  (:mod:`model.quantization`) and the invoke function: a straight sequence of kernel calls.

Everything that can be computed ahead of time is: per-channel multipliers and shifts (TFLite's
QuantizeMultiplier), activation clamps, softmax constants, and for the Cortex-M4 kernels
(``KWS_KERNELS_CORTEX_M4``) the constants in the order the kernels consume them, input
offsets folded into the biases and the requantization shortcut where it is proven exact
(:mod:`model.m4_layout`). Data, parameters and plans that differ between kernel sets sit
under ``#if``.

An int8 PAD that feeds only a VALID convolution is fused into it (the conv skips the border
taps, whose contribution is zero). Activations are planned statically per kernel set:
RESHAPE aliases its input, the model's input and output are the caller's buffers, and every
other tensor, and a kernel's scratch buffer during its call, gets an offset in one arena,
placed greedily (largest first, lowest offset free over the lifetime).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model import config, m4_layout
from model.errors import BadInput
from model.quantization import InputQuantization, round_half_away
from model.tflite_reader import Model, Operator, Tensor, parse_model

KERNEL_SETS = ("reference", "cortex_m4")
ARENA_ALIGN = 8
SUPPORTED_OPS = ("PAD", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX")
_CTYPE = {"int8": "int8_t", "float32": "float"}
_SOFTMAX_DIFF_BITS = 5
#: kws_conv_geometry's fields in order
_GEOMETRY_FIELDS = (
    "in_h",
    "in_w",
    "in_c",
    "out_h",
    "out_w",
    "out_c",
    "k_h",
    "k_w",
    "stride_h",
    "stride_w",
    "dilation_h",
    "dilation_w",
    "pad_top",
    "pad_left",
    "depth_multiplier",
)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: ``real ≈ q * 2^(shift - 31)`` with q a Q31 int32."""
    if real == 0.0:
        return 0, 0
    fraction, shift = math.frexp(real)
    q = math.floor(fraction * (1 << 31) + 0.5)  # round half away; fraction > 0
    if q == 1 << 31:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q, shift


@dataclass
class _Array:
    name: str
    ctype: str
    values: np.ndarray
    kernels: str | None = None  # None: both kernel sets; else only that set

    @property
    def nbytes(self) -> int:
        return int(self.values.size * {"int8_t": 1, "int16_t": 2, "int32_t": 4, "float": 4}[self.ctype])


@dataclass
class _Step:
    """One kernel call: ``call`` has {in} and {out} placeholders for the buffers."""

    op: Operator
    #: the C initializer of the op's parameter struct ("" if none), or one per kernel set; a
    #: {scratch} placeholder stands for the step's scratch buffer in the arena
    params: str | dict[str, str]
    param_type: str
    call: str
    input: int
    output: int
    scratch: dict[str, int] = field(default_factory=dict)  # kernel set → scratch bytes during the call

    def init(self, kernels: str) -> str:
        return self.params if isinstance(self.params, str) else self.params[kernels]


@dataclass
class Generated:
    name: str
    header: str
    source: str
    arena_bytes: dict[str, int]  # per kernel set
    weight_bytes: dict[str, int]
    input: InputQuantization
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    dtype: str
    ops: list[str] = field(default_factory=list)

    def files(self) -> dict[str, str]:
        return {f"{self.name}.h": self.header, f"{self.name}.c": self.source}

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.dtype,
            "ops": self.ops,
            "arena_bytes": self.arena_bytes,
            "weight_bytes": self.weight_bytes,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "input_scale": self.input.scale,
            "input_zero_point": self.input.zero_point,
        }


def _c_values(values: np.ndarray, ctype: str) -> str:
    flat = values.reshape(-1)
    if ctype == "float":
        items = [f"{v!r}f" for v in flat.astype(np.float32).tolist()]  # repr of a float32 round-trips
    else:
        items = [str(int(v)) for v in flat.tolist()]
    lines, line = [], "    "
    for item in items:
        if len(line) + len(item) + 2 > 100:
            lines.append(line.rstrip())
            line = "    "
        line += item + ", "
    lines.append(line.rstrip())
    return "\n".join(lines)


def _float_literal(v: float) -> str:
    if v == math.inf:
        return "FLT_MAX"
    if v == -math.inf:
        return "-FLT_MAX"
    return f"{float(np.float32(v))!r}f"


class _Generator:
    def __init__(self, model: Model, path: str, name: str) -> None:
        self.m = model
        self.path = path
        self.name = name
        self.arrays: list[_Array] = []
        self.steps: list[_Step] = []
        self.alias: dict[int, int] = {}  # RESHAPE output → the tensor whose storage it shares
        # PAD output → (PAD input, pad top, pad left) when a convolution does the padding itself
        self.fused_pads: dict[int, tuple[Tensor, int, int]] = {}
        # conv output (alias root) whose cortex_m4 layout is blocked → NHWC index of each position
        self.blocked: dict[int, np.ndarray] = {}

    # --- checks -------------------------------------------------------------------------------

    def fail(self, op: Operator | None, reason: str) -> BadInput:
        where = f"operator {op.index} ({op.name}): " if op is not None else ""
        return BadInput(self.path, where + reason)

    def tensor(self, op: Operator, position: int, *, const: bool = False, optional: bool = False) -> Tensor | None:
        if position >= len(op.inputs) or op.inputs[position] < 0:
            if optional:
                return None
            raise self.fail(op, f"input {position} is missing")
        t = self.m.tensors[op.inputs[position]]
        if const and t.data is None:
            raise self.fail(op, f"input {position} ({t.name}) must be a constant tensor")
        if not const and t.data is not None:
            raise self.fail(op, f"input {position} ({t.name}) is constant; only a computed input is supported")
        return t

    def out(self, op: Operator) -> Tensor:
        if len(op.outputs) != 1:
            raise self.fail(op, f"{len(op.outputs)} outputs; one is supported")
        return self.m.tensors[op.outputs[0]]

    def check_type(self, op: Operator, t: Tensor, dtype: str, what: str) -> None:
        if t.dtype != dtype:
            raise self.fail(op, f"{what} {t.name!r} has type {t.dtype}; this model needs {dtype}")

    def qparams(self, op: Operator, t: Tensor) -> tuple[float, int]:
        q = t.quantization
        if q is None or q.scale.size != 1:
            raise self.fail(op, f"tensor {t.name!r} needs per-tensor quantization")
        return float(q.scale[0]), int(q.zero_point[0])

    # --- helpers ------------------------------------------------------------------------------

    def consumers(self, index: int) -> list[Operator]:
        return [op for op in self.m.operators if index in op.inputs]

    def array(self, name: str, ctype: str, values: np.ndarray, kernels: str | None = None) -> str:
        if ctype == "float" and not np.isfinite(values).all():
            raise self.fail(None, f"constant {name} holds non-finite values")
        self.arrays.append(_Array(name, ctype, np.asarray(values), kernels))
        return name

    def act_range_q(self, op: Operator, activation: str, scale: float, zero_point: int) -> tuple[int, int]:
        def quantize(x: float) -> int:
            return zero_point + int(round_half_away(np.float32(x) / np.float32(scale)))

        ranges = {
            "NONE": (-128, 127),
            "RELU": (max(-128, quantize(0.0)), 127),
            "RELU6": (max(-128, quantize(0.0)), min(127, quantize(6.0))),
            "RELU_N1_TO_1": (max(-128, quantize(-1.0)), min(127, quantize(1.0))),
        }
        if activation not in ranges:
            raise self.fail(op, f"fused activation {activation} is not supported")
        return ranges[activation]

    def act_range_f(self, op: Operator, activation: str) -> tuple[float, float]:
        ranges = {
            "NONE": (-math.inf, math.inf),
            "RELU": (0.0, math.inf),
            "RELU6": (0.0, 6.0),
            "RELU_N1_TO_1": (-1.0, 1.0),
        }
        if activation not in ranges:
            raise self.fail(op, f"fused activation {activation} is not supported")
        return ranges[activation]

    # --- ops ----------------------------------------------------------------------------------

    def lower(self) -> None:
        m = self.m
        if len(m.inputs) != 1 or len(m.outputs) != 1:
            raise self.fail(None, f"{len(m.inputs)} inputs and {len(m.outputs)} outputs; one of each is supported")
        self.dtype = m.tensors[m.inputs[0]].dtype
        if self.dtype not in _CTYPE:
            raise self.fail(None, f"model input type {self.dtype} is not supported (int8 or float32)")
        if m.tensors[m.outputs[0]].dtype != self.dtype:
            raise self.fail(None, f"model output type {m.tensors[m.outputs[0]].dtype} differs from its input's")
        if not m.operators:
            raise self.fail(None, "the model has no operators")
        for op in m.operators:
            if op.name not in SUPPORTED_OPS:
                raise self.fail(op, f"unsupported operator (supported: {', '.join(SUPPORTED_OPS)})")
            x = self.tensor(op, 0)
            y = self.out(op)
            for t, what in ((x, "input"), (y, "output")):
                self.check_type(op, t, self.dtype, what)
            getattr(self, "op_" + op.name.lower())(op, x, y)

    def op_reshape(self, op: Operator, x: Tensor, y: Tensor) -> None:
        if x.size != y.size:
            raise self.fail(op, f"reshape of {x.size} values into shape {list(y.shape)}")
        if y.index in self.m.outputs:
            self.steps.append(_Step(op, "", "", f"memcpy({{out}}, {{in}}, {y.nbytes});", x.index, y.index))
        else:
            self.alias[y.index] = x.index

    def op_pad(self, op: Operator, x: Tensor, y: Tensor) -> None:
        paddings = self.tensor(op, 1, const=True)
        if len(op.inputs) > 2:
            raise self.fail(op, "constant_values input is not supported")
        pads = np.asarray(paddings.data, dtype=np.int64)
        if len(x.shape) > 4 or pads.shape != (len(x.shape), 2) or (pads < 0).any():
            raise self.fail(op, f"paddings of shape {list(pads.shape)} for a {len(x.shape)}-D input")
        lead = 4 - len(x.shape)
        in_dims = [1] * lead + list(x.shape)
        before = [0] * lead + pads[:, 0].tolist()
        out_dims = [d + int(a) + int(b) for d, (a, b) in zip(in_dims, [(0, 0)] * lead + pads.tolist(), strict=True)]
        if int(np.prod(out_dims)) != y.size:
            raise self.fail(op, f"padded shape {out_dims} does not match output shape {list(y.shape)}")
        init = (
            f"{{{{{', '.join(map(str, in_dims))}}}, {{{', '.join(map(str, out_dims))}}}, "
            f"{{{', '.join(map(str, before))}}}}}"
        )
        if self.dtype == "int8":
            s_in, zp_in = self.qparams(op, x)
            s_out, zp_out = self.qparams(op, y)
            if zp_in != zp_out or np.float32(s_in) != np.float32(s_out):
                raise self.fail(op, "input and output quantization differ")
            if self.fusable_pad(y, in_dims, out_dims, before):
                self.fused_pads[y.index] = (x, before[1], before[2])
                return
            call = f"kws_pad_s8(&op{op.index}, {zp_out}, {{in}}, {{out}});"
        else:
            call = f"kws_pad_f32(&op{op.index}, {{in}}, {{out}});"
        self.steps.append(_Step(op, init, "kws_pad_params", call, x.index, y.index))

    def fusable_pad(self, y: Tensor, in_dims: list[int], out_dims: list[int], before: list[int]) -> bool:
        """Whether an int8 PAD of H and W feeds only a VALID convolution, which can then take the
        unpadded input and skip the border taps: a border value (the zero point) plus the input
        offset is 0, so the sums are TFLM's either way, and the padded copy is never stored."""
        users = self.consumers(y.index)
        return (
            y.index not in self.m.outputs
            and len(users) == 1
            and users[0].name in ("CONV_2D", "DEPTHWISE_CONV_2D")
            and users[0].inputs[0] == y.index
            and users[0].options["padding"] == "VALID"
            and before[0] == before[3] == 0
            and in_dims[0] == out_dims[0]
            and in_dims[3] == out_dims[3]
        )

    def fc_consumer(self, y: Tensor) -> Operator | None:
        """The FULLY_CONNECTED that alone reads a conv output ``y`` (maybe through one RESHAPE), with
        batch 1 and its cortex_m4 fast path: then the conv may store its output in any order."""
        reader = y
        users = self.consumers(reader.index)
        if len(users) == 1 and users[0].name == "RESHAPE" and reader.index not in self.m.outputs:
            reader = self.m.tensors[users[0].outputs[0]]
            users = self.consumers(reader.index)
        if reader.index in self.m.outputs or len(users) != 1 or users[0].name != "FULLY_CONNECTED":
            return None
        fc = users[0]
        w = self.m.tensors[fc.inputs[1]] if len(fc.inputs) > 1 and fc.inputs[1] >= 0 else None
        if fc.inputs[0] != reader.index or w is None or len(w.shape) != 2 or w.shape[1] != y.size:
            return None
        return fc if m4_layout.fc_fast(w.shape[1], w.shape[0]) else None

    def _geometry(self, op: Operator, x: Tensor, w: Tensor, y: Tensor, depthwise: bool) -> dict[str, int]:
        o = op.options
        if len(x.shape) != 4 or len(y.shape) != 4 or len(w.shape) != 4 or x.shape[0] != 1 or y.shape[0] != 1:
            raise self.fail(op, f"needs 4-D NHWC tensors with batch 1 (input {list(x.shape)}, output {list(y.shape)})")
        _, in_h, in_w, in_c = x.shape
        _, out_h, out_w, out_c = y.shape
        if depthwise:
            _, k_h, k_w, w_c = w.shape
            multiplier = o["depth_multiplier"]
            if w_c != out_c or in_c * multiplier != out_c:
                raise self.fail(op, f"depthwise shapes: input {in_c} channels x {multiplier} != output {out_c}")
        else:
            w_out, k_h, k_w, w_in = w.shape
            multiplier = 1
            if w_out != out_c or w_in != in_c:
                raise self.fail(op, f"filter shape {list(w.shape)} does not fit {in_c} → {out_c} channels")
        if o["stride_h"] < 1 or o["stride_w"] < 1 or o["dilation_h"] < 1 or o["dilation_w"] < 1:
            raise self.fail(op, "strides and dilations must be positive")
        pads = []
        for size, out, k, stride, dilation in (
            (in_h, out_h, k_h, o["stride_h"], o["dilation_h"]),
            (in_w, out_w, k_w, o["stride_w"], o["dilation_w"]),
        ):
            effective = (k - 1) * dilation + 1
            expected = (
                (size + stride - 1) // stride if o["padding"] == "SAME" else (size - effective + stride) // stride
            )
            if expected != out:
                raise self.fail(op, f"output size {out} does not follow from input {size}, kernel {k}, {o['padding']}")
            pads.append(max((out - 1) * stride + effective - size, 0) // 2)
        return {
            "in_h": in_h,
            "in_w": in_w,
            "in_c": in_c,
            "out_h": out_h,
            "out_w": out_w,
            "out_c": out_c,
            "k_h": k_h,
            "k_w": k_w,
            "stride_h": o["stride_h"],
            "stride_w": o["stride_w"],
            "dilation_h": o["dilation_h"],
            "dilation_w": o["dilation_w"],
            "pad_top": pads[0],
            "pad_left": pads[1],
            "depth_multiplier": multiplier,
        }

    def op_conv_2d(self, op: Operator, x: Tensor, y: Tensor) -> None:
        self._conv(op, x, y, depthwise=False)

    def op_depthwise_conv_2d(self, op: Operator, x: Tensor, y: Tensor) -> None:
        self._conv(op, x, y, depthwise=True)

    def _conv(self, op: Operator, x: Tensor, y: Tensor, depthwise: bool) -> None:
        w = self.tensor(op, 1, const=True)
        b = self.tensor(op, 2, const=True, optional=True)
        g = self._geometry(op, x, w, y, depthwise)
        if x.index in self.fused_pads:
            x, g["pad_top"], g["pad_left"] = self.fused_pads[x.index]
            g["in_h"], g["in_w"] = x.shape[1], x.shape[2]
        geometry = "{" + ", ".join(str(g[k]) for k in _GEOMETRY_FIELDS) + "}"
        kernel = "kws_depthwise_conv2d" if depthwise else "kws_conv2d"
        out_c = g["out_c"]
        prefix = f"op{op.index}"
        if self.dtype == "float32":
            self.check_type(op, w, "float32", "filter")
            bias = np.zeros(out_c, np.float32) if b is None else np.asarray(b.data, np.float32).reshape(-1)
            lo, hi = self.act_range_f(op, op.options["activation"])
            self.array(f"{prefix}_weights", "float", w.data)
            self.array(f"{prefix}_bias", "float", bias)
            init = f"{{{geometry}, {_float_literal(lo)}, {_float_literal(hi)}, {prefix}_weights, {prefix}_bias}}"
            self.steps.append(
                _Step(op, init, "kws_conv_f32_params", f"{kernel}_f32(&{prefix}, {{in}}, {{out}});", x.index, y.index)
            )
            return
        self.check_type(op, w, "int8", "filter")
        if b is not None:
            self.check_type(op, b, "int32", "bias")
        s_in, zp_in = self.qparams(op, x)
        s_out, zp_out = self.qparams(op, y)
        wq = w.quantization
        if wq is None or (wq.zero_point != 0).any() or wq.scale.size not in (1, out_c):
            raise self.fail(op, "filter needs symmetric per-tensor or per-channel quantization")
        scales = np.broadcast_to(wq.scale, (out_c,))
        mults = [quantize_multiplier(float(np.float64(s_in) * np.float64(s) / np.float64(s_out))) for s in scales]
        bias = np.zeros(out_c, np.int64) if b is None else np.asarray(b.data, np.int64).reshape(-1)
        lo, hi = self.act_range_q(op, op.options["activation"], s_out, zp_out)
        weights = np.asarray(w.data, np.int64)
        base = f"{{{geometry}, {-zp_in}, {zp_out}, {lo}, {hi}, "
        names = f"{prefix}_weights, {prefix}_bias, {prefix}_multiplier, {prefix}_shift"
        fast = self.m4_conv(op, g, weights, bias, mults, (zp_in, zp_out), (lo, hi), depthwise, y)
        if fast is None:
            self.array(f"{prefix}_multiplier", "int32_t", np.array([m for m, _ in mults]))
            self.array(f"{prefix}_shift", "int32_t", np.array([s for _, s in mults]))
            self.array(f"{prefix}_weights", "int8_t", weights)
            self.array(f"{prefix}_bias", "int32_t", bias)
            params: str | dict[str, str] = base + names + ", NULL, 0, 0, 0}"
            scratch: dict[str, int] = {}
        else:
            self.array(f"{prefix}_multiplier", "int32_t", np.array([m for m, _ in mults]), "reference")
            self.array(f"{prefix}_shift", "int32_t", np.array([s for _, s in mults]), "reference")
            self.array(f"{prefix}_weights", "int8_t", weights, "reference")
            self.array(f"{prefix}_bias", "int32_t", bias, "reference")
            params = {"reference": base + names + ", NULL, 0, 0, 0}", "cortex_m4": fast[0]}
            scratch = {"cortex_m4": fast[1]}
        self.steps.append(
            _Step(
                op,
                params,
                "kws_conv_s8_params",
                f"{kernel}_s8(&{prefix}, {{in}}, {{out}});",
                x.index,
                y.index,
                scratch,
            )
        )

    def m4_conv(
        self,
        op: Operator,
        g: dict[str, int],
        weights: np.ndarray,
        bias: np.ndarray,
        mults: list[tuple[int, int]],
        zero_points: tuple[int, int],
        act: tuple[int, int],
        depthwise: bool,
        y: Tensor,
    ) -> tuple[str, int] | None:
        """The cortex_m4 fast conv's constants and parameter initializer, with its scratch bytes,
        or None when the layer does not fit it (then both kernel sets share reference data)."""
        if not m4_layout.conv_fast(g):
            return None
        out_c, prefix = g["out_c"], f"op{op.index}"
        zp_in, zp_out = zero_points
        per_channel = (
            weights.reshape(g["k_h"], g["k_w"], out_c).transpose(2, 0, 1)
            if depthwise
            else weights.reshape(out_c, g["k_h"], g["k_w"])
        )
        folded = bias + (-zp_in) * per_channel.reshape(out_c, -1).sum(axis=1)
        bound = m4_layout.acc_bound(per_channel.reshape(out_c, -1), folded)
        if not m4_layout.fits_doubled(bound):
            return None
        multipliers, shifts = [m for m, _ in mults], [s for _, s in mults]
        requant = m4_layout.fast_requant(multipliers, shifts, zp_out, act, bound)
        stream = m4_layout.conv_stream(per_channel, folded, multipliers, shifts, requant)
        self.array(f"{prefix}_weights", "int32_t", stream, "cortex_m4")
        blocked = self.fc_consumer(y) is not None
        if blocked:
            self.blocked[y.index] = m4_layout.blocked_order(g["out_h"], g["out_w"], out_c)
        rows = m4_layout.scratch_rows(g)
        geometry = "{" + ", ".join(str(g[k]) for k in _GEOMETRY_FIELDS) + "}"
        init = (
            f"{{{geometry}, {-zp_in}, {zp_out}, {act[0]}, {act[1]}, {prefix}_weights, NULL, NULL, NULL, "
            f"(int32_t *)(arena + {{scratch}}), {rows}, {int(blocked)}, {int(requant is not None)}}}"
        )
        return init, rows * m4_layout.STRIP_WORDS * 4

    def op_fully_connected(self, op: Operator, x: Tensor, y: Tensor) -> None:
        w = self.tensor(op, 1, const=True)
        b = self.tensor(op, 2, const=True, optional=True)
        if len(w.shape) != 2 or op.options["weights_format"] != 0:
            raise self.fail(
                op, f"weights of shape {list(w.shape)} (format {op.options['weights_format']}) are not supported"
            )
        out_depth, in_depth = w.shape
        if x.size % in_depth or y.size != x.size // in_depth * out_depth:
            raise self.fail(op, f"input {list(x.shape)} and output {list(y.shape)} do not fit weights {list(w.shape)}")
        batches = x.size // in_depth
        prefix = f"op{op.index}"
        dims = f"{batches}, {in_depth}, {out_depth}"
        if self.dtype == "float32":
            self.check_type(op, w, "float32", "weights")
            bias = np.zeros(out_depth, np.float32) if b is None else np.asarray(b.data, np.float32).reshape(-1)
            lo, hi = self.act_range_f(op, op.options["activation"])
            self.array(f"{prefix}_weights", "float", w.data)
            self.array(f"{prefix}_bias", "float", bias)
            init = f"{{{dims}, {_float_literal(lo)}, {_float_literal(hi)}, {prefix}_weights, {prefix}_bias}}"
            self.steps.append(
                _Step(
                    op,
                    init,
                    "kws_fc_f32_params",
                    f"kws_fully_connected_f32(&{prefix}, {{in}}, {{out}});",
                    x.index,
                    y.index,
                )
            )
            return
        self.check_type(op, w, "int8", "weights")
        if b is not None:
            self.check_type(op, b, "int32", "bias")
        s_in, zp_in = self.qparams(op, x)
        s_out, zp_out = self.qparams(op, y)
        wq = w.quantization
        if wq is None or (wq.zero_point != 0).any() or wq.scale.size not in (1, out_depth):
            raise self.fail(op, "weights need symmetric per-tensor or per-channel quantization")
        mults = [quantize_multiplier(float(np.float64(s_in) * np.float64(s) / np.float64(s_out))) for s in wq.scale]
        bias = np.zeros(out_depth, np.int64) if b is None else np.asarray(b.data, np.int64).reshape(-1)
        weights = np.asarray(w.data, np.int64)
        lo, hi = self.act_range_q(op, op.options["activation"], s_out, zp_out)
        if m4_layout.fc_fast(in_depth, out_depth):
            order = self.blocked.get(self.root(x.index))  # the conv before stored its output blocked
            m4 = weights if order is None else weights[:, order]
            self.array(f"{prefix}_weights", "int8_t", weights, "reference")
            self.array(f"{prefix}_weights", "int8_t", m4_layout.fc_interleave(m4), "cortex_m4")
            self.array(f"{prefix}_bias", "int32_t", bias, "reference")
            folded = _int32(op, self, bias + (-zp_in) * weights.sum(axis=1))
            self.array(f"{prefix}_bias", "int32_t", folded, "cortex_m4")
        else:
            self.array(f"{prefix}_weights", "int8_t", weights)
            self.array(f"{prefix}_bias", "int32_t", bias)
        self.array(f"{prefix}_multiplier", "int32_t", np.array([m for m, _ in mults]))
        self.array(f"{prefix}_shift", "int32_t", np.array([s for _, s in mults]))
        init = (
            f"{{{dims}, {-zp_in}, {zp_out}, {lo}, {hi}, {int(wq.scale.size > 1)}, {prefix}_weights, "
            f"{prefix}_bias, {prefix}_multiplier, {prefix}_shift}}"
        )
        self.steps.append(
            _Step(
                op, init, "kws_fc_s8_params", f"kws_fully_connected_s8(&{prefix}, {{in}}, {{out}});", x.index, y.index
            )
        )

    def op_softmax(self, op: Operator, x: Tensor, y: Tensor) -> None:
        if not x.shape or x.shape != y.shape:
            raise self.fail(op, f"input {list(x.shape)} and output {list(y.shape)} shapes differ")
        depth = x.shape[-1]
        rows = x.size // depth
        beta = float(np.float32(op.options["beta"]))
        prefix = f"op{op.index}"
        if self.dtype == "float32":
            init = f"{{{rows}, {depth}, 0, 0, 0, {_float_literal(beta)}}}"
            self.steps.append(
                _Step(op, init, "kws_softmax_params", f"kws_softmax_f32(&{prefix}, {{in}}, {{out}});", x.index, y.index)
            )
            return
        s_in, _ = self.qparams(op, x)
        s_out, zp_out = self.qparams(op, y)
        if zp_out != -128 or np.float32(s_out) != np.float32(1 / 256):
            raise self.fail(op, f"int8 output needs scale 1/256 and zero point -128, not {s_out} and {zp_out}")
        real = min(beta * float(np.float32(s_in)) * (1 << (31 - _SOFTMAX_DIFF_BITS)), (1 << 31) - 1.0)
        if real <= 1.0:
            raise self.fail(op, f"input scale {s_in} x beta {beta} is too small for the int8 softmax")
        multiplier, left_shift = quantize_multiplier(real)
        radius = math.floor(((1 << _SOFTMAX_DIFF_BITS) - 1) * (1 << (31 - _SOFTMAX_DIFF_BITS)) / (1 << left_shift))
        init = f"{{{rows}, {depth}, {multiplier}, {left_shift}, {-radius}, 0.0f}}"
        self.steps.append(
            _Step(op, init, "kws_softmax_params", f"kws_softmax_s8(&{prefix}, {{in}}, {{out}});", x.index, y.index)
        )

    # --- memory plan --------------------------------------------------------------------------

    def root(self, index: int) -> int:
        while index in self.alias:
            index = self.alias[index]
        return index

    def plan(self, kernels: str) -> tuple[dict[int, int], int]:
        """Arena offset of every stored tensor (by alias root) and of every step's scratch buffer
        (key -1 - step index) for one kernel set, and the arena size."""
        external = {self.root(i) for i in (*self.m.inputs, *self.m.outputs)}
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        sizes: dict[int, int] = {}
        for step_index, step in enumerate(self.steps):
            for t in (self.root(step.input), self.root(step.output)):
                first.setdefault(t, step_index)
                last[t] = step_index
                if t not in external:
                    sizes[t] = self.m.tensors[t].nbytes
            if kernels in step.scratch:
                key = -1 - step_index
                first[key] = last[key] = step_index
                sizes[key] = step.scratch[kernels]
        offsets: dict[int, int] = {}
        for t in sorted(sizes, key=lambda t: (-sizes[t], first[t])):
            taken = sorted(
                (offsets[u], offsets[u] + sizes[u]) for u in offsets if first[u] <= last[t] and first[t] <= last[u]
            )
            offset = 0
            for start, end in taken:
                if offset + sizes[t] <= start:
                    break
                offset = max(offset, -(-end // ARENA_ALIGN) * ARENA_ALIGN)
            offsets[t] = offset
        arena = max((offsets[t] + sizes[t] for t in offsets), default=0)
        return offsets, -(-arena // ARENA_ALIGN) * ARENA_ALIGN

    # --- emission -----------------------------------------------------------------------------

    def buffer(self, index: int, offsets: dict[int, int], mutable: bool) -> str:
        ctype = _CTYPE[self.dtype]
        root = self.root(index)
        if root in self.m.inputs:
            return "input"
        if root in self.m.outputs:
            return "output"
        return f"({ctype} *)(arena + {offsets[root]})" if mutable else f"(const {ctype} *)(arena + {offsets[root]})"

    def program(self, kernels: str) -> tuple[int, list[str], list[str]]:
        """One kernel set's arena size, declarations (parameter structs after the arena they point
        into) and invoke body."""
        offsets, arena = self.plan(kernels)
        decls = [f"static uint8_t arena[{max(arena, ARENA_ALIGN)}] __attribute__((aligned({ARENA_ALIGN})));"]
        body = []
        for step_index, step in enumerate(self.steps):
            init = step.init(kernels)
            if init:
                init = init.replace("{scratch}", str(offsets.get(-1 - step_index, 0)))
                decls.append(f"static const {step.param_type} op{step.op.index} = {init};")
            call = step.call.format(
                **{"in": self.buffer(step.input, offsets, False), "out": self.buffer(step.output, offsets, True)}
            )
            body.append(f"    {call} /* {step.op.name} */")
        return arena, decls, body

    def emit(self, quantization: InputQuantization) -> Generated:
        programs = {k: self.program(k) for k in KERNEL_SETS}
        arenas = {k: programs[k][0] for k in KERNEL_SETS}
        name, upper = self.name, self.name.upper()
        ctype = _CTYPE[self.dtype]
        x = self.m.tensors[self.m.inputs[0]]
        y = self.m.tensors[self.m.outputs[0]]
        if quantization.dtype == "int8":
            table = quantization.table()
            self.array(f"{name}_input_table", "int8_t", table)
        weight_bytes = {k: sum(a.nbytes for a in self.arrays if a.kernels in (None, k)) for k in KERNEL_SETS}

        labels = ", ".join(f'"{label}"' for label in config.LABELS) if y.size == len(config.LABELS) else ""
        h = [
            f"/* {name}.h - generated by model/codegen.py from a .tflite model; do not edit. */",
            f"#ifndef {upper}_H",
            f"#define {upper}_H",
            "",
            "#include <stddef.h>",
            "#include <stdint.h>",
            "",
            f"typedef {ctype} {name}_value_t; /* element type of input and output */",
            "",
            f"#define {upper}_INPUT_SIZE {x.size}",
            f"#define {upper}_OUTPUT_SIZE {y.size}",
            f"#define {upper}_INPUT_DIMS {{{', '.join(map(str, x.shape))}}}",
            f"#define {upper}_OUTPUT_DIMS {{{', '.join(map(str, y.shape))}}}",
            *_per_kernel_set(
                [f"#define {upper}_ARENA_BYTES {arenas['cortex_m4']}"],
                [f"#define {upper}_ARENA_BYTES {arenas['reference']}"],
            ),
            f"#define {upper}_INT8 {int(self.dtype == 'int8')}",
        ]
        if self.dtype == "int8":
            oq = y.quantization
            h += [
                f"#define {upper}_INPUT_SCALE {_float_literal(quantization.scale)}",
                f"#define {upper}_INPUT_ZERO_POINT {quantization.zero_point}",
                f"#define {upper}_INPUT_TABLE_SIZE {table.size}",
                f"#define {upper}_OUTPUT_SCALE {_float_literal(float(oq.scale[0]))}",
                f"#define {upper}_OUTPUT_ZERO_POINT {int(oq.zero_point[0])}",
            ]
        if labels:
            h += [f"#define {upper}_NUM_LABELS {len(config.LABELS)}", f"#define {upper}_LABELS {{{labels}}}"]
        h += [
            "",
            "/* Runs the model: input and output hold INPUT_SIZE and OUTPUT_SIZE values. Returns 0. */",
            f"int {name}_invoke(const {ctype} *input, {ctype} *output);",
            "",
            "/* uint16 frontend features → model input (model/quantization.py's contract). */",
            f"void {name}_features_to_input(const uint16_t *features, {ctype} *input, size_t count);",
            "",
            f"#endif /* {upper}_H */",
            "",
        ]

        c = [
            f"/* {name}.c - generated by model/codegen.py from a .tflite model; do not edit. */",
            "#include <float.h>",
            "#include <string.h>",
            "",
            f'#include "{name}.h"',
            '#include "kws_kernels.h"',
            "",
        ]
        common = [a for a in self.arrays if a.kernels is None]
        for a in common:
            c += [f"{_declaration(a)} = {{", _c_values(a.values, a.ctype), "};", ""]
        specific = {k: [] for k in KERNEL_SETS}
        for a in self.arrays:
            if a.kernels is not None:
                specific[a.kernels] += [
                    f"{_declaration(a)} = {{",
                    _c_values(a.values, a.ctype),
                    "};",
                ]
        m4_decls, ref_decls = programs["cortex_m4"][1], programs["reference"][1]
        c += _per_kernel_set(specific["cortex_m4"] + m4_decls, specific["reference"] + ref_decls)
        c += ["", f"int {name}_invoke(const {ctype} *input, {ctype} *output)", "{"]
        c += _per_kernel_set(programs["cortex_m4"][2], programs["reference"][2])
        c += [
            "    return 0;",
            "}",
            "",
            f"void {name}_features_to_input(const uint16_t *features, {ctype} *input, size_t count)",
            "{",
            "    for (size_t i = 0; i < count; ++i) {",
        ]
        if self.dtype == "int8":
            c += [
                f"        const uint16_t f = features[i] < {table.size} ? features[i] : {table.size - 1};",
                f"        input[i] = {name}_input_table[f];",
            ]
        else:
            c += ["        input[i] = (float)features[i] * (10.0f / 256.0f);"]
        c += ["    }", "}", ""]
        return Generated(
            name,
            "\n".join(h),
            "\n".join(c),
            arenas,
            weight_bytes,
            quantization,
            x.shape,
            y.shape,
            self.dtype,
            [s.op.name for s in self.steps],
        )


def _declaration(a: _Array) -> str:
    """A constant array, word-aligned whatever its type: the Cortex-M4 kernels read int8 arrays
    with LDM, which faults on an unaligned address."""
    return f"static const {a.ctype} {a.name}[{a.values.size}] __attribute__((aligned(4)))"


def _per_kernel_set(cortex_m4: list[str], reference: list[str]) -> list[str]:
    """C lines that differ between kernel sets under #if, or once if they are the same."""
    if cortex_m4 == reference:
        return cortex_m4
    return ["#if defined(KWS_KERNELS_CORTEX_M4)", *cortex_m4, "#else", *reference, "#endif"]


def _int32(op: Operator, gen: _Generator, values: np.ndarray) -> np.ndarray:
    if (values > np.iinfo(np.int32).max).any() or (values < np.iinfo(np.int32).min).any():
        raise gen.fail(op, "folded bias overflows int32")
    return values


def generate(flatbuffer: bytes, name: str = "kws_model", path: str | Path = "<model>") -> Generated:
    """C source of a .tflite model (see the module docstring); BadInput if it is unsupported."""
    if not name.isidentifier():
        raise BadInput(None, f"model name {name!r} is not a C identifier")
    model = parse_model(flatbuffer, path)
    gen = _Generator(model, str(path), name)
    gen.lower()
    return gen.emit(InputQuantization.from_tflite(flatbuffer))


def write(generated: Generated, out_dir: Path) -> list[Path]:
    """Write the generated files into ``out_dir`` (atomically each); return their paths."""
    from model.atomic import atomic_write_text

    paths = []
    for filename, text in generated.files().items():
        path = Path(out_dir) / filename
        atomic_write_text(path, text)
        paths.append(path)
    return paths


def _c_name(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,30}", text):
        raise argparse.ArgumentTypeError(f"must be a C identifier of at most 31 characters, got {text!r}")
    return text


def run(args: argparse.Namespace) -> int:
    from model.tflite_reader import read_model

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise BadInput(out, "--out names an existing file; it must be a directory")
    _, flatbuffer = read_model(args.model)
    generated = generate(flatbuffer, args.name, args.model)
    paths = write(generated, out)
    summary = {**generated.summary(), "files": [str(p) for p in paths]}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"wrote {', '.join(str(p) for p in paths)}")
        print(
            f"ops: {' → '.join(generated.ops)}; arena {generated.arena_bytes['reference']:,} / "
            f"{generated.arena_bytes['cortex_m4']:,} bytes, const data {generated.weight_bytes['reference']:,} / "
            f"{generated.weight_bytes['cortex_m4']:,} bytes (reference / cortex_m4 kernels)"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "codegen",
        help="generate C source (weights, static arena, invoke function) from a .tflite model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, metavar="FILE.tflite", help="an int8 or float32 model")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for <name>.h and <name>.c")
    parser.add_argument("--name", type=_c_name, default="kws_model", help="C name prefix (default kws_model)")
    parser.add_argument("--json", action="store_true", help="print a summary as JSON")
    parser.set_defaults(func=run)
