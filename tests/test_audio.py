"""WAV reading: good files round-trip, every kind of bad file gets a one-line reason."""

from __future__ import annotations

import numpy as np
import pytest
from wavs import pcm16, tone, wav_file

from model.data.audio import pad_or_trim, read_wav, write_wav
from model.errors import BadInput


def test_round_trip(tmp_path):
    samples = tone()
    write_wav(tmp_path / "a.wav", samples)
    assert np.array_equal(read_wav(tmp_path / "a.wav"), samples)


def test_skips_unknown_chunks_and_extensible_pcm(tmp_path):
    import struct

    data = tone(0.1).tobytes()
    fmt = struct.pack("<HHIIHHHHIH14s", 0xFFFE, 1, 16000, 32000, 2, 16, 22, 16, 4, 1, b"\x00" * 14)
    body = b"WAVE" + b"LIST" + struct.pack("<I", 3) + b"abc\x00" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    (tmp_path / "x.wav").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert np.array_equal(read_wav(tmp_path / "x.wav"), tone(0.1))


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_text("hello, not audio"), "not a WAV file"),
        (lambda p: wav_file(p, b"\x80" * 100, bits=8), "8-bit samples"),
        (lambda p: wav_file(p, b"\x00" * 300, bits=24), "24-bit samples"),
        (lambda p: wav_file(p, np.zeros(100, "<f4").tobytes(), tag=3, bits=32), "32-bit float"),
        (lambda p: wav_file(p, b"\x00" * 400, channels=2), "2 channels, expected mono"),
        (lambda p: pcm16(p, tone(), rate=44100), "sample rate 44100 Hz"),
        (lambda p: wav_file(p, b"\x00" * 100, declared_size=32000), "truncated"),
        (lambda p: wav_file(p, b"", tag=1), "no samples"),
        (lambda p: wav_file(p, b"\x00" * 10, tag=2), "unsupported WAV encoding"),
    ],
)
def test_bad_files_name_the_reason(tmp_path, make, reason):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(BadInput) as info:
        read_wav(path)
    assert reason in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        read_wav(tmp_path / "nope.wav")
    with pytest.raises(BadInput, match="is a directory"):
        read_wav(tmp_path)


def test_long_clip_refused_only_when_asked(tmp_path):
    path = pcm16(tmp_path / "long.wav", tone(1.5))
    assert read_wav(path).size == 24000
    with pytest.raises(BadInput, match=r"1\.500 s long, at most 1 s"):
        read_wav(path, max_samples=16000)


def test_pad_or_trim():
    assert np.array_equal(pad_or_trim(np.ones(10, np.int16), 12), [1] * 10 + [0, 0])
    assert pad_or_trim(np.ones(20, np.int16), 12).size == 12
