"""FULLY_CONNECTED: 2-D weights, per-tensor or per-channel int8 (kws_fully_connected_s8) or
float32 (kws_fully_connected_f32), fused activation.

int4 weights (TFLite's INT4) stay packed two per byte for both kernel sets (kws_fully_connected_s4).
int8 weights may be stored sparse instead (``--weights sparse|auto``, :mod:`model.deploy.codegen.sparse`:
a bitmap of the nonzero weights and their values; kws_fully_connected_s8_sparse).
With the Cortex-M4 kernels, layers their fast path takes get their weights interleaved for it
and the input offset folded into the biases; when the conv before stored its output blocked,
the weight columns follow that order (:func:`model.codegen.conv.fc_consumer`).
"""

from __future__ import annotations

import numpy as np

from model.deploy.codegen import m4_layout, sparse
from model.deploy.codegen.lowering import Lowering, Step
from model.deploy.codegen.requantize import activation_range_f, activation_range_q, channel_multipliers, float_literal
from model.deploy.tflite_reader import Operator, Tensor


def _dims(g: Lowering, op: Operator, x: Tensor, w: Tensor, y: Tensor) -> tuple[int, int, int]:
    """Batches, input depth and output depth."""
    if len(w.shape) != 2 or op.options["weights_format"] != 0:
        raise g.fail(op, f"weights of shape {list(w.shape)} (format {op.options['weights_format']}) are not supported")
    out_depth, in_depth = w.shape
    if x.size % in_depth or y.size != x.size // in_depth * out_depth:
        raise g.fail(op, f"input {list(x.shape)} and output {list(y.shape)} do not fit weights {list(w.shape)}")
    return x.size // in_depth, in_depth, out_depth


