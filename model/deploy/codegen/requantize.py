"""Fixed-point constants the kernels apply, computed ahead of time as TFLite computes them."""

from __future__ import annotations

import math

import numpy as np

from model.deploy.quantization import round_half_away

#: Output clamp of each fused activation, in real values (TFLite's CalculateActivationRange).
ACTIVATION_RANGES = {
    "NONE": (-math.inf, math.inf),
    "RELU": (0.0, math.inf),
    "RELU6": (0.0, 6.0),
    "RELU_N1_TO_1": (-1.0, 1.0),
}


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


def _int32(x: int) -> int:
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def requantize(x: int, multiplier: int, shift: int) -> int:
    """TFLite's MultiplyByQuantizedMultiplier on one int32 (kws_fixedpoint.h's kws_requantize): a
    saturating rounding doubling high multiply, then a rounding right shift, ties away from zero."""
    a = _int32(x << max(shift, 0))
    if a == multiplier == -(1 << 31):
        high = (1 << 31) - 1
    else:
        product = a * multiplier
        nudged = product + ((1 << 30) if product >= 0 else 1 - (1 << 30))
        high = nudged >> 31 if nudged >= 0 else -(-nudged >> 31)  # C's division truncates toward zero
    right = max(-shift, 0)
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if high & mask > threshold else 0)


def channel_multipliers(input_scale: float, weight_scales: np.ndarray, output_scale: float) -> list[tuple[int, int]]:
    """(multiplier, shift) per output channel: input scale x weight scale / output scale, in float64."""
    return [
        quantize_multiplier(float(np.float64(input_scale) * np.float64(s) / np.float64(output_scale)))
        for s in weight_scales
    ]


def activation_range_f(activation: str) -> tuple[float, float] | None:
    """The float clamp of a fused activation; None if the kernels do not handle it."""
    return ACTIVATION_RANGES.get(activation)


def activation_range_q(activation: str, scale: float, zero_point: int) -> tuple[int, int] | None:
    """The int8 clamp of a fused activation at an output's quantization; None if unhandled."""
    if activation not in ACTIVATION_RANGES:
        return None
    lo, hi = ACTIVATION_RANGES[activation]

    def quantize(x: float) -> int:
        return zero_point + int(round_half_away(np.float32(x) / np.float32(scale)))

    return (-128 if lo == -math.inf else max(-128, quantize(lo)), 127 if hi == math.inf else min(127, quantize(hi)))


def float_literal(v: float) -> str:
    """A float32 C literal that round-trips (infinities as ±FLT_MAX)."""
    if v == math.inf:
        return "FLT_MAX"
    if v == -math.inf:
        return "-FLT_MAX"
    return f"{float(np.float32(v))!r}f"
