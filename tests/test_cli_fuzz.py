"""The `kws` command line fed a few hundred damaged files: every run ends with exit 0, or exit 2
and one line naming the file; never a traceback, and nothing written on failure."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from model.cli import main
from model.data.audio import wav_bytes

pytestmark = pytest.mark.slow


def mutate(rng: np.random.Generator, seed: bytes) -> bytes:
    """1-4 random edits of ``seed``: bit flips, cuts, insertions, overwrites, runs of zeros."""
    data = bytearray(seed)
    for _ in range(rng.integers(1, 5)):
        at = int(rng.integers(0, max(len(data), 1)))
        kind = rng.integers(0, 5)
        if kind == 0 and data:
            data[at] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:
            del data[at:]
        elif kind == 2:
            data[at:at] = rng.bytes(int(rng.integers(1, 17)))
        elif kind == 3 and data:
            data[at : at + 4] = rng.bytes(4)
        else:
            data[at : at + 64] = bytes(len(data[at : at + 64]))
    return bytes(data)


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def assert_clean(code: int, err: str, subject: Path) -> None:
    assert code in (0, 2), (code, err)
    if code == 2:
        assert err.count("\n") == 1 and str(subject) in err and "Traceback" not in err, err


def test_size_on_damaged_checkpoints(tmp_path: Path, capsys) -> None:
    torch = pytest.importorskip("torch")
    from model.train.tinyconv import TinyConv, save_checkpoint

    torch.manual_seed(0)
    save_checkpoint(tmp_path / "good.pt", TinyConv(2), {})
    good, rng = (tmp_path / "good.pt").read_bytes(), np.random.default_rng(1)
    for i in range(150):
        bad = tmp_path / f"bad{i}.pt"
        bad.write_bytes(mutate(rng, good))
        assert_clean(*run_cli(["size", "--checkpoint", str(bad)], capsys), bad)


def test_codegen_on_damaged_models(tmp_path: Path, tmp_path_factory, capsys) -> None:
    pytest.importorskip("tensorflow")
    import test_export

    good, rng = test_export.exported(tmp_path_factory, 8, "int8"), np.random.default_rng(2)
    outcomes = set()
    for i in range(150):
        bad, out = tmp_path / f"bad{i}.tflite", tmp_path / f"c{i}"
        bad.write_bytes(mutate(rng, good))
        code, err = run_cli(["codegen", "--model", str(bad), "--out", str(out)], capsys)
        assert_clean(code, err, bad)
        assert out.exists() == (code == 0)
        outcomes.add(code)
    assert outcomes == {0, 2}  # some damage leaves a model the generator can still compile


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
def test_emulate_on_damaged_wavs(tmp_path: Path, capsys) -> None:
    """A firmware that never prints: every clip the reader accepts ends in 'no result line'."""
    from test_elf import SILENT, assemble

    elf = assemble(tmp_path, SILENT)
    rng = np.random.default_rng(3)
    good = wav_bytes((rng.normal(0, 3000, 8000)).astype(np.int16))
    for i in range(100):
        bad = tmp_path / f"bad{i}.wav"
        bad.write_bytes(mutate(rng, good))
        code, err = run_cli(["emulate", "--elf", str(elf), "--wav", str(bad)], capsys)
        assert code == 2 and err.count("\n") == 1 and str(bad) in err, err