def lower(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> None:
    w = g.tensor(op, 1, const=True)
    b = g.tensor(op, 2, const=True, optional=True)
    dims = _dims(g, op, x, w, y)
    if x.dtype == "float32":
        _float(g, op, x, w, b, y, dims)
    else:
        _int8(g, op, x, w, b, y, dims)


def _float(g: Lowering, op: Operator, x: Tensor, w: Tensor, b: Tensor | None, y: Tensor, dims: tuple) -> None:
    g.check_type(op, w, "float32", "weights")
    prefix = f"op{op.index}"
    bias = np.zeros(dims[2], np.float32) if b is None else np.asarray(b.data, np.float32).reshape(-1)
    clamp = activation_range_f(op.options["activation"])
    if clamp is None:
        raise g.fail(op, f"fused activation {op.options['activation']} is not supported")
    g.array(f"{prefix}_weights", "float", w.data)
    g.array(f"{prefix}_bias", "float", bias)
    lo, hi = (float_literal(v) for v in clamp)
    init = f"{{{', '.join(map(str, dims))}, {lo}, {hi}, {prefix}_weights, {prefix}_bias}}"
    call = f"kws_fully_connected_f32(&{prefix}, {{in}}, {{out}});"
    g.steps.append(Step(op, init, "kws_fc_f32_params", call, x.index, y.index))


def _int8(g: Lowering, op: Operator, x: Tensor, w: Tensor, b: Tensor | None, y: Tensor, dims: tuple) -> None:
    g.check_type(op, w, ("int8", "int4"), "weights")
    if b is not None:
        g.check_type(op, b, "int32", "bias")
    s_in, zp_in = g.qparams(op, x)
    s_out, zp_out = g.qparams(op, y)
    out_depth = dims[2]
    wq = w.quantization
    if wq is None or (wq.zero_point != 0).any() or wq.scale.size not in (1, out_depth):
        raise g.fail(op, "weights need symmetric per-tensor or per-channel quantization")
    mults = channel_multipliers(s_in, wq.scale, s_out)
    bias = np.zeros(out_depth, np.int64) if b is None else np.asarray(b.data, np.int64).reshape(-1)
    clamp = activation_range_q(op.options["activation"], s_out, zp_out)
    if clamp is None:
        raise g.fail(op, f"fused activation {op.options['activation']} is not supported")
    stored_sparse = _stored_sparse(g, op, w)
    suffix = _sparse_weights(g, op, x, w, bias, zp_in) if stored_sparse else _weights(g, op, x, w, bias, zp_in)
    prefix = f"op{op.index}"
    g.array(f"{prefix}_multiplier", "int32_t", np.array([m for m, _ in mults]))
    g.array(f"{prefix}_shift", "int32_t", np.array([s for _, s in mults]))
    init = (
        f"{{{', '.join(map(str, dims))}, {-zp_in}, {zp_out}, {clamp[0]}, {clamp[1]}, {int(wq.scale.size > 1)}, "
        f"{prefix}_weights, {prefix}_bias, {prefix}_multiplier, {prefix}_shift}}"
    )
    param_type = "kws_fc_s8_params"
    if stored_sparse:
        init, param_type = f"{{{init}, {prefix}_bitmap}}", "kws_fc_sparse_params"
    call = f"kws_fully_connected_{suffix}(&{prefix}, {{in}}, {{out}});"
    g.steps.append(Step(op, init, param_type, call, x.index, y.index))


def _stored_sparse(g: Lowering, op: Operator, w: Tensor) -> bool:
    """Whether ``--weights`` stores this layer sparse; only int8 weights have a sparse format."""
    if g.weights_format == "dense" or (w.dtype == "int4" and g.weights_format == "auto"):
        return False
    if w.dtype == "int4":
        raise g.fail(op, "int4 weights have no sparse format (use --weights dense or auto)")
    return sparse.choose(g.weights_format, np.asarray(w.data))


def _sparse_weights(g: Lowering, op: Operator, x: Tensor, w: Tensor, bias: np.ndarray, zp_in: int) -> str:
    """Bitmap and nonzero values (:mod:`model.deploy.codegen.sparse`). The Cortex-M4 kernels read
    the columns in the blocked order of the conv before, if it stored its output blocked, and
    take the input offset folded into the biases; returns the kernels' suffix."""
    prefix = f"op{op.index}"
    weights = np.asarray(w.data, np.int64)
    order = g.blocked.get(g.root(x.index))
    layouts = {None: weights} if order is None else {"reference": weights, "cortex_m4": weights[:, order]}
    for kernels, columns in layouts.items():
        bitmap, values = sparse.encode(columns)
        g.array(f"{prefix}_bitmap", "uint32_t", bitmap, kernels)
        # C has no empty arrays: a layer without a nonzero weight gets one value it never reads
        g.array(f"{prefix}_weights", "int8_t", values if values.size else np.zeros(1, np.int8), kernels)
    folded = bias + (-zp_in) * weights.sum(axis=1)
    if not m4_layout.check_int32(folded):
        raise g.fail(op, "folded bias overflows int32")
    g.array(f"{prefix}_bias", "int32_t", bias, "reference")
    g.array(f"{prefix}_bias", "int32_t", folded, "cortex_m4")
    return "s8_sparse"


def _weights(g: Lowering, op: Operator, x: Tensor, w: Tensor, bias: np.ndarray, zp_in: int) -> str:
    """Weights and biases: shared by both kernel sets, or a Cortex-M4 layout beside the reference.
    Returns the kernels' suffix (s8, or s4: int4 weights stay packed two per byte in both layouts)."""
    prefix = f"op{op.index}"
    weights = np.asarray(w.data, np.int64)
    out_depth, in_depth = weights.shape
    int4 = w.dtype == "int4"
    if not m4_layout.fc_fast(in_depth, out_depth):  # both kernel sets on the reference layout
        g.array(f"{prefix}_bias", "int32_t", bias)
        return g.weights(f"{prefix}_weights", w)
    order = g.blocked.get(g.root(x.index))  # the conv before stored its output blocked
    m4 = weights if order is None else weights[:, order]
    suffix = g.weights(f"{prefix}_weights", w, "reference")
    if int4:
        g.array(f"{prefix}_weights", "uint8_t", m4_layout.fc_interleave_s4(m4), "cortex_m4")
    else:
        g.array(f"{prefix}_weights", "int8_t", m4_layout.fc_interleave(m4), "cortex_m4")
    g.array(f"{prefix}_bias", "int32_t", bias, "reference")
    folded = bias + (-zp_in) * weights.sum(axis=1)
    if not m4_layout.check_int32(folded):
        raise g.fail(op, "folded bias overflows int32")
    if int4 and not m4_layout.fc_s4_fits(in_depth):
        raise g.fail(op, f"{in_depth} int4 inputs overflow the Cortex-M4 kernel's 16-fold sum")
    g.array(f"{prefix}_bias", "int32_t", folded, "cortex_m4")
    return suffix
