"""End to end on a tiny synthetic corpus: pipeline (corpus, features, figures, report), then
train → eval → profile through the CLI entry point, in process."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from model.cli import main

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None, reason="needs espeak-ng and sox (make setup)"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["pipeline", "--out", str(out), "--per-word", "24", "--seed", "3"]) == 0
    return out


def test_pipeline_writes_report_and_figures(demo, capsys):
    report = (demo / "report.md").read_text()
    assert "| testing |" in report and "![yes_vs_no](figures/yes_vs_no/comparison.png)" in report
    for name in ("yes_vs_no/comparison.png", "loud_vs_quiet/comparison.png", "loud_vs_quiet/quiet.png"):
        assert (demo / "figures" / name).read_bytes()[:4] == b"\x89PNG"
    # A second run reuses every finished stage.
    before = (demo / ".stages" / "features.json").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["pipeline", "--out", str(demo), "--per-word", "24", "--seed", "3"]) == 0
    assert "[corpus] " in capsys.readouterr().out
    assert (demo / ".stages" / "features.json").stat().st_mtime_ns == before


@pytest.fixture(scope="module")
def run(demo, tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    args = ["train", "--data", str(demo / "corpus"), "--out", str(run), "--steps", "60", "--lr", "0.002"]
    assert main([*args, "--pool", "1", "--eval-every", "20"]) == 0
    return run


def test_train_eval_profile(demo, run, capsys):
    metrics = json.loads((run / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(run / "model.pt"), "--data", str(demo / "corpus"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == metrics
    assert set(metrics["splits"]) == {"train", "validation", "test"}
    assert main(["profile", "--checkpoint", str(run / "model.pt"), "--repeats", "5", "--json"]) == 0
    latency = json.loads(capsys.readouterr().out)
    assert latency["device"] == "cpu" and latency["latency_us"]["median"] > 0


def test_profile_cuda_without_gpu_is_one_line(demo, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the error path cannot be exercised")
    from model.tinyconv import TinyConv, save_checkpoint

    save_checkpoint(tmp_path / "m.pt", TinyConv(), {})
    assert main(["profile", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cuda" in err[0].lower()


def test_export_verify_and_firmware_build(demo, run, tmp_path, capsys):
    """The trained model, exported to int8, runs bit-exact in generated C on the corpus's test
    split and on edge cases, and builds into firmware that fits the nRF52840."""
    import numpy as np
    from wavs import pcm16, tone

    model = tmp_path / "tinyconv.tflite"
    assert (
        main(["export", "--checkpoint", str(run / "model.pt"), "--data", str(demo / "corpus"), "--out", str(model)])
        == 0
    )
    capsys.readouterr()
    assert main(["verify", "--model", str(model), "--data", str(demo / "corpus"), "--target", "host", "--json"]) == 0
    report_split = json.loads(capsys.readouterr().out)
    assert report_split["clips"] > 0 and report_split["bit_exact"] == report_split["clips"]
    assert report_split["mismatches"] == []

    edges = tmp_path / "edges"
    edges.mkdir()
    rng = np.random.default_rng(5)
    pcm16(edges / "silence.wav", np.zeros(16000, np.int16))
    pcm16(edges / "clipping.wav", np.clip(rng.normal(0, 30000, 16000), -32768, 32767).astype(np.int16))
    pcm16(edges / "square.wav", np.where(tone(freq=300) >= 0, 32767, -32768).astype(np.int16))
    pcm16(edges / "quiet.wav", rng.integers(-2, 3, 16000).astype(np.int16))
    pcm16(edges / "short.wav", tone(0.3, 500))
    for source in sorted((demo / "corpus" / "yes").glob("*.wav"))[:3]:
        pcm = np.frombuffer(source.read_bytes()[44:], "<i2")
        pcm16(edges / f"quiet_{source.name}", (pcm // 256).astype(np.int16))
    assert main(["verify", "--model", str(model), "--data", str(edges), "--target", "host", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"clips": 8, "bit_exact": 8, "mismatches": []}

    out = tmp_path / "fw"
    assert main(["firmware", "build", "--model", str(model), "--variant", "int8", "--out", str(out)]) == 0
    size = json.loads((out / "size.json").read_text())
    assert 0 < size["flash_bytes"] < size["flash_limit"] and 0 < size["ram_bytes"] < size["ram_limit"]
    assert (out / "kws.elf").read_bytes()[:4] == b"\x7fELF"

    # The same ELF in the Unicorn backend: contract 4's record, and bit-exact with the host.
    capsys.readouterr()
    elf = str(out / "kws.elf")
    assert (
        main(["emulate", "--elf", elf, "--wav", str(edges / "silence.wav"), str(edges / "square.wav"), "--json"]) == 0
    )
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["wav"] for r in records] == [str(edges / "silence.wav"), str(edges / "square.wav")]
    for record in records:
        assert len(record["scores"]) == 4 and record["label"] in ("silence", "unknown", "yes", "no")
        assert all(record["cycles"][k] > 0 for k in ("preprocess", "inference", "postprocess"))
        assert record["instructions"] > record["cycles"]["inference"]
    args = ["verify", "--model", str(model), "--elf", elf, "--data", str(demo / "corpus"), "--json"]
    assert main(args) == 0
    firmware = json.loads(capsys.readouterr().out)
    assert firmware["clips"] == report_split["clips"] and firmware["bit_exact"] == firmware["clips"]


def test_emulate_renode_without_renode_is_one_line(tmp_path, capsys):
    if shutil.which("renode") or os.environ.get("RENODE"):
        pytest.skip("Renode is installed: the error path cannot be exercised")
    elf = tmp_path / "kws.elf"
    elf.write_bytes(b"\x7fELF")
    wav = tmp_path / "a.wav"
    from wavs import pcm16, tone

    pcm16(wav, tone())
    assert main(["emulate", "--elf", str(elf), "--wav", str(wav), "--backend", "renode"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Renode is not installed" in err[0]
