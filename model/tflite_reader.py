"""A minimal reader of TFLite flatbuffers: what the code generator needs, without TensorFlow.

Reads the tensors (shape, type, constant data, quantization), the operators of the first subgraph
(builtin code, inputs, outputs and the options of the ops the generator knows) and the model's
inputs and outputs. Field numbers follow TFLite's ``schema.fbs``. Anything malformed raises
``BadInput`` naming the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.errors import BadInput

#: TensorType → numpy dtype (the types a TinyConv-family model can hold).
TENSOR_TYPES: dict[int, str] = {
    0: "float32",
    1: "float16",
    2: "int32",
    3: "uint8",
    4: "int64",
    6: "bool",
    7: "int16",
    9: "int8",
    10: "float64",
    15: "uint32",
    16: "uint16",
}
#: BuiltinOperator codes → names, for the ops generated here and for readable errors about others.
BUILTIN_OPS: dict[int, str] = {
    0: "ADD",
    1: "AVERAGE_POOL_2D",
    2: "CONCATENATION",
    3: "CONV_2D",
    4: "DEPTHWISE_CONV_2D",
    6: "DEQUANTIZE",
    9: "FULLY_CONNECTED",
    14: "LOGISTIC",
    17: "MAX_POOL_2D",
    18: "MUL",
    19: "RELU",
    21: "RELU6",
    22: "RESHAPE",
    25: "SOFTMAX",
    28: "TANH",
    32: "CUSTOM",
    34: "PAD",
    39: "TRANSPOSE",
    40: "MEAN",
    41: "SUB",
    45: "SQUEEZE",
    49: "STRIDED_SLICE",
    50: "LOG_SOFTMAX",
    60: "PADV2",
    67: "TRANSPOSE_CONV",
    97: "LEAKY_RELU",
    114: "QUANTIZE",
    126: "BATCH_MATMUL",
}
#: ActivationFunctionType → name.
ACTIVATIONS: dict[int, str] = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
_PADDING = {0: "SAME", 1: "VALID"}


def op_name(code: int) -> str:
    return BUILTIN_OPS.get(code, f"builtin operator {code}")


@dataclass(frozen=True)
class Quantization:
    scale: np.ndarray  # float32, one per tensor or per channel
    zero_point: np.ndarray  # int64, same length
    dimension: int  # the quantized (channel) dimension of a per-channel tensor


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    data: np.ndarray | None  # constant contents (weights, biases, shapes), shaped; None for activations
    quantization: Quantization | None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize


@dataclass
class Operator:
    index: int
    code: int
    inputs: tuple[int, ...]  # tensor indices; -1 for an omitted optional input
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return op_name(self.code)


@dataclass
class Model:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


class _Table:
    """A flatbuffer table at ``pos`` of ``buf``: fields by number, with bounds checks."""

    def __init__(self, reader: _Reader, pos: int) -> None:
        self.r = reader
        self.pos = pos
        vtable = pos - reader.i32(pos)
        self.vsize = reader.u16(vtable)
        self.vtable = vtable

    def _offset(self, number: int) -> int:
        slot = 4 + 2 * number
        return self.r.u16(self.vtable + slot) if slot < self.vsize else 0

    def scalar(self, number: int, fmt: str, default: Any = 0) -> Any:
        off = self._offset(number)
        return self.r.unpack(fmt, self.pos + off) if off else default

    def _indirect(self, number: int) -> int | None:
        off = self._offset(number)
        if not off:
            return None
        at = self.pos + off
        return at + self.r.u32(at)

    def table(self, number: int) -> _Table | None:
        at = self._indirect(number)
        return None if at is None else _Table(self.r, at)

    def vector(self, number: int, fmt: str) -> tuple:
        at = self._indirect(number)
        if at is None:
            return ()
        n = self.r.u32(at)
        size = struct.calcsize(fmt)
        self.r.check(at + 4, n * size)
        return struct.unpack_from(f"<{n}{fmt}", self.r.buf, at + 4)

    def bytes(self, number: int) -> bytes:
        at = self._indirect(number)
        if at is None:
            return b""
        n = self.r.u32(at)
        self.r.check(at + 4, n)
        return bytes(self.r.buf[at + 4 : at + 4 + n])

    def string(self, number: int) -> str:
        return self.bytes(number).decode("utf-8", errors="replace")

    def tables(self, number: int) -> list[_Table]:
        at = self._indirect(number)
        if at is None:
            return []
        n = self.r.u32(at)
        self.r.check(at + 4, 4 * n)
        return [_Table(self.r, at + 4 + 4 * i + self.r.u32(at + 4 + 4 * i)) for i in range(n)]


class _Reader:
    def __init__(self, buf: bytes, path: str) -> None:
        self.buf = buf
        self.path = path

    def check(self, pos: int, size: int) -> None:
        if pos < 0 or pos + size > len(self.buf):
            raise BadInput(self.path, "malformed TFLite flatbuffer (offset out of range)")

    def unpack(self, fmt: str, pos: int) -> Any:
        self.check(pos, struct.calcsize(fmt))
        return struct.unpack_from("<" + fmt, self.buf, pos)[0]

    def u16(self, pos: int) -> int:
        return self.unpack("H", pos)

    def u32(self, pos: int) -> int:
        return self.unpack("I", pos)

    def i32(self, pos: int) -> int:
        return self.unpack("i", pos)


def _options(op_code: int, table: _Table | None) -> dict[str, Any]:
    """The builtin options of the ops the generator handles (defaults per schema.fbs)."""
    t = table
    if op_code == 3:  # Conv2DOptions
        return {
            "padding": _PADDING.get(t.scalar(0, "b") if t else 0, "?"),
            "stride_w": t.scalar(1, "i") if t else 0,
            "stride_h": t.scalar(2, "i") if t else 0,
            "activation": ACTIVATIONS.get(t.scalar(3, "b") if t else 0, "?"),
            "dilation_w": t.scalar(4, "i", 1) if t else 1,
            "dilation_h": t.scalar(5, "i", 1) if t else 1,
        }
    if op_code == 4:  # DepthwiseConv2DOptions
        return {
            "padding": _PADDING.get(t.scalar(0, "b") if t else 0, "?"),
            "stride_w": t.scalar(1, "i") if t else 0,
            "stride_h": t.scalar(2, "i") if t else 0,
            "depth_multiplier": t.scalar(3, "i") if t else 0,
            "activation": ACTIVATIONS.get(t.scalar(4, "b") if t else 0, "?"),
            "dilation_w": t.scalar(5, "i", 1) if t else 1,
            "dilation_h": t.scalar(6, "i", 1) if t else 1,
        }
    if op_code == 9:  # FullyConnectedOptions
        return {
            "activation": ACTIVATIONS.get(t.scalar(0, "b") if t else 0, "?"),
            "weights_format": t.scalar(1, "b") if t else 0,
            "keep_num_dims": bool(t.scalar(2, "B")) if t else False,
        }
    if op_code == 25:  # SoftmaxOptions
        return {"beta": t.scalar(0, "f", 0.0) if t else 0.0}
    return {}


def parse_model(buf: bytes, path: str | Path = "<model>") -> Model:
    """Parse a .tflite flatbuffer held in ``buf``; ``path`` names it in errors."""
    path = str(path)
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise BadInput(path, "not a TFLite flatbuffer (no TFL3 identifier)")
    reader = _Reader(buf, path)
    try:
        root = _Table(reader, reader.u32(0))
        buffers = root.tables(4)
        codes = []
        for code in root.tables(1):
            deprecated = code.scalar(0, "b")
            codes.append(max(deprecated, code.scalar(3, "i")))
        subgraphs = root.tables(2)
        if len(subgraphs) != 1:
            raise BadInput(path, f"{len(subgraphs)} subgraphs; only single-subgraph models are supported")
        graph = subgraphs[0]
        tensors = []
        for index, t in enumerate(graph.tables(0)):
            type_code = t.scalar(1, "b")
            if type_code not in TENSOR_TYPES:
                raise BadInput(path, f"tensor {index} has unsupported type code {type_code}")
            dtype = TENSOR_TYPES[type_code]
            shape = tuple(int(d) for d in t.vector(0, "i"))
            buffer_index = t.scalar(2, "I")
            data = None
            if 0 < buffer_index < len(buffers):
                raw = buffers[buffer_index].bytes(0)
                if buffers[buffer_index].scalar(1, "Q") > 1:
                    raise BadInput(path, f"tensor {index} keeps its data outside the flatbuffer (unsupported)")
                if raw:
                    data = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
                    if data.size != int(np.prod(shape, dtype=np.int64)):
                        raise BadInput(path, f"tensor {index} has {data.size} values for shape {list(shape)}")
                    data = data.reshape(shape)
            quantization = None
            q = t.table(4)
            if q is not None:
                scale = np.array(q.vector(2, "f"), dtype=np.float32)
                if scale.size:
                    zero_point = np.array(q.vector(3, "q"), dtype=np.int64)
                    if zero_point.size == 0:
                        zero_point = np.zeros(scale.size, dtype=np.int64)
                    quantization = Quantization(scale, zero_point, q.scalar(6, "i"))
            tensors.append(Tensor(index, t.string(3), shape, dtype, data, quantization))
        operators = []
        for index, op in enumerate(graph.tables(3)):
            opcode_index = op.scalar(0, "I")
            if opcode_index >= len(codes):
                raise BadInput(path, f"operator {index} refers to missing operator code {opcode_index}")
            code = codes[opcode_index]
            operators.append(Operator(index, code, op.vector(1, "i"), op.vector(2, "i"), _options(code, op.table(4))))
        for op in operators:
            for i in (*op.inputs, *op.outputs):
                if i >= len(tensors) or i < -1:
                    raise BadInput(path, f"operator {op.index} ({op.name}) refers to missing tensor {i}")
        return Model(tensors, operators, graph.vector(1, "i"), graph.vector(2, "i"))
    except struct.error:
        raise BadInput(path, "malformed TFLite flatbuffer") from None


def read_model(path: str | Path) -> tuple[Model, bytes]:
    """Parse the .tflite file at ``path``; return the model and the file's bytes."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "no such model file")
    buf = path.read_bytes()
    return parse_model(buf, path), buf
