"""INT4 weights: an int8 .tflite rewritten with 4-bit conv and fully-connected filters.

TFLite's INT4 tensor type (``TensorType.INT4``) stores two values per byte, the even-indexed
element of the flattened tensor in the low nibble, the odd one in the high nibble (TFLite's
``UnpackDenseInt4IntoInt8``); ``tflite_micro``'s reference conv, depthwise and fully-connected
kernels unpack such filters into int8 before the int8 arithmetic, so the rewritten model is the
golden reference of the firmware's packed 4-bit kernels.

The rewrite requantizes each filter symmetrically per output channel to [-7, 7] with scale
max|w| / 7 (the 4-bit grid of :mod:`model.compress.fake_quant`, so a checkpoint trained with
4-bit QAT keeps its grid) and the int32 bias to the new scale s_in * s_w; activations stay int8.
Fully-connected filters get one scale for the whole tensor: TFLM refuses per-channel INT4 there
(fully_connected_common.cc).
"""

from __future__ import annotations

import numpy as np

#: the 4-bit signed grid the rewrite uses (symmetric, as the int8 converter's [-127, 127])
INT4_MAX = 7
#: ops whose input 1 (the filter) becomes INT4, input 2 (the bias) rescaled
FILTER_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def pack_int4(values: np.ndarray) -> np.ndarray:
    """int values in [-8, 7] (any shape) → uint8 bytes, element 2i low nibble, 2i+1 high nibble."""
    flat = np.asarray(values, np.int64).reshape(-1)
    if flat.size and (flat.min() < -8 or flat.max() > 7):
        raise ValueError("int4 values must lie in [-8, 7]")
    if flat.size % 2:
        flat = np.append(flat, 0)
    nibbles = (flat & 0xF).astype(np.uint8)
    return nibbles[0::2] | (nibbles[1::2] << 4)


def unpack_int4(packed: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` int4 values of ``packed`` bytes, as int8 (the inverse of :func:`pack_int4`)."""
    raw = np.asarray(packed, np.uint8).reshape(-1).astype(np.int16)
    values = np.stack([raw & 0xF, raw >> 4], axis=1).reshape(-1)[:count]
    return np.where(values >= 8, values - 16, values).astype(np.int8)


def requantize_int4(
    q8: np.ndarray, scale: np.ndarray, axis: int, per_tensor: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """int8 filter ``q8`` with per-channel ``scale`` along ``axis`` → (int4 values, new scales:
    one per channel, or one for all when ``per_tensor``)."""
    moved = np.moveaxis(np.asarray(q8, np.float64), axis, 0)
    channels = moved.shape[0]
    real = moved.reshape(channels, -1) * np.broadcast_to(np.asarray(scale, np.float64), (channels,))[:, None]
    peak = np.abs(real).max(axis=1)
    peak = np.full(channels, peak.max()) if per_tensor else peak
    new_scale = np.where(peak > 0, peak / INT4_MAX, 1.0)
    q4 = np.clip(np.sign(real) * np.floor(np.abs(real) / new_scale[:, None] + 0.5), -INT4_MAX, INT4_MAX)
    return np.moveaxis(q4.reshape(moved.shape), 0, axis).astype(np.int8), new_scale.astype(np.float32)


def _requantize_filter(model, graph, op, per_tensor: bool) -> None:
    """Rewrite one op's filter (INT8 → INT4, packed) and bias (int32 at the new scale) in place;
    ``per_tensor``: one scale for the whole filter."""
    from tensorflow.lite.python import schema_py_generated as schema

    w = graph.tensors[op.inputs[1]]
    if w.type != schema.TensorType.INT8:
        raise ValueError("only an int8 filter can be rewritten to int4")
    shape = tuple(int(d) for d in w.shape)
    q8 = np.frombuffer(bytes(model.buffers[w.buffer].data), np.int8).reshape(shape)
    old_scale = np.asarray(w.quantization.scale, np.float32)
    axis = w.quantization.quantizedDimension if old_scale.size > 1 else 0
    if old_scale.size == 1:
        q8, axis = q8.reshape(1, -1), 0
    q4, scale = requantize_int4(q8, old_scale, axis, per_tensor)
    scale = scale[:1] if per_tensor else scale
    model.buffers[w.buffer].data = pack_int4(q4.reshape(shape))
    w.type = schema.TensorType.INT4
    w.quantization.scale = [float(s) for s in scale]
    w.quantization.zeroPoint = [0] * scale.size
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        b = graph.tensors[op.inputs[2]]
        bias = np.frombuffer(bytes(model.buffers[b.buffer].data), np.int32).astype(np.float64)
        b_scale = np.broadcast_to(np.asarray(b.quantization.scale, np.float64), bias.shape)
        s_in = b_scale / np.broadcast_to(old_scale.astype(np.float64), bias.shape)
        new = np.clip(np.round(bias * b_scale / (s_in * scale)), -(2**31), 2**31 - 1).astype("<i4")
        model.buffers[b.buffer].data = np.frombuffer(new.tobytes(), np.uint8)
        b.quantization.scale = [float(s) for s in (s_in * scale).astype(np.float32)]


def int4_flatbuffer(int8_flatbuffer: bytes) -> bytes:
    """The int8 model ``int8_flatbuffer`` with every conv / depthwise / fc filter stored as INT4."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(int8_flatbuffer, 0))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if k.isupper()}
    codes = [names.get(max(c.builtinCode, c.deprecatedBuiltinCode), "") for c in model.operatorCodes]
    graph = model.subgraphs[0]
    done: set[int] = set()
    for op in graph.operators:
        if codes[op.opcodeIndex] in FILTER_OPS and op.inputs[1] not in done:
            # TFLM takes INT4 fully-connected filters only per tensor (fully_connected_common.cc)
            _requantize_filter(model, graph, op, per_tensor=codes[op.opcodeIndex] == "FULLY_CONNECTED")
            done.add(op.inputs[1])
    builder = flatbuffers.Builder(len(int8_flatbuffer))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
