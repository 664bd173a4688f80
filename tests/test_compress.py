"""``kws compress`` on a small TinyConv trained on synthetic separable features: every variant
measured, sizes that follow from the structure, deterministic fine-tuning, and bad input."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest
import test_train

torch = pytest.importorskip("torch")

from model.compress import study as compress  # noqa: E402
from model.compress.study import CompressConfig, study  # noqa: E402
from model.errors import BadInput  # noqa: E402
from model.train import batches  # noqa: E402
from model.train import training as train  # noqa: E402
from model.train.tinyconv import load_checkpoint  # noqa: E402

SMALL = CompressConfig(bits=[8, 2], sparsity=[0.75], channels=[2], finetune_steps=40, lr=1e-3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    data = test_train.synthetic_data()
    out = tmp_path_factory.mktemp("run")
    cfg = test_train.small_config()
    train.train(data, out, cfg, progress=False)
    return data, cfg, out / "model.pt"


@pytest.fixture(scope="module")
def rows(trained):
    data, cfg, checkpoint = trained
    return study(load_checkpoint(checkpoint)[0], data, cfg, SMALL, progress=False)


def test_every_variant_is_measured_in_order(rows) -> None:
    assert [(r["method"], r["setting"]) for r in rows] == [
        ("float", None),
        ("ptq", 8),
        ("qat", 8),
        ("ptq", 2),
        ("qat", 2),
        ("prune", 0.75),
        ("prune+ft", 0.75),
        ("channels", 2),
        ("channels+ft", 2),
    ]
    assert all(r["test"]["total"]["samples"] == 80 for r in rows)


def test_activations_stay_at_eight_bits_unless_told(trained, rows) -> None:
    assert [(r["bits"], r["activation_bits"]) for r in rows[1:5]] == [(8, 8), (8, 8), (2, 8), (2, 8)]
    data, cfg, checkpoint = trained
    same = CompressConfig(bits=[3], sparsity=[], channels=[], finetune_steps=0, activation_bits=None)
    assert [r["activation_bits"] for r in study(load_checkpoint(checkpoint)[0], data, cfg, same, progress=False)] == [
        32,
        3,
        3,
    ]


def test_eight_bits_keep_the_float_accuracy(rows) -> None:
    baseline = rows[0]["test"]["total"]["accuracy"]
    assert baseline >= 0.9
    assert rows[1]["test"]["total"]["accuracy"] >= baseline - 0.05


def test_sizes_follow_from_the_structure(rows) -> None:
    weights, biases = 4 * 10 * 8 + 4 * 4 * 25 * 20, 4 + 4  # the 4-channel model of small_config
    by_method = {(r["method"], r["setting"]): r for r in rows}
    assert by_method[("float", None)]["weight_bytes"] == 4 * (weights + biases)
    assert by_method[("ptq", 2)]["weight_bytes"] == math.ceil(weights * 2 / 8) + 4 * biases
    pruned = by_method[("prune+ft", 0.75)]
    assert pruned["nonzero_weights"] == weights - round(0.75 * weights)  # the mask held while fine-tuning
    assert pruned["weight_bytes"] == by_method[("float", None)]["weight_bytes"]  # dense storage
    channels = by_method[("channels", 2)]
    assert (channels["channels"], channels["params"]) == (2, 2 * 81 + 4 * 2 * 500 + 4)
    assert channels["macs"] == by_method[("float", None)]["macs"] // 2


def test_fine_tuning_is_deterministic(trained, rows) -> None:
    data, cfg, checkpoint = trained
    again = study(load_checkpoint(checkpoint)[0], data, cfg, SMALL, progress=False)
    assert again == rows


def test_report_and_plot(rows, tmp_path: Path) -> None:
    text = compress.markdown(rows, Path("run/model.pt"))
    assert text.count("\n| ") == len(rows) + 2  # header, separator and one line per variant
    assert "| channels+ft | 2 | 32 | 32 | 2 |" in text
    assert compress.plot(rows).startswith(b"\x89PNG")


def args(checkpoint: Path, out: Path, **overrides) -> argparse.Namespace:
    d = CompressConfig()
    values = dict(
        checkpoint=str(checkpoint),
        data="unused",
        out=str(out),
        cache=None,
        bits=d.bits,
        sparsity=d.sparsity,
        channels=d.channels,
        finetune_steps=d.finetune_steps,
        lr=d.lr,
        prune_scope=d.prune_scope,
        activation_bits=d.activation_bits,
        norm=d.norm,
        threads=1,
        json=True,
        no_progress=True,
    )
    return argparse.Namespace(**(values | overrides))


def test_cli_writes_json_report_and_plot(trained, tmp_path: Path, monkeypatch, capsys) -> None:
    data, _, checkpoint = trained
    monkeypatch.setattr(batches, "load_train_data", lambda *a, **k: data)
    options = dict(bits=[4], sparsity=[0.5], channels=[3], finetune_steps=5)
    assert compress.run(args(checkpoint, tmp_path / "out", **options)) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "out" / "compress.json").read_text())
    assert [v["method"] for v in printed["variants"]][:3] == ["float", "ptq", "qat"]
    assert (tmp_path / "out" / "report.md").read_text().startswith("# Compression of")
    assert (tmp_path / "out" / "compress.png").read_bytes().startswith(b"\x89PNG")
    saved = {v["method"]: v.get("model") for v in printed["variants"]}
    assert saved == {
        "float": None,
        "ptq": None,
        "qat": "models/qat-4.pt",
        "prune": "models/prune-0.5.pt",
        "prune+ft": "models/prune+ft-0.5.pt",
        "channels": "models/channels-3.pt",
        "channels+ft": "models/channels+ft-3.pt",
    }
    smaller, payload = load_checkpoint(tmp_path / "out" / "models" / "channels+ft-3.pt")
    assert (smaller.channels, payload["method"], payload["setting"]) == (3, "channels+ft", 3)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bits": [9]}, "--bits must be between 2 and 8"),
        ({"activation_bits": 1}, "--activation-bits must be between 2 and 8 or 'same', not 1"),
        ({"sparsity": [1.0]}, "--sparsity values are fractions in (0, 1)"),
        ({"channels": [4]}, "--channels must be between 1 and 3 (the model has 4)"),
        ({"prune_scope": "model", "channels": [2]}, "--prune-scope is one of layer, global, not 'model'"),
    ],
)
def test_settings_that_cannot_apply_are_bad_input(trained, tmp_path: Path, overrides, message) -> None:
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        compress.run(args(trained[2], tmp_path / "out", **overrides))
    assert not (tmp_path / "out").exists()


def test_cli_missing_checkpoint_is_one_line_exit_2(tmp_path: Path) -> None:
    from test_cli import kws

    result = kws("compress", "--checkpoint", str(tmp_path / "none.pt"), "--data", ".", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"kws: {tmp_path / 'none.pt'}: no such checkpoint file"]
