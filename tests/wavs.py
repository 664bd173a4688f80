"""Builders for WAV files of every shape, good and bad, for the tests."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def wav_file(
    path: Path,
    data: bytes,
    *,
    tag: int = 1,
    channels: int = 1,
    rate: int = 16000,
    bits: int = 16,
    declared_size: int | None = None,
) -> Path:
    """Write a RIFF/WAVE file with the given fmt fields; ``declared_size`` may lie about the data."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    size = len(data) if declared_size is None else declared_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def pcm16(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    return wav_file(path, np.asarray(samples, dtype="<i2").tobytes(), rate=rate)


def tone(seconds: float = 1.0, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
