"""The pipeline's compress stage on a small TinyConv trained on synthetic separable features: every
variant of the grid measured on the three splits and named for firmware, which of them get
firmware, a rerun that redoes nothing, an interruption that resumes, the report's sections, and
impossible grids or a foreign checkpoint refused in one line with nothing written."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import test_train

torch = pytest.importorskip("torch")

from model.cli import main  # noqa: E402
from model.compress import study  # noqa: E402
from model.errors import BadInput  # noqa: E402
from model.pipeline import compress  # noqa: E402
from model.pipeline.compress import Grid, channel_levels, compressed_variants  # noqa: E402
from model.pipeline.compress_report import compression  # noqa: E402
from model.pipeline.records import read_record  # noqa: E402
from model.pipeline.stages import Job  # noqa: E402
from model.train import training as train  # noqa: E402
from model.train.tinyconv import TinyConv, save_checkpoint  # noqa: E402

# The 4-channel model of test_train.small_config: fractions 0.25, 0.5, 0.75 keep 3, 2 and 1 channels.
GRID = Grid(bits=(8, 4, 3), sparsity=(0.5,), channel_fractions=(0.25, 0.5, 0.75), finetune_steps=10, lr=1e-3)


def tree(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` with its modification time: what "nothing written" compares."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    data = test_train.synthetic_data()
    out = tmp_path_factory.mktemp("out")
    cfg = test_train.small_config()
    train.train(data, out / "run", cfg, progress=False)
    return data, cfg, out


def job(out: Path, data, cfg, grid: Grid = GRID) -> Job:
    j = Job(out=out, data=None, per_word=0, seed=0, train_config=cfg, progress=False, compress_grid=grid)
    j.__dict__["train_data"] = data  # the cached_property, without a corpus on disk
    j.keys["features"] = {"synthetic": True}
    return j


@pytest.fixture(scope="module")
def stage(trained):
    data, cfg, out = trained
    return compress.compress_stage(job(out, data, cfg))


def test_every_variant_is_measured_on_every_split(stage, trained) -> None:
    names = [r["name"] for r in stage["rows"]]
    assert names == [
        "float", "ptq-8", "qat-8", "ptq-4", "qat-4", "ptq-3", "qat-3", "prune-50", "prune-ft-50",
        "channels-3", "channels-ft-3", "channels-2", "channels-ft-2", "channels-1", "channels-ft-1",
    ]  # fmt: skip
    data = trained[0]
    for row in stage["rows"]:
        for split in ("train", "validation", "test"):
            assert row[split]["total"]["samples"] == len(getattr(data, split).labels), (row["name"], split)
    rows = {r["name"]: r for r in stage["rows"]}
    assert rows["channels-ft-2"]["fractions"] == [0.5] and rows["channels-ft-1"]["channels"] == 1
    assert rows["channels-ft-2"]["flops"] < rows["float"]["flops"] and rows["channels-ft-2"]["latency_us"]["median"] > 0
    out = trained[2]
    for name in ("qat-8", "prune-ft-50", "channels-ft-1"):
        assert (out / rows[name]["checkpoint"]).is_file()
    assert "checkpoint" not in rows["ptq-4"] and "checkpoint" not in rows["float"]


def test_which_variants_become_firmware(stage, trained) -> None:
    rows = {r["name"]: r for r in stage["rows"]}
    assert rows["qat-4"]["weights"] == "int4" and rows["prune-50"]["weights"] == "int8"
    assert rows["qat-3"]["weights"] is None and "no 3-bit kernel" in rows["qat-3"]["note"]
    assert rows["ptq-8"]["weights"] is None and "int8 variant" in rows["ptq-8"]["note"]
    out = trained[2]
    default = {v.name: v.listed for v in compressed_variants(out, all_variants=False)}
    # QAT 8-bit and the fine-tuned levels nearest a half and a quarter of 4 channels get suites;
    # every other fine-tuned level is built for Table 5's measurements.
    assert default == {"qat-8": True, "channels-ft-3": False, "channels-ft-2": True, "channels-ft-1": True}
    everything = compressed_variants(out, all_variants=True)
    assert {v.name for v in everything} == {name for name, r in rows.items() if r["weights"]}
    assert all(v.listed for v in everything)
    assert {v.name: v.weights for v in everything}["qat-4"] == "int4"
    # What each inference budget scales with: channels of channel-pruned, nonzero weights of pruned models.
    scaled = {v.name: (v.channels, v.nonzero_weights) for v in everything}
    assert scaled["channels-3"] == (3, 0) and scaled["qat-8"] == (0, 0)
    assert scaled["prune-ft-50"] == (0, rows["prune-ft-50"]["nonzero_weights"]) != (0, 0)


def test_rerun_is_cached_and_an_interruption_resumes(stage, trained, monkeypatch, capsys) -> None:
    data, cfg, out = trained
    marker = out / ".stages" / "compress.json"
    before = marker.stat().st_mtime_ns
    assert compress.compress_stage(job(out, data, cfg)) == stage
    assert marker.stat().st_mtime_ns == before and "cached" in capsys.readouterr().out
    # Interrupted after 9 variants, the 10th line cut short: the stage computes the other 6 only.
    marker.unlink()
    journal = next((out / "compress").glob("journal-*.jsonl"))
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:9]) + "\n" + lines[9][:40])
    calls = []
    measured = compress._measure
    monkeypatch.setattr(compress, "_measure", lambda *a: calls.append(a[2:4]) or measured(*a))
    again = compress.compress_stage(job(out, data, cfg))
    assert calls == [(m, s) for m, s in study.plan(compress.study_config(GRID, 4))][9:]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "latency_us"} for r in rows]  # noqa: E731
    assert strip(again["rows"]) == strip(stage["rows"])  # fine-tuning is deterministic


def test_report_sections(stage, trained) -> None:
    out = trained[2]
    records = {"compress": read_record(out, "compress")}
    blocks = compression(out, records)
    text = "\n".join(str(b) for b in blocks)
    for wanted in ("8-bit weights", "4-bit weights", "Fig 7", "Fig 8", "Fig 9", "Fig 10", "Table 5"):
        assert wanted in text, wanted
    assert "not emulated" in text and "no 3-bit kernel" in text  # no firmware stage ran: said so
    for name in ("bits", "unstructured", "structured", "runtime"):
        assert (out / "figures" / f"compress_{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_channel_fractions_become_counts() -> None:
    fractions = tuple(round(0.1 * i, 1) for i in range(1, 10))
    levels = channel_levels(replace(GRID, channel_fractions=fractions), 8)
    assert levels == {7: [0.1], 6: [0.2, 0.3], 5: [0.4], 4: [0.5], 3: [0.6], 2: [0.7, 0.8], 1: [0.9]}
    with pytest.raises(BadInput, match=r"--compress-channels 0\.95 removes every channel of 8"):
        channel_levels(replace(GRID, channel_fractions=(0.5, 0.95)), 8)
    with pytest.raises(BadInput, match=r"--compress-channels 0\.05 removes no channel of 8"):
        channel_levels(replace(GRID, channel_fractions=(0.05,)), 8)


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--compress-sparsity", "0.5,1.0", "argument --compress-sparsity: must be in (0, 1), got 1"),
        ("--compress-bits", "8,1", "argument --compress-bits: must be between 2 and 8, got 1"),
        ("--compress-channels", "0.95", "--compress-channels 0.95 removes every channel of 8"),
        ("--compress-channels", "0", "argument --compress-channels: must be in (0, 1), got 0"),
    ],
)
def test_impossible_grid_is_one_line_and_writes_nothing(tmp_path, capsys, option, value, says) -> None:
    out = tmp_path / "out"
    assert exit_code(["pipeline", "--out", str(out), option, value, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
    assert not out.exists()


def exit_code(argv: list[str]) -> int:
    """``kws`` main's exit code, argparse's usage errors (SystemExit) included."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


