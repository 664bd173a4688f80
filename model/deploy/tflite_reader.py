"""The TFLite flatbuffers the code generator reads, through the classes generated from TFLite's
``schema.fbs`` by flatc (the ``tflite`` package ships them), without TensorFlow.

Reads the tensors (shape, type, constant data, quantization; INT4 constants unpacked to int8
values, their packed bytes kept beside), the operators of the one subgraph
(builtin code, inputs, outputs and the options of the ops the generator knows) and the model's
inputs and outputs into plain dataclasses. Generated accessors trust the bytes they are given, so
every count and offset is checked against the buffer first: anything malformed raises
``BadInput`` naming the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tflite

from model.deploy.int4 import pack_int4, unpack_int4
from model.errors import BadInput


def _names(enum: type) -> dict[int, str]:
    """Value → name of a generated schema enum (a class of int constants)."""
    return {value: name for name, value in vars(enum).items() if name.isupper() and isinstance(value, int)}


#: TensorType → numpy dtype, for the types numpy can hold as they are stored.
TENSOR_TYPES: dict[int, str] = {
    code: name.lower()
    for code, name in _names(tflite.TensorType).items()
    if name in ("FLOAT32", "FLOAT16", "FLOAT64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "BOOL")
}
BUILTIN_OPS: dict[int, str] = _names(tflite.BuiltinOperator)
ACTIVATIONS: dict[int, str] = _names(tflite.ActivationFunctionType)
_PADDING: dict[int, str] = _names(tflite.Padding)
#: TensorType.INT4: two values per byte (model.deploy.int4), read as int8 values
INT4 = 17
TENSOR_TYPES[INT4] = "int4"


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
    packed: np.ndarray | None = None  # an int4 constant packed as TFLite stores it (uint8); data: its values

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        if self.dtype == "int4":
            return (self.size + 1) // 2
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


class _Checked:
    """Bounds checks for the generated accessors, which read whatever offsets the bytes hold."""

    def __init__(self, buf: bytes, path: str) -> None:
        self.buf = buf
        self.path = path

    def fail(self, reason: str = "offset out of range") -> BadInput:
        return BadInput(self.path, f"malformed TFLite flatbuffer ({reason})")

    def count(self, n: int, item_bytes: int = 4) -> int:
        """A vector length that fits in the file (a damaged one could claim billions of entries)."""
        if not 0 <= n * item_bytes <= len(self.buf):
            raise self.fail(f"a vector claims {n} entries")
        return n

    def array(self, values: Any) -> np.ndarray:
        """A generated ``...AsNumpy()`` result: 0 when the vector is absent."""
        return np.zeros(0, dtype=np.int32) if isinstance(values, int) else values


def _conv(o: tflite.Conv2DOptions) -> dict[str, Any]:
    return {
        "padding": _PADDING.get(o.Padding(), "?"),
        "stride_w": o.StrideW(),
        "stride_h": o.StrideH(),
        "activation": ACTIVATIONS.get(o.FusedActivationFunction(), "?"),
        "dilation_w": o.DilationWFactor(),
        "dilation_h": o.DilationHFactor(),
    }


def _depthwise(o: tflite.DepthwiseConv2DOptions) -> dict[str, Any]:
    return {
        "padding": _PADDING.get(o.Padding(), "?"),
        "stride_w": o.StrideW(),
        "stride_h": o.StrideH(),
        "depth_multiplier": o.DepthMultiplier(),
        "activation": ACTIVATIONS.get(o.FusedActivationFunction(), "?"),
        "dilation_w": o.DilationWFactor(),
        "dilation_h": o.DilationHFactor(),
    }


def _fully_connected(o: tflite.FullyConnectedOptions) -> dict[str, Any]:
    return {
        "activation": ACTIVATIONS.get(o.FusedActivationFunction(), "?"),
        "weights_format": o.WeightsFormat(),
        "keep_num_dims": bool(o.KeepNumDims()),
    }


def _pool(o: tflite.Pool2DOptions) -> dict[str, Any]:
    return {
        "padding": _PADDING.get(o.Padding(), "?"),
        "stride_w": o.StrideW(),
        "stride_h": o.StrideH(),
        "filter_w": o.FilterWidth(),
        "filter_h": o.FilterHeight(),
        "activation": ACTIVATIONS.get(o.FusedActivationFunction(), "?"),
    }


#: Builtin code → (options table type, its generated class, what the generator reads of it).
_OPTIONS: dict[int, tuple[int, type, Callable[[Any], dict[str, Any]]]] = {
    tflite.BuiltinOperator.CONV_2D: (tflite.BuiltinOptions.Conv2DOptions, tflite.Conv2DOptions, _conv),
    tflite.BuiltinOperator.DEPTHWISE_CONV_2D: (
        tflite.BuiltinOptions.DepthwiseConv2DOptions,
        tflite.DepthwiseConv2DOptions,
        _depthwise,
    ),
    tflite.BuiltinOperator.FULLY_CONNECTED: (
        tflite.BuiltinOptions.FullyConnectedOptions,
        tflite.FullyConnectedOptions,
        _fully_connected,
    ),
    tflite.BuiltinOperator.MAX_POOL_2D: (tflite.BuiltinOptions.Pool2DOptions, tflite.Pool2DOptions, _pool),
    tflite.BuiltinOperator.AVERAGE_POOL_2D: (tflite.BuiltinOptions.Pool2DOptions, tflite.Pool2DOptions, _pool),
    tflite.BuiltinOperator.SOFTMAX: (
        tflite.BuiltinOptions.SoftmaxOptions,
        tflite.SoftmaxOptions,
        lambda o: {"beta": o.Beta()},
    ),
}


def _options(code: int, op: tflite.Operator) -> dict[str, Any]:
    """The builtin options of the ops the generator handles; schema defaults when absent."""
    if code not in _OPTIONS:
        return {}
    kind, cls, read = _OPTIONS[code]
    table = op.BuiltinOptions() if op.BuiltinOptionsType() == kind else None
    options = cls()
    if table is None:  # an empty table: every field reads its schema default
        options.Init(bytearray(b"\x04\x00\x04\x00\x04\x00\x00\x00"), 4)
    else:
        options.Init(table.Bytes, table.Pos)
    return read(options)


def _op_codes(model: tflite.Model, c: _Checked) -> list[int]:
    codes = []
    for i in range(c.count(model.OperatorCodesLength())):
        code = model.OperatorCodes(i)
        codes.append(max(code.DeprecatedBuiltinCode(), code.BuiltinCode()))
    return codes


def _constant(model: tflite.Model, t: tflite.Tensor, index: int, dtype: str, c: _Checked) -> np.ndarray | None:
    """A tensor's constant contents, shaped; None for activations (buffer 0 or an empty buffer)."""
    buffer_index = t.Buffer()
    if not 0 < buffer_index < c.count(model.BuffersLength()):
        return None
    buffer = model.Buffers(buffer_index)
    if buffer.Offset() > 1:
        raise BadInput(c.path, f"tensor {index} keeps its data outside the flatbuffer (unsupported)")
    raw = c.array(buffer.DataAsNumpy())
    if raw.size == 0:
        return None
    shape = tuple(int(d) for d in c.array(t.ShapeAsNumpy()))
    if dtype == "int4":
        count = int(np.prod(shape, dtype=np.int64))
        if raw.size != (count + 1) // 2:
            raise BadInput(c.path, f"tensor {index} has {raw.size} bytes for {count} int4 values")
        return unpack_int4(raw, count).reshape(shape)
    data = np.frombuffer(raw.tobytes(), dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
    if data.size != int(np.prod(shape, dtype=np.int64)):
        raise BadInput(c.path, f"tensor {index} has {data.size} values for shape {list(shape)}")
    return data.reshape(shape)


def _quantization(t: tflite.Tensor, c: _Checked) -> Quantization | None:
    q = t.Quantization()
    if q is None:
        return None
    scale = c.array(q.ScaleAsNumpy()).astype(np.float32)
    if scale.size == 0:
        return None
    zero_point = c.array(q.ZeroPointAsNumpy()).astype(np.int64)
    if zero_point.size == 0:
        zero_point = np.zeros(scale.size, dtype=np.int64)
    return Quantization(scale, zero_point, q.QuantizedDimension())


def _tensors(model: tflite.Model, graph: tflite.SubGraph, c: _Checked) -> list[Tensor]:
    tensors = []
    for index in range(c.count(graph.TensorsLength())):
        t = graph.Tensors(index)
        if t.Type() not in TENSOR_TYPES:
            name = _names(tflite.TensorType).get(t.Type(), str(t.Type()))
            raise BadInput(c.path, f"tensor {index} has unsupported type {name}")
        dtype = TENSOR_TYPES[t.Type()]
        shape = tuple(int(d) for d in c.array(t.ShapeAsNumpy()))
        name = (t.Name() or b"").decode("utf-8", errors="replace")
        data = _constant(model, t, index, dtype, c)
        tensor = Tensor(index, name, shape, dtype, data, _quantization(t, c))
        if dtype == "int4" and data is not None:
            tensor.packed = pack_int4(data)
        tensors.append(tensor)
    return tensors


def _operators(graph: tflite.SubGraph, codes: list[int], n_tensors: int, c: _Checked) -> list[Operator]:
    operators = []
    for index in range(c.count(graph.OperatorsLength())):
        op = graph.Operators(index)
        if op.OpcodeIndex() >= len(codes):
            raise BadInput(c.path, f"operator {index} refers to missing operator code {op.OpcodeIndex()}")
        code = codes[op.OpcodeIndex()]
        inputs = tuple(int(i) for i in c.array(op.InputsAsNumpy()))
        outputs = tuple(int(i) for i in c.array(op.OutputsAsNumpy()))
        operator = Operator(index, code, inputs, outputs, _options(code, op))
        if any(not -1 <= i < n_tensors for i in (*inputs, *outputs)):
            missing = next(i for i in (*inputs, *outputs) if not -1 <= i < n_tensors)
            raise BadInput(c.path, f"operator {index} ({operator.name}) refers to missing tensor {missing}")
        operators.append(operator)
    return operators


def parse_model(buf: bytes, path: str | Path = "<model>") -> Model:
    """Parse a .tflite flatbuffer held in ``buf``; ``path`` names it in errors."""
    c = _Checked(bytes(buf), str(path))
    if len(c.buf) < 8 or not tflite.Model.ModelBufferHasIdentifier(c.buf, 0):
        raise BadInput(c.path, "not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        model = tflite.Model.GetRootAs(c.buf, 0)
        codes = _op_codes(model, c)
        if c.count(model.SubgraphsLength()) != 1:
            raise BadInput(c.path, f"{model.SubgraphsLength()} subgraphs; only single-subgraph models are supported")
        graph = model.Subgraphs(0)
        tensors = _tensors(model, graph, c)
        operators = _operators(graph, codes, len(tensors), c)
        inputs = tuple(int(i) for i in c.array(graph.InputsAsNumpy()))
        outputs = tuple(int(i) for i in c.array(graph.OutputsAsNumpy()))
        return Model(tensors, operators, inputs, outputs)
    except BadInput:
        raise
    except Exception:  # the generated accessors meet damage as IndexError, struct.error, ValueError, ...
        raise c.fail() from None


def read_model(path: str | Path) -> tuple[Model, bytes]:
    """Parse the .tflite file at ``path``; return the model and the file's bytes."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "no such model file")
    buf = path.read_bytes()
    return parse_model(buf, path), buf
