"""kws size: the study's parameter and FLOP figures, activation memory and nRF52840 fractions."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from model import config
from model.errors import BadInput
from model.train import size
from model.train.tinyconv import TinyConv, save_checkpoint

torch.set_num_threads(1)


def test_tinyconv_figures_match_the_study():
    report = size.model_size(TinyConv())
    assert report["params"] == 16_652
    assert report["flops"]["total"] == 672_024
    assert report["flops"]["by_layer"] == {"conv": 640_008, "fc": 32_004}
    # The study's total exceeds conv + fc by 12: the softmax over 4 classes (exp, sum, divide).
    assert report["flops"]["softmax"] == 12
    assert report["macs"] == {"total": 336_000, "conv": 320_000, "fc": 16_000}


def test_activation_memory_and_fractions():
    report = size.model_size(TinyConv())
    # Peak while the conv runs: 49x40 input + 8x25x20 output values.
    assert report["activation_bytes"] == {"float32": 4 * 5960, "int8": 5960}
    assert report["weight_bytes"] == {"float32": 4 * 16_652, "int8": 16_640 + 4 * 12}
    assert report["flash_fraction"]["float32"] == pytest.approx(66_608 / config.FLASH_BYTES)
    assert report["flash_fraction"]["int8"] == pytest.approx(16_688 / 1_048_576)
    assert report["ram_fraction"] == {"float32": 23_840 / 262_144, "int8": 5960 / 262_144}


@pytest.mark.parametrize("channels", [1, 3, 16])
def test_other_channel_counts(channels):
    report = size.model_size(TinyConv(channels))
    conv_macs = channels * 25 * 20 * 80
    fc_macs = channels * 500 * 4
    assert report["params"] == sum(p.numel() for p in TinyConv(channels).parameters())
    assert report["flops"]["by_layer"] == {"conv": 2 * conv_macs + channels, "fc": 2 * fc_macs + 4}
    assert report["flops"]["total"] == 2 * (conv_macs + fc_macs) + channels + 4 + 12
    assert report["activation_bytes"]["int8"] == max(1960 + channels * 500, channels * 500 + 4)


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    size.register(parser.add_subparsers())
    args = parser.parse_args(["size", *argv])
    return args.func(args)


def test_cli_json_from_checkpoint(tmp_path, capsys):
    save_checkpoint(tmp_path / "model.pt", TinyConv(4), {})
    assert _run("--checkpoint", str(tmp_path / "model.pt"), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["params"] == 4 * 80 + 4 + 2000 * 4 + 4
    assert set(report) >= {"params", "flops", "activation_bytes", "flash_fraction", "ram_fraction"}
    assert set(report["flash_fraction"]) == set(report["ram_fraction"]) == {"float32", "int8"}


def test_cli_table_default_model(capsys):
    assert _run() == 0
    out = capsys.readouterr().out
    assert "672,024" in out and "640,008" in out and "16,652" in out


def test_cli_bad_checkpoint(tmp_path):
    with pytest.raises(BadInput, match="no such checkpoint"):
        _run("--checkpoint", str(tmp_path / "missing.pt"))
