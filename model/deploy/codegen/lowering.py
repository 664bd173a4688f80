"""The graph walk: checks every op against what the kernels handle and lowers it to kernel calls.

:class:`Lowering` holds what the op modules build: constant arrays, kernel-call steps, tensor
aliases (RESHAPE), fused PADs and the conv outputs the Cortex-M4 kernels store blocked. Each op
module registers one function, ``lower(lowering, op, x, y)``, in :data:`OPS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from model.deploy.tflite_reader import Model, Operator, Tensor
from model.errors import BadInput

#: C element type of each model dtype the kernels handle.
CTYPES = {"int8": "int8_t", "float32": "float"}
#: Ops whose input and output types differ (float32 <-> int8); they check their types themselves.
CONVERTING_OPS = ("QUANTIZE", "DEQUANTIZE")


@dataclass
class Array:
    """A constant array in flash, for both kernel sets or only one."""

    name: str
    ctype: str
    values: np.ndarray
    kernels: str | None = None  # None: both kernel sets; else only that set

    @property
    def nbytes(self) -> int:
        sizes = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "int32_t": 4, "uint32_t": 4, "float": 4}
        return int(self.values.size * sizes[self.ctype])


@dataclass
class Step:
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


class Lowering:
    """One model on its way to C: the op modules add arrays and steps through it."""

    def __init__(self, model: Model, path: str, weights: str = "dense") -> None:
        self.m = model
        self.path = path
        self.weights_format = weights  # kws codegen --weights (model/deploy/codegen/sparse.py)
        self.dtype = ""
        self.arrays: list[Array] = []
        self.steps: list[Step] = []
        self.alias: dict[int, int] = {}  # RESHAPE output → the tensor whose storage it shares
        # PAD output → (PAD input, pad top, pad left) when a convolution does the padding itself
        self.fused_pads: dict[int, tuple[Tensor, int, int]] = {}
        # conv output (alias root) whose cortex_m4 layout is blocked → NHWC index of each position
        self.blocked: dict[int, np.ndarray] = {}

    def fail(self, op: Operator | None, reason: str) -> BadInput:
        where = f"operator {op.index} ({op.name}): " if op is not None else ""
        return BadInput(self.path, where + reason)

    def tensor(self, op: Operator, position: int, *, const: bool = False, optional: bool = False) -> Tensor | None:
        """Input ``position`` of ``op``: constant or computed as asked, BadInput otherwise."""
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

    def check_type(self, op: Operator, t: Tensor, dtype: str | tuple[str, ...], what: str) -> None:
        allowed = (dtype,) if isinstance(dtype, str) else dtype
        if t.dtype not in allowed:
            raise self.fail(op, f"{what} {t.name!r} has type {t.dtype}; this model needs {' or '.join(allowed)}")

    def weights(self, name: str, w: Tensor, kernels: str | None = None) -> str:
        """A filter as the reference kernels read it: int8 values, or an int4 tensor's packed bytes
        (TFLite's order: element 2i in the low nibble); returns the kernels' suffix, s8 or s4."""
        if w.dtype == "int4":
            self.array(name, "uint8_t", w.packed, kernels)
            return "s4"
        self.array(name, "int8_t", np.asarray(w.data, np.int64), kernels)
        return "s8"

    def qparams(self, op: Operator, t: Tensor) -> tuple[float, int]:
        """Scale and zero point of a per-tensor quantized tensor."""
        q = t.quantization
        if q is None or q.scale.size != 1:
            raise self.fail(op, f"tensor {t.name!r} needs per-tensor quantization")
        scale = float(q.scale[0])
        if not (np.isfinite(scale) and scale > 0):
            raise self.fail(op, f"tensor {t.name!r} has scale {scale}; a positive finite one is needed")
        return scale, int(q.zero_point[0])

    def consumers(self, index: int) -> list[Operator]:
        return [op for op in self.m.operators if index in op.inputs]

    def array(self, name: str, ctype: str, values: np.ndarray, kernels: str | None = None) -> str:
        if ctype == "float" and not np.isfinite(values).all():
            raise self.fail(None, f"constant {name} holds non-finite values")
        self.arrays.append(Array(name, ctype, np.asarray(values), kernels))
        return name

    def root(self, index: int) -> int:
        """The tensor whose storage ``index`` shares (itself unless a RESHAPE aliased it)."""
        while index in self.alias:
            index = self.alias[index]
        return index

    def check_graph(self) -> None:
        """One input and one output of the same type the kernels handle, and some operators."""
        m = self.m
        if len(m.inputs) != 1 or len(m.outputs) != 1:
            raise self.fail(None, f"{len(m.inputs)} inputs and {len(m.outputs)} outputs; one of each is supported")
        self.dtype = m.tensors[m.inputs[0]].dtype
        if self.dtype not in CTYPES:
            raise self.fail(None, f"model input type {self.dtype} is not supported (int8 or float32)")
        if m.tensors[m.outputs[0]].dtype != self.dtype:
            raise self.fail(None, f"model output type {m.tensors[m.outputs[0]].dtype} differs from its input's")
        if not m.operators:
            raise self.fail(None, "the model has no operators")

    def lower(self, ops: dict[str, Callable[[Lowering, Operator, Tensor, Tensor], None]]) -> None:
        """Every operator, in order, through the op module registered for its name in ``ops``."""
        self.check_graph()
        for op in self.m.operators:
            if op.name not in ops:
                raise self.fail(op, f"unsupported operator (supported: {', '.join(ops)})")
            x = self.tensor(op, 0)
            y = self.out(op)
            if op.name not in CONVERTING_OPS:  # the rest compute in one type: int8 or float32
                self.check_type(op, x, tuple(CTYPES), "input")
                self.check_type(op, y, x.dtype, "output")
            ops[op.name](self, op, x, y)
