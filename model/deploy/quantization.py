"""The input quantization contract: uint16 frontend features → the model's input, defined once.

A feature ``f`` is the model's real input ``f * 10 / 256`` (``model.tinyconv.INPUT_SCALE``); an
int8 model takes ``clamp(round_half_away_from_zero((f * 10 / 256) / scale) + zero_point, -128,
127)``, evaluated in float64 with the model input's (scale, zero point). The firmware gets the
same mapping as a generated lookup table (:func:`c_table`), indexed by ``min(f, len - 1)``.

Why a table that stops early is exact: the mapping is non-decreasing in ``f`` (scale > 0), so
once it reaches 127 it stays there. The table ends at the first feature that maps to 127 (or at
65535 if none does) and every larger feature maps to the last entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model import config

#: Every value a uint16 feature can take.
UINT16_VALUES = 1 << 16
FEATURE_SCALE = 10 / 256


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Round to nearest, ties away from zero (TFLite's rounding; numpy's ``round`` is half-even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


@dataclass(frozen=True)
class InputQuantization:
    """How uint16 features become the input of one model: int8 (scale, zero point) or float32."""

    dtype: str  # "int8" or "float32"
    scale: float = 1.0
    zero_point: int = 0

    @classmethod
    def from_tflite(cls, flatbuffer: bytes) -> InputQuantization:
        """The contract of the first input of a .tflite flatbuffer."""
        from model.deploy.tflite_reader import parse_model
        from model.errors import BadInput

        model = parse_model(flatbuffer)
        tensor = model.tensors[model.inputs[0]]
        if tensor.dtype == "float32":
            return cls("float32")
        if tensor.dtype != "int8" or tensor.quantization is None or tensor.quantization.scale.size != 1:
            raise BadInput(None, f"model input must be float32 or per-tensor int8, not {tensor.dtype}")
        return cls("int8", float(tensor.quantization.scale[0]), int(tensor.quantization.zero_point[0]))

    def quantize(self, features: np.ndarray) -> np.ndarray:
        """int8 model input of uint16 features (any shape), by the float64 formula."""
        real = np.asarray(features, dtype=np.float64) * 10 / 256
        q = round_half_away(real / np.float64(self.scale)) + self.zero_point
        return np.clip(q, -128, 127).astype(np.int8)

    def model_input(self, features: np.ndarray) -> np.ndarray:
        """The model's input of uint16 features (49, 40): int8 or float32, same shape."""
        if self.dtype == "float32":
            return (np.asarray(features, dtype=np.float32) * np.float32(FEATURE_SCALE)).astype(np.float32)
        return self.quantize(features)

    def table(self) -> np.ndarray:
        """The lookup table: int8 of every feature up to the first that saturates at 127."""
        values = self.quantize(np.arange(UINT16_VALUES, dtype=np.uint32))
        saturated = np.flatnonzero(values == 127)
        return values[: saturated[0] + 1] if saturated.size else values


def check_features(features: np.ndarray) -> np.ndarray:
    """``features`` as uint16 (…, 49, 40); ValueError otherwise."""
    features = np.asarray(features)
    if features.dtype != np.uint16 or features.shape[-2:] != (config.NUM_FRAMES, config.NUM_CHANNELS):
        raise ValueError(
            f"expected uint16 features (..., {config.NUM_FRAMES}, {config.NUM_CHANNELS}), "
            f"got {features.dtype} {features.shape}"
        )
    return features
