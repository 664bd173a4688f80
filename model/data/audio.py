"""Reading and writing 16 kHz mono 16-bit PCM WAV files, with one-line errors on bad input.

The RIFF parser is our own rather than the ``wave`` module so that every way a file can be
wrong (not RIFF, float or 24-bit samples, stereo, wrong rate, truncated data) gets a
reason a user can act on.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from model import config
from model.atomic import atomic_write_bytes
from model.errors import BadInput

_FORMAT_PCM = 1
_FORMAT_FLOAT = 3
_FORMAT_EXTENSIBLE = 0xFFFE


def _parse_fmt(path: Path, body: bytes) -> tuple[int, int, int, int]:
    if len(body) < 16:
        raise BadInput(path, "malformed WAV: fmt chunk shorter than 16 bytes")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _FORMAT_EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack_from("<H", body, 24)[0]
    return tag, channels, rate, bits


def read_wav(path: str | Path, *, max_samples: int | None = None) -> np.ndarray:
    """Return the samples of a 16 kHz mono 16-bit PCM WAV file as int16.

    Raises BadInput naming the file and the reason for anything else. With ``max_samples``,
    longer clips are refused too (commands that need exactly one second).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(path, "no such file") from None
    except IsADirectoryError:
        raise BadInput(path, "is a directory, expected a WAV file") from None
    except OSError as exc:
        raise BadInput(path, f"cannot read: {exc.strerror}") from None
    if not raw:
        raise BadInput(path, "empty file")
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise BadInput(path, "not a WAV file (no RIFF/WAVE header)")
    fmt: tuple[int, int, int, int] | None = None
    pos = 12
    while pos + 8 <= len(raw):
        chunk_id = raw[pos : pos + 4]
        size = struct.unpack_from("<I", raw, pos + 4)[0]
        body_start = pos + 8
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(path, raw[body_start : body_start + size])
        elif chunk_id == b"data":
            if fmt is None:
                raise BadInput(path, "malformed WAV: data chunk before fmt chunk")
            if body_start + size > len(raw):
                raise BadInput(path, f"truncated: data chunk declares {size} bytes, file holds {len(raw) - body_start}")
            return _decode(path, fmt, raw[body_start : body_start + size], max_samples)
        pos = body_start + size + (size & 1)
    if fmt is None:
        raise BadInput(path, "malformed WAV: no fmt chunk")
    raise BadInput(path, "truncated: no data chunk")


def _decode(path: Path, fmt: tuple[int, int, int, int], data: bytes, max_samples: int | None) -> np.ndarray:
    tag, channels, rate, bits = fmt
    if tag == _FORMAT_FLOAT:
        raise BadInput(path, f"{bits}-bit float samples, expected 16-bit PCM")
    if tag != _FORMAT_PCM:
        raise BadInput(path, f"unsupported WAV encoding (format tag {tag:#x}), expected 16-bit PCM")
    if bits != 16:
        raise BadInput(path, f"{bits}-bit samples, expected 16-bit PCM")
    if channels != 1:
        raise BadInput(path, f"{channels} channels, expected mono")
    if rate != config.SAMPLE_RATE:
        raise BadInput(path, f"sample rate {rate} Hz, expected {config.SAMPLE_RATE} Hz")
    if len(data) % 2:
        raise BadInput(path, "truncated: odd number of data bytes for 16-bit samples")
    samples = np.frombuffer(data, dtype="<i2").astype(np.int16)
    if samples.size == 0:
        raise BadInput(path, "no samples (empty data chunk)")
    if max_samples is not None and samples.size > max_samples:
        seconds = samples.size / config.SAMPLE_RATE
        raise BadInput(path, f"clip is {seconds:.3f} s long, at most {max_samples / config.SAMPLE_RATE:g} s allowed")
    return samples


def wav_bytes(samples: np.ndarray, rate: int = config.SAMPLE_RATE) -> bytes:
    """Encode int16 mono samples as a PCM WAV file."""
    pcm = np.asarray(samples, dtype="<i2").tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        _FORMAT_PCM,
        1,
        rate,
        rate * 2,
        2,
        16,
        b"data",
        len(pcm),
    )
    return header + pcm


def write_wav(path: str | Path, samples: np.ndarray, rate: int = config.SAMPLE_RATE) -> None:
    """Write int16 mono samples atomically as a PCM WAV file."""
    atomic_write_bytes(Path(path), wav_bytes(samples, rate))


def pad_or_trim(samples: np.ndarray, length: int = config.CLIP_SAMPLES) -> np.ndarray:
    """Zero-pad short clips at the end (as Speech Commands does) or cut long ones to ``length``."""
    if samples.size >= length:
        return samples[:length]
    return np.concatenate([samples, np.zeros(length - samples.size, dtype=np.int16)])
