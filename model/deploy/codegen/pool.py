"""MAX_POOL_2D and AVERAGE_POOL_2D: NHWC, batch 1, SAME or VALID, fused activation; int8 (input and
output quantized alike, as TFLite requires) or float32 (kws_max_pool_* and kws_average_pool_*).
TensorFlow's speech_commands ``conv`` model max-pools between its two convolutions; DS-CNN
averages before its classifier."""

from __future__ import annotations

import numpy as np

from model.deploy.codegen.conv import padding_before
from model.deploy.codegen.lowering import Lowering, Step
from model.deploy.codegen.requantize import activation_range_f, activation_range_q, float_literal
from model.deploy.tflite_reader import Operator, Tensor


def _geometry(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> list[int]:
    """in_h, in_w, channels, out_h, out_w, filter, strides and padding, checked as TFLite sizes them."""
    o = op.options
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != 1 or y.shape[0] != 1 or x.shape[3] != y.shape[3]:
        raise g.fail(op, f"needs 4-D NHWC tensors with batch 1 and as many channels (input {list(x.shape)}, "
                         f"output {list(y.shape)})")  # fmt: skip
    if min(o["stride_h"], o["stride_w"], o["filter_h"], o["filter_w"]) < 1:
        raise g.fail(op, "filter sizes and strides must be positive")
    if o["padding"] not in ("SAME", "VALID"):
        raise g.fail(op, f"padding {o['padding']} is not supported (SAME or VALID)")
    (_, in_h, in_w, channels), (_, out_h, out_w, _) = x.shape, y.shape
    pad_top = padding_before(g, op, in_h, out_h, o["filter_h"], o["stride_h"])
    pad_left = padding_before(g, op, in_w, out_w, o["filter_w"], o["stride_w"])
    return [in_h, in_w, channels, out_h, out_w, o["filter_h"], o["filter_w"], o["stride_h"], o["stride_w"],
            pad_top, pad_left]  # fmt: skip


def lower_max(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> None:
    _lower(g, op, x, y, "kws_max_pool")


def lower_average(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> None:
    _lower(g, op, x, y, "kws_average_pool")


def _lower(g: Lowering, op: Operator, x: Tensor, y: Tensor, kernel: str) -> None:
    geometry = ", ".join(map(str, _geometry(g, op, x, y)))
    activation = op.options["activation"]
    if x.dtype == "float32":
        clamp = activation_range_f(activation)
        if clamp is None:
            raise g.fail(op, f"fused activation {activation} is not supported")
        init = f"{{{geometry}, 0, 0, {float_literal(clamp[0])}, {float_literal(clamp[1])}}}"
        call = f"{kernel}_f32(&op{op.index}, {{in}}, {{out}});"
    else:
        s_in, zp_in = g.qparams(op, x)
        s_out, zp_out = g.qparams(op, y)
        if zp_in != zp_out or np.float32(s_in) != np.float32(s_out):
            raise g.fail(op, "input and output quantization differ")
        clamp = activation_range_q(activation, s_out, zp_out)
        if clamp is None:
            raise g.fail(op, f"fused activation {activation} is not supported")
        init = f"{{{geometry}, {clamp[0]}, {clamp[1]}, 0.0f, 0.0f}}"
        call = f"{kernel}_s8(&op{op.index}, {{in}}, {{out}});"
    g.steps.append(Step(op, init, "kws_pool_params", call, x.index, y.index))
