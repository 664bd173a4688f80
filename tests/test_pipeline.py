"""End to end on a tiny synthetic corpus: pipeline (corpus, features, figures, report), then
train → eval → profile through the CLI entry point, in process."""

from __future__ import annotations

import json
import shutil

import pytest

from model.cli import main

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None, reason="needs espeak-ng and sox (make setup)"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["pipeline", "--out", str(out), "--per-word", "12", "--seed", "3"]) == 0
    return out


def test_pipeline_writes_report_and_figures(demo, capsys):
    report = (demo / "report.md").read_text()
    assert "| testing |" in report and "![yes_vs_no](figures/yes_vs_no/comparison.png)" in report
    for name in ("yes_vs_no/comparison.png", "loud_vs_quiet/comparison.png", "loud_vs_quiet/quiet.png"):
        assert (demo / "figures" / name).read_bytes()[:4] == b"\x89PNG"
    # A second run reuses every finished stage.
    before = (demo / ".stages" / "features.json").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["pipeline", "--out", str(demo), "--per-word", "12", "--seed", "3"]) == 0
    assert "[corpus] " in capsys.readouterr().out
    assert (demo / ".stages" / "features.json").stat().st_mtime_ns == before


def test_train_eval_profile(demo, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--data", str(demo / "corpus"), "--out", str(run), "--steps", "40", "--lr", "0.001"]
    assert main([*args, "--pool", "1", "--eval-every", "20"]) == 0
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