def test_checkpoint_of_another_shape_is_refused(trained, tmp_path, capsys) -> None:
    data, cfg, out = trained
    # The pipeline's stage: OUT/run/model.pt with 2 channels where the training made 4.
    other = tmp_path / "other"
    (other / "run").mkdir(parents=True)
    save_checkpoint(other / "run" / "model.pt", TinyConv(2), {"channels": 2})
    before = tree(other)
    with pytest.raises(BadInput, match="has 2 conv channels where the training made 4"):
        compress.compress_stage(job(other, data, cfg))
    assert tree(other) == before
    # kws compress: weights that do not fit the channel count they claim, and a grid the model cannot take.
    broken = torch.load(other / "run" / "model.pt", weights_only=False) | {"channels": 8}
    torch.save(broken, tmp_path / "broken.pt")
    shutil.copy(out / "run" / "model.pt", tmp_path / "small.pt")
    for checkpoint, extra, says in (
        ("broken.pt", [], "weights do not fit TinyConv with 8 channels"),
        ("small.pt", ["--channels", "6"], "--channels must be between 1 and 3 (the model has 4)"),
    ):
        result = tmp_path / "result"
        argv = ["compress", "--checkpoint", str(tmp_path / checkpoint), "--data", str(tmp_path), "--out", str(result)]
        assert main([*argv, *extra, "--no-progress"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0], err
        assert not result.exists()


def test_the_per_channel_inference_budget_meets_int8s_at_eight_channels() -> None:
    """Two stated budgets of the same kernels (robot_tests/resources/budgets.py) must agree where they meet."""
    import importlib.util

    path = Path(__file__).parent.parent / "robot_tests" / "resources" / "budgets.py"
    spec = importlib.util.spec_from_file_location("budgets", path)
    budgets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(budgets)
    line = budgets.PER_CHANNEL_INF["int8/cortex_m4"]
    at_eight = line["fixed"] + 8 * line["per_channel"]
    assert at_eight == pytest.approx(budgets.BUDGETS["int8/cortex_m4"]["inf"], rel=0.01)
