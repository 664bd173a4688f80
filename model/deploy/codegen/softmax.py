"""SOFTMAX over the last dimension: float32 (kws_softmax_f32), or int8 with TFLM's fixed-point
exp (kws_softmax_s8) whose multiplier, shift and diff limit are computed here."""

from __future__ import annotations

import math

import numpy as np

from model.deploy.codegen.lowering import Lowering, Step
from model.deploy.codegen.requantize import float_literal, quantize_multiplier
from model.deploy.tflite_reader import Operator, Tensor

#: integer bits of the input differences in TFLM's int8 softmax (kScaledDiffIntegerBits)
DIFF_BITS = 5


def int8_constants(input_scale: float, beta: float) -> tuple[int, int, int] | None:
    """(multiplier, left shift, diff_min) of the int8 softmax, or None if the input scale times
    beta is too small for it."""
    real = min(beta * float(np.float32(input_scale)) * (1 << (31 - DIFF_BITS)), (1 << 31) - 1.0)
    if real <= 1.0:
        return None
    multiplier, left_shift = quantize_multiplier(real)
    radius = math.floor(((1 << DIFF_BITS) - 1) * (1 << (31 - DIFF_BITS)) / (1 << left_shift))
    return multiplier, left_shift, -radius


def lower(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> None:
    if not x.shape or x.shape != y.shape:
        raise g.fail(op, f"input {list(x.shape)} and output {list(y.shape)} shapes differ")
    depth = x.shape[-1]
    rows = x.size // depth
    beta = float(np.float32(op.options["beta"]))
    prefix = f"op{op.index}"
    if x.dtype == "float32":
        init = f"{{{rows}, {depth}, 0, 0, 0, {float_literal(beta)}}}"
        call = f"kws_softmax_f32(&{prefix}, {{in}}, {{out}});"
        g.steps.append(Step(op, init, "kws_softmax_params", call, x.index, y.index))
        return
    s_in, _ = g.qparams(op, x)
    s_out, zp_out = g.qparams(op, y)
    if zp_out != -128 or np.float32(s_out) != np.float32(1 / 256):
        raise g.fail(op, f"int8 output needs scale 1/256 and zero point -128, not {s_out} and {zp_out}")
    constants = int8_constants(s_in, beta)
    if constants is None:
        raise g.fail(op, f"input scale {s_in} x beta {beta} is too small for the int8 softmax")
    multiplier, left_shift, diff_min = constants
    init = f"{{{rows}, {depth}, {multiplier}, {left_shift}, {diff_min}, 0.0f}}"
    call = f"kws_softmax_s8(&{prefix}, {{in}}, {{out}});"
    g.steps.append(Step(op, init, "kws_softmax_params", call, x.index, y.index))
