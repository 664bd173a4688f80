"""TinyConv: architecture, input scaling and checkpoint round trip and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model import config
from model.errors import BadInput
from model.train.tinyconv import INPUT_SCALE, TinyConv, load_checkpoint, read_checkpoint, save_checkpoint, to_input

torch.set_num_threads(1)


def test_parameter_count_is_the_studys():
    model = TinyConv()
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 16_652
    assert model.conv.weight.numel() + model.conv.bias.numel() == 648
    assert model.fc.in_features == 4000


@pytest.mark.parametrize("channels", [1, 3, 8, 16])
def test_any_channel_count(channels):
    model = TinyConv(channels).eval()
    assert model.fc.in_features == channels * 25 * 20
    assert model(torch.zeros(5, 1, 49, 40)).shape == (5, len(config.LABELS))


def test_layers_are_conv_relu_dropout_linear():
    model = TinyConv()
    assert model.conv.kernel_size == (10, 8)
    assert model.conv.stride == (2, 2)
    assert model.conv.padding == (5, 3)
    assert model.dropout.p == 0.5
    model.eval()
    x = torch.rand(2, 1, 49, 40)
    expected = model.fc(torch.relu(model.conv(x)).flatten(1))
    assert torch.equal(model(x), expected)


def test_to_input_scales_and_shapes():
    features = np.zeros((3, 49, 40), dtype=np.uint16)
    features[1, 2, 3] = 256
    x = to_input(features)
    assert x.shape == (3, 1, 49, 40) and x.dtype == torch.float32
    assert x[1, 0, 2, 3] == 10.0 and INPUT_SCALE == 10 / 256
    assert to_input(features[0]).shape == (1, 1, 49, 40)
    with pytest.raises(ValueError, match="features must be"):
        to_input(np.zeros((2, 40, 49), dtype=np.uint16))


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = TinyConv(5)
    save_checkpoint(tmp_path / "model.pt", model, {"seed": 3}, step=7)
    loaded, payload = load_checkpoint(tmp_path / "model.pt")
    assert loaded.channels == 5 and not loaded.training
    assert payload["train_config"] == {"seed": 3} and payload["step"] == 7
    assert payload["labels"] == list(config.LABELS) and payload["input_scale"] == INPUT_SCALE
    x = torch.rand(2, 1, 49, 40)
    assert torch.equal(loaded(x), model.eval()(x))


def _bad(path, mutate):
    payload = read_checkpoint(path)
    mutate(payload)
    torch.save(payload, path)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: None, "no such checkpoint file"),
        (lambda p: p.write_bytes(b"not a checkpoint"), "not a TinyConv checkpoint: "),
        (lambda p: torch.save({"weights": torch.zeros(3)}, p), "not a TinyConv checkpoint"),
        (lambda p: _bad(p, lambda c: c.update(channels=4)), "weights do not fit TinyConv with 4 channels"),
        (lambda p: _bad(p, lambda c: c["state_dict"].pop("fc.bias")), "weights do not fit"),
        (lambda p: _bad(p, lambda c: c.update(labels=["a", "b"])), "labels"),
        (lambda p: _bad(p, lambda c: c.update(input_scale=1.0)), "input scaling"),
    ],
)
def test_checkpoint_errors_are_bad_input(tmp_path, make, reason):
    path = tmp_path / "model.pt"
    if reason != "no such checkpoint file":
        save_checkpoint(path, TinyConv(), {})
    make(path)
    with pytest.raises(BadInput, match=reason) as info:
        load_checkpoint(path)
    assert info.value.path == str(path)
    assert "\n" not in str(info.value)
