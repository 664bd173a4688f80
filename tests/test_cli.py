"""The ``kws`` command line: help, usage errors and bad input as one line with exit code 2."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from wavs import pcm16, tone, wav_file


def kws(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "model.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_help_lists_commands():
    result = kws("--help")
    assert result.returncode == 0
    assert "data" in result.stdout
    for sub in ("synth", "download", "plot"):
        result = kws("data", sub, "--help")
        assert result.returncode == 0, result.stderr
        assert "--out" in result.stdout


def test_usage_error_is_one_line_exit_2():
    result = kws("data", "plot")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: wav_file(p, b"\x00" * 400, channels=2), "2 channels"),
        (lambda p: wav_file(p, b"\x00" * 300, bits=24), "24-bit"),
        (lambda p: pcm16(p, tone(), rate=8000), "sample rate 8000 Hz"),
    ],
)
def test_plot_bad_input_writes_nothing(tmp_path, make, reason):
    good = pcm16(tmp_path / "good.wav", tone())
    bad = tmp_path / "bad.wav"
    make(bad)
    out = tmp_path / "out"
    result = kws("data", "plot", str(good), str(bad), "--out", str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(bad) in lines[0] and reason in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_plot_writes_figures(tmp_path):
    (tmp_path / "yes").mkdir()
    loud = pcm16(tmp_path / "yes" / "clip.wav", tone(freq=700, amplitude=0.9))
    quiet = pcm16(tmp_path / "clip.wav", (tone(freq=700, amplitude=0.9) // 64).astype(np.int16))
    out = tmp_path / "figs"
    result = kws("data", "plot", str(loud), str(quiet), "--out", str(out))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["comparison.png", f"{tmp_path.name}_clip.png", "yes_clip.png"])
    for name in names:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _dataset(root, words, long_clip=False):
    for word in words:
        (root / word).mkdir(parents=True)
        for speaker in ("aaaa0001", "bbbb0002", "cccc0003"):
            pcm16(root / word / f"{speaker}_nohash_0.wav", tone(0.5, 300 + 50 * len(word)))
    (root / "_background_noise_").mkdir()
    pcm16(root / "_background_noise_" / "noise.wav", tone(3.0, 100, 0.1))
    if long_clip:
        pcm16(root / words[0] / "dddd0004_nohash_0.wav", tone(1.25))
    return root


def test_dataset_missing_wanted_word_is_one_line(tmp_path):
    data = _dataset(tmp_path / "sc", ["yes", "up"])
    out = tmp_path / "run"
    result = kws("train", "--data", str(data), "--out", str(out), "--steps", "5", "--lr", "0.001")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(data) in lines[0] and "'no'" in lines[0]
    assert not out.exists()


def test_dataset_clip_longer_than_one_second_is_one_line(tmp_path):
    data = _dataset(tmp_path / "sc", ["yes", "no", "up"], long_clip=True)
    out = tmp_path / "demo"
    result = kws("pipeline", "--data", str(data), "--out", str(out))
    assert result.returncode == 2, result.stderr
    # Progress bars of the work done before the bad clip came up may precede the error line.
    lines = [line for line in result.stderr.splitlines() if line.startswith("kws:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "dddd0004_nohash_0.wav" in lines[0] and "1.250 s long, at most 1 s" in lines[0]
    assert not (out / "report.md").exists()
