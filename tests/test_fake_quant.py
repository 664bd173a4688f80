"""Fake quantization at 2-8 bits (model.compress.fake_quant): the weight and activation grids, the
gradient that QAT trains through, and agreement with the int8 TFLite export at 8 bits."""

from __future__ import annotations

import numpy as np
import pytest
import test_export

torch = pytest.importorskip("torch")

from model.compress.fake_quant import (  # noqa: E402
    FakeQuantTinyConv,
    activation_qparams,
    calibrate,
    fake_quant_activation,
    fake_quant_weight,
)
from model.train.tinyconv import to_input  # noqa: E402


@pytest.mark.parametrize("bits", range(2, 9))
def test_weights_sit_on_a_symmetric_per_channel_grid(bits: int) -> None:
    torch.manual_seed(bits)
    w = torch.randn(8, 1, 10, 8) * torch.linspace(0.1, 3, 8).reshape(8, 1, 1, 1)
    q = fake_quant_weight(w, bits)
    qmax = 2 ** (bits - 1) - 1
    for channel, original in zip(q, w, strict=True):
        scale = float(original.abs().max()) / qmax
        levels = torch.round(channel / scale)
        assert torch.allclose(levels * scale, channel, atol=1e-6)
        assert int(levels.abs().max()) == qmax  # the largest weight maps to the grid's end
        assert float((channel - original).abs().max()) <= scale / 2 + 1e-6


def test_a_zero_channel_stays_zero() -> None:
    w = torch.randn(3, 1, 10, 8)
    w[1] = 0
    assert torch.equal(fake_quant_weight(w, 4)[1], torch.zeros(1, 10, 8))


@pytest.mark.parametrize(("low", "high", "bits"), [(0.0, 26.0, 8), (-3.0, 5.0, 4), (1.0, 2.0, 2), (-7.5, -1.0, 3)])
def test_activation_grid_holds_zero_and_spans_the_range(low: float, high: float, bits: int) -> None:
    scale, zero_point = activation_qparams(low, high, bits)
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    assert qmin <= zero_point <= qmax
    ends = fake_quant_activation(torch.tensor([min(low, 0.0), 0.0, max(high, 0.0)]), low, high, bits)
    assert float(ends[1]) == 0.0
    assert float(ends[0]) == pytest.approx(min(low, 0.0), abs=scale) and float(ends[2]) == pytest.approx(
        max(high, 0.0), abs=scale
    )


def test_gradients_pass_straight_through() -> None:
    """QAT trains the float weights through the fake-quantized forward."""
    model = test_export.tinyconv(4)
    features = test_export.realistic_features(np.random.default_rng(0), 16)
    module = FakeQuantTinyConv(model, 4, calibrate(model, features))
    module(to_input(features)).sum().backward()
    assert model.conv.weight.grad is not None and float(model.conv.weight.grad.abs().sum()) > 0
    assert float(model.fc.weight.grad.abs().sum()) > 0


def test_bits_out_of_range_are_refused() -> None:
    model = test_export.tinyconv(4)
    ranges = calibrate(model, test_export.realistic_features(np.random.default_rng(0), 4))
    with pytest.raises(ValueError, match="bits must be between 2 and 8, not 9"):
        FakeQuantTinyConv(model, 9, ranges)


def test_eight_bits_predict_what_the_int8_export_predicts(tmp_path_factory: pytest.TempPathFactory) -> None:
    """At 8 bits the fake-quantized TinyConv is the int8 TFLite model up to rounding: the same
    class on nearly every clip (its calibration is the export's representative dataset)."""
    from model.deploy.export import tflm_predictions
    from model.train.evaluate import predict

    model = test_export.tinyconv(8)
    representative = test_export.realistic_features(np.random.default_rng(8), 200)  # test_export.exported's
    flatbuffer = test_export.exported(tmp_path_factory, 8, "int8")
    features = test_export.realistic_features(np.random.default_rng(123), 300)
    fake = predict(FakeQuantTinyConv(model, 8, calibrate(model, representative)), features)
    tflm = tflm_predictions(flatbuffer, features)
    floating = predict(model, features)
    agreement = float(np.mean(fake == tflm))
    assert agreement >= 0.97, f"8-bit fake quantization agrees with TFLM on {agreement:.1%} of clips"
    assert agreement >= float(np.mean(floating == tflm)) - 0.01
