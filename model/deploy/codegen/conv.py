"""CONV_2D (and the convolution DEPTHWISE_CONV_2D shares): NHWC, batch 1, any stride, dilation
and padding, fused activation; int8 (kws_conv2d_s8) or float32 (kws_conv2d_f32).

int4 filters (TFLite's INT4) stay packed two per byte and go to the _s4 kernels. int8 and int4
layers the Cortex-M4 kernel takes (a one-channel input, 8 taps wide, stride 2; see
:mod:`model.deploy.codegen.m4_layout`) get a second, Cortex-M4 layout of their constants: input
offsets folded into the biases, weights as SMLAD pairs, and the requantization shortcut where
it is proven exact. When a FULLY_CONNECTED alone reads the output, the conv stores it blocked
and the FC's weight columns are permuted to match.
"""

from __future__ import annotations

import numpy as np

from model.deploy.codegen import m4_layout
from model.deploy.codegen.lowering import Lowering, Step
from model.deploy.codegen.requantize import (
    activation_range_f,
    activation_range_q,
    channel_multipliers,
    float_literal,
)
from model.deploy.tflite_reader import Operator, Tensor

#: kws_conv_geometry's fields in order
GEOMETRY_FIELDS = (
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


def _channels(g: Lowering, op: Operator, x: Tensor, w: Tensor, y: Tensor, depthwise: bool) -> dict[str, int]:
    """Shapes of input, filter and output, checked against each other."""
    if len(x.shape) != 4 or len(y.shape) != 4 or len(w.shape) != 4 or x.shape[0] != 1 or y.shape[0] != 1:
        raise g.fail(op, f"needs 4-D NHWC tensors with batch 1 (input {list(x.shape)}, output {list(y.shape)})")
    _, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    if depthwise:
        _, k_h, k_w, w_c = w.shape
        multiplier = op.options["depth_multiplier"]
        if w_c != out_c or in_c * multiplier != out_c:
            raise g.fail(op, f"depthwise shapes: input {in_c} channels x {multiplier} != output {out_c}")
    else:
        w_out, k_h, k_w, w_in = w.shape
        multiplier = 1
        if w_out != out_c or w_in != in_c:
            raise g.fail(op, f"filter shape {list(w.shape)} does not fit {in_c} → {out_c} channels")
    return dict(in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c, k_h=k_h, k_w=k_w,
                depth_multiplier=multiplier)  # fmt: skip


def geometry(g: Lowering, op: Operator, x: Tensor, w: Tensor, y: Tensor, depthwise: bool) -> dict[str, int]:
    """kws_conv_geometry of a convolution, with TFLite's SAME/VALID output sizes and padding."""
    o = op.options
    shape = _channels(g, op, x, w, y, depthwise)
    if o["stride_h"] < 1 or o["stride_w"] < 1 or o["dilation_h"] < 1 or o["dilation_w"] < 1:
        raise g.fail(op, "strides and dilations must be positive")
    pad_top = padding_before(g, op, shape["in_h"], shape["out_h"], shape["k_h"], o["stride_h"], o["dilation_h"])
    pad_left = padding_before(g, op, shape["in_w"], shape["out_w"], shape["k_w"], o["stride_w"], o["dilation_w"])
    strides = {key: o[key] for key in ("stride_h", "stride_w", "dilation_h", "dilation_w")}
    return {**shape, **strides, "pad_top": pad_top, "pad_left": pad_left}


def padding_before(g: Lowering, op: Operator, size: int, out: int, k: int, stride: int, dilation: int = 1) -> int:
    """The padding above (or left of) one dimension of a convolution or pooling, after checking
    that its output size follows from TFLite's SAME or VALID rule (``op.options["padding"]``)."""
    padding = op.options["padding"]
    effective = (k - 1) * dilation + 1
    expected = (size + stride - 1) // stride if padding == "SAME" else (size - effective + stride) // stride
    if expected != out:
        raise g.fail(op, f"output size {out} does not follow from input {size}, kernel {k}, {padding}")
    return max((out - 1) * stride + effective - size, 0) // 2


def c_geometry(geo: dict[str, int]) -> str:
    return "{" + ", ".join(str(geo[k]) for k in GEOMETRY_FIELDS) + "}"


def fc_consumer(g: Lowering, y: Tensor) -> Operator | None:
    """The FULLY_CONNECTED that alone reads a conv output ``y`` (maybe through one RESHAPE), with
    batch 1 and its cortex_m4 fast path: then the conv may store its output in any order."""
    reader = y
    users = g.consumers(reader.index)
    if len(users) == 1 and users[0].name == "RESHAPE" and reader.index not in g.m.outputs:
        reader = g.m.tensors[users[0].outputs[0]]
        users = g.consumers(reader.index)
    if reader.index in g.m.outputs or len(users) != 1 or users[0].name != "FULLY_CONNECTED":
        return None
    fc = users[0]
    w = g.m.tensors[fc.inputs[1]] if len(fc.inputs) > 1 and fc.inputs[1] >= 0 else None
    if fc.inputs[0] != reader.index or w is None or len(w.shape) != 2 or w.shape[1] != y.size:
        return None
    return fc if m4_layout.fc_fast(w.shape[1], w.shape[0]) else None


def lower_conv(g: Lowering, op: Operator, x: Tensor, y: Tensor, *, depthwise: bool) -> None:
    """A convolution, plain or depthwise, with a fused PAD before it taken in."""
    w = g.tensor(op, 1, const=True)
    b = g.tensor(op, 2, const=True, optional=True)
    geo = geometry(g, op, x, w, y, depthwise)
    if x.index in g.fused_pads:
        x, geo["pad_top"], geo["pad_left"] = g.fused_pads[x.index]
        geo["in_h"], geo["in_w"] = x.shape[1], x.shape[2]
    kernel = "kws_depthwise_conv2d" if depthwise else "kws_conv2d"
    if x.dtype == "float32":
        _float(g, op, x, w, b, y, geo, kernel)
    else:
        _int8(g, op, x, w, b, y, geo, kernel, depthwise)


def lower(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> None:
    lower_conv(g, op, x, y, depthwise=False)


def _float(
    g: Lowering, op: Operator, x: Tensor, w: Tensor, b: Tensor | None, y: Tensor, geo: dict, kernel: str
) -> None:
    g.check_type(op, w, "float32", "filter")
    prefix = f"op{op.index}"
    bias = np.zeros(geo["out_c"], np.float32) if b is None else np.asarray(b.data, np.float32).reshape(-1)
    clamp = activation_range_f(op.options["activation"])
    if clamp is None:
        raise g.fail(op, f"fused activation {op.options['activation']} is not supported")
    g.array(f"{prefix}_weights", "float", w.data)
    g.array(f"{prefix}_bias", "float", bias)
    init = (
        f"{{{c_geometry(geo)}, {float_literal(clamp[0])}, {float_literal(clamp[1])}, {prefix}_weights, {prefix}_bias}}"
    )
    g.steps.append(
        Step(op, init, "kws_conv_f32_params", f"{kernel}_f32(&{prefix}, {{in}}, {{out}});", x.index, y.index)
    )


def _int8(
    g: Lowering,
    op: Operator,
    x: Tensor,
    w: Tensor,
    b: Tensor | None,
    y: Tensor,
    geo: dict,
    kernel: str,
    depthwise: bool,
) -> None:
    g.check_type(op, w, ("int8", "int4"), "filter")
    if b is not None:
        g.check_type(op, b, "int32", "bias")
    s_in, zp_in = g.qparams(op, x)
    s_out, zp_out = g.qparams(op, y)
    out_c, prefix = geo["out_c"], f"op{op.index}"
    wq = w.quantization
    if wq is None or (wq.zero_point != 0).any() or wq.scale.size not in (1, out_c):
        raise g.fail(op, "filter needs symmetric per-tensor or per-channel quantization")
    mults = channel_multipliers(s_in, np.broadcast_to(wq.scale, (out_c,)), s_out)
    bias = np.zeros(out_c, np.int64) if b is None else np.asarray(b.data, np.int64).reshape(-1)
    clamp = activation_range_q(op.options["activation"], s_out, zp_out)
    if clamp is None:
        raise g.fail(op, f"fused activation {op.options['activation']} is not supported")
    weights = np.asarray(w.data, np.int64)
    fast = _m4(g, op, geo, weights, bias, mults, (zp_in, zp_out), clamp, depthwise, y, w.dtype == "int4")
    only = None if fast is None else "reference"  # with a fast layout, the reference data is reference-only
    g.array(f"{prefix}_multiplier", "int32_t", np.array([m for m, _ in mults]), only)
    g.array(f"{prefix}_shift", "int32_t", np.array([s for _, s in mults]), only)
    suffix = g.weights(f"{prefix}_weights", w, only)
    reference = (
        f"{{{c_geometry(geo)}, {-zp_in}, {zp_out}, {clamp[0]}, {clamp[1]}, "
        f"{prefix}_weights, {prefix}_bias, {prefix}_multiplier, {prefix}_shift, NULL, 0, 0, 0}}"
    )
    g.array(f"{prefix}_bias", "int32_t", bias, only)
    params = reference if fast is None else {"reference": reference, "cortex_m4": fast[0]}
    scratch = {} if fast is None else {"cortex_m4": fast[1]}
    call = f"{kernel}_{suffix}(&{prefix}, {{in}}, {{out}});"
    g.steps.append(Step(op, params, "kws_conv_s8_params", call, x.index, y.index, scratch))


def _m4(
    g: Lowering,
    op: Operator,
    geo: dict[str, int],
    weights: np.ndarray,
    bias: np.ndarray,
    mults: list[tuple[int, int]],
    zero_points: tuple[int, int],
    clamp: tuple[int, int],
    depthwise: bool,
    y: Tensor,
    int4: bool,
) -> tuple[str, int] | None:
    """The cortex_m4 fast conv's constants and parameter initializer, with its scratch bytes,
    or None when the layer does not fit it (then both kernel sets share reference data).
    ``int4``: the weights stay packed, one word per kernel row (m4_layout.conv_stream_s4)."""
    if not m4_layout.conv_fast(geo):
        return None
    out_c, prefix = geo["out_c"], f"op{op.index}"
    zp_in, zp_out = zero_points
    kernel_shape = (geo["k_h"], geo["k_w"], out_c) if depthwise else (out_c, geo["k_h"], geo["k_w"])
    per_channel = weights.reshape(kernel_shape)
    per_channel = per_channel.transpose(2, 0, 1) if depthwise else per_channel
    flat = per_channel.reshape(out_c, -1)
    folded = bias + (-zp_in) * flat.sum(axis=1)
    fits = m4_layout.fits_sixteenfold if int4 else m4_layout.fits_doubled
    chosen = m4_layout.conv_requant(flat, folded, mults, (zp_out, *clamp), fits)
    if chosen is None:
        return None
    start, requant = chosen
    multipliers, shifts = [m for m, _ in mults], [s for _, s in mults]
    stream = m4_layout.conv_stream_s4 if int4 else m4_layout.conv_stream
    g.array(f"{prefix}_weights", "int32_t", stream(per_channel, start, multipliers, shifts, requant), "cortex_m4")
    blocked = fc_consumer(g, y) is not None
    if blocked:
        g.blocked[y.index] = m4_layout.blocked_order(geo["out_h"], geo["out_w"], out_c)
    rows = m4_layout.scratch_rows(geo)
    init = (
        f"{{{c_geometry(geo)}, {-zp_in}, {zp_out}, {clamp[0]}, {clamp[1]}, {prefix}_weights, NULL, NULL, NULL, "
        f"(int32_t *)(arena + {{scratch}}), {rows}, {int(blocked)}, {int(requant is not None)}}}"
    )
    return init, rows * m4_layout.STRIP_WORDS * 4
