"""QUANTIZE and DEQUANTIZE: float32 in and out of the int8 layers of a model that TFLite's converter
made with float32 input and output (no int8 inference types), lowered to kernels with TFLite's
arithmetic (``kws_kernels.h``). QUANTIZE between two int8 scales (a requantization) is not
supported."""

from __future__ import annotations

import numpy as np

from model.deploy.codegen.lowering import Lowering, Step
from model.deploy.codegen.requantize import float_literal
from model.deploy.tflite_reader import Operator, Tensor


def lower_quantize(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> None:
    g.check_type(op, x, "float32", "input")
    g.check_type(op, y, "int8", "output")
    scale, zero_point = g.qparams(op, y)
    init = f"{{{y.size}, {float_literal(scale)}, {zero_point}}}"
    call = f"kws_quantize_f32_s8(&op{op.index}, {{in}}, {{out}});"
    g.steps.append(Step(op, init, "kws_quantize_params", call, x.index, y.index))


def lower_dequantize(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> None:
    g.check_type(op, x, "int8", "input")
    g.check_type(op, y, "float32", "output")
    scale, zero_point = g.qparams(op, x)
    # the float32 scale widened to double, as TFLite keeps it: exact in a hexadecimal literal
    init = f"{{{y.size}, {float(np.float32(scale)).hex()}, {zero_point}}}"
    call = f"kws_dequantize_s8_f32(&op{op.index}, {{in}}, {{out}});"
    g.steps.append(Step(op, init, "kws_dequantize_params", call, x.index, y.index))
