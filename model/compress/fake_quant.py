"""TinyConv with fake quantization at 2-8 bits: TFLite's int8 scheme, generalised to b bits.

- Weights: per output channel, symmetric, integers in [-(2^(b-1) - 1), 2^(b-1) - 1] with scale
  max|w| / (2^(b-1) - 1), as the converter quantizes int8 conv and fully connected weights.
- Activations: per tensor, affine, integers in [-2^(b-1), 2^(b-1) - 1] over a range calibrated on
  training features (min and max, widened to include 0, as the converter does with its
  representative dataset): the model input, the conv output after ReLU, the logits.
- Biases stay float: TFLite keeps them in int32 at scale s_in * s_w, far finer than any activation.

``torch.fake_quantize_*`` pass gradients straight through inside the range, so the same forward
serves post-training quantization (evaluate it) and quantization-aware training (train through it).
PyTorch rounds ties to even where TFLite rounds half away from zero; the two differ only on exact
ties, which float weights and activations practically never hit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from model.train.tinyconv import PADDING, STRIDE, TinyConv, to_input

BITS = range(2, 9)


@dataclass(frozen=True)
class Ranges:
    """Calibrated float ranges (low, high) of the three quantized activations."""

    input: tuple[float, float]
    conv: tuple[float, float]
    logits: tuple[float, float]


def calibrate(model: TinyConv, features: np.ndarray, batch_size: int = 500) -> Ranges:
    """Min/max of each quantized activation over ``features`` (uint16, (N, 49, 40)), in eval mode."""
    lows, highs = np.full(3, np.inf), np.full(3, -np.inf)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for start in range(0, len(features), batch_size):
            x = to_input(features[start : start + batch_size])
            conv = torch.relu(model.conv(x))
            logits = model.fc(conv.flatten(1))
            for i, t in enumerate((x, conv, logits)):
                lows[i], highs[i] = min(lows[i], float(t.min())), max(highs[i], float(t.max()))
    model.train(was_training)
    if not np.isfinite(lows).all():
        raise ValueError("calibration needs at least one feature window")
    return Ranges(*((float(lo), float(hi)) for lo, hi in zip(lows, highs, strict=True)))


def activation_qparams(low: float, high: float, bits: int) -> tuple[float, int]:
    """Scale and zero point of a per-tensor affine b-bit quantization of [low, high] (0 included)."""
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    low, high = min(low, 0.0), max(high, 0.0)
    scale = max((high - low) / (qmax - qmin), 1e-12)
    zero_point = int(np.clip(round(qmin - low / scale), qmin, qmax))
    return scale, zero_point


def fake_quant_activation(x: torch.Tensor, low: float, high: float, bits: int) -> torch.Tensor:
    scale, zero_point = activation_qparams(low, high, bits)
    return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def fake_quant_weight(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Per output channel (dim 0), symmetric; an all-zero channel (a pruned one) stays zero."""
    qmax = 2 ** (bits - 1) - 1
    amax = w.detach().abs().flatten(1).amax(1)
    scale = torch.where(amax > 0, amax / qmax, torch.ones_like(amax)).float()
    zero = torch.zeros(len(scale), dtype=torch.int32)
    return torch.fake_quantize_per_channel_affine(w, scale, zero, 0, -qmax, qmax)


class FakeQuantTinyConv(nn.Module):
    """``model`` computed with ``bits``-bit weights and ``activation_bits``-bit activations (the
    same as the weights when None); its own parameters stay float."""

    def __init__(self, model: TinyConv, bits: int, ranges: Ranges, activation_bits: int | None = None) -> None:
        super().__init__()
        for what, value in (("bits", bits), ("activation bits", activation_bits or bits)):
            if value not in BITS:
                raise ValueError(f"{what} must be between {BITS.start} and {BITS.stop - 1}, not {value}")
        self.model, self.bits, self.ranges = model, bits, ranges
        self.activation_bits = activation_bits or bits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, b, a, r = self.model, self.bits, self.activation_bits, self.ranges
        x = fake_quant_activation(x, *r.input, a)
        y = F.conv2d(x, fake_quant_weight(m.conv.weight, b), m.conv.bias, stride=STRIDE, padding=PADDING)
        y = fake_quant_activation(torch.relu(y), *r.conv, a)
        y = m.dropout(y)
        logits = F.linear(y.flatten(1), fake_quant_weight(m.fc.weight, b), m.fc.bias)
        return fake_quant_activation(logits, *r.logits, a)
