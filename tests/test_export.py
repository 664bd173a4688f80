"""Export of TinyConv to TFLite: graph structure, PyTorch semantics, the input quantization contract."""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from model import config  # noqa: E402
from model.deploy.quantization import UINT16_VALUES, InputQuantization  # noqa: E402
from model.deploy.tflite_reader import parse_model  # noqa: E402
from model.errors import BadInput  # noqa: E402

SHAPE = (config.NUM_FRAMES, config.NUM_CHANNELS)


def realistic_features(rng: np.random.Generator, n: int) -> np.ndarray:
    """uint16 features shaped like the frontend's: a per-channel noise floor, smooth in time,
    with louder bursts (words) in some clips; values in 0..~670."""
    floor = rng.uniform(150, 400, size=(n, 1, config.NUM_CHANNELS))
    drift = np.cumsum(rng.normal(0, 8, size=(n, config.NUM_FRAMES, 1)), axis=1)
    burst = np.zeros((n, *SHAPE))
    for i in range(n):
        if rng.random() < 0.7:
            start = rng.integers(0, config.NUM_FRAMES - 10)
            length = rng.integers(5, 25)
            burst[i, start : start + length] = rng.uniform(100, 300) * rng.random(config.NUM_CHANNELS)
    noise = rng.normal(0, 20, size=(n, *SHAPE))
    return np.clip(floor + drift + burst + noise, 0, 670).astype(np.uint16)


def edge_features(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Silence (all zero), clipping (max uint16 and the frontend's top), very quiet, stripes."""
    stripes = np.zeros(SHAPE, np.uint16)
    stripes[::2] = 670
    return [
        ("zero", np.zeros(SHAPE, np.uint16)),
        ("uint16-max", np.full(SHAPE, 65535, np.uint16)),
        ("frontend-max", np.full(SHAPE, 670, np.uint16)),
        ("quiet", rng.integers(0, 12, SHAPE).astype(np.uint16)),
        ("stripes", stripes),
        ("random-full-range", rng.integers(0, 65536, SHAPE).astype(np.uint16)),
    ]


def tinyconv(channels: int, seed: int = 0):
    """A TinyConv with random weights, scaled so that the logits spread over a few units."""
    from model.train.tinyconv import TinyConv

    torch.manual_seed(seed)
    model = TinyConv(channels).eval()
    with torch.no_grad():
        model.fc.weight.mul_(8.0 / channels**0.5)
    return model


def exported(tmp_path_factory: pytest.TempPathFactory, channels: int, kind: str) -> bytes:
    """The flatbuffer of ``tinyconv(channels)`` ("int8" or "float"), converted once per session."""
    from model.deploy.export import export_tflite

    path = tmp_path_factory.getbasetemp() / "models" / f"tinyconv-{channels}-{kind}.tflite"
    if not path.exists():
        representative = realistic_features(np.random.default_rng(channels), 200) if kind == "int8" else None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(export_tflite(tinyconv(channels), representative))
    return path.read_bytes()


def test_int8_graph_structure(tmp_path_factory):
    model = parse_model(exported(tmp_path_factory, 8, "int8"))
    ops = [op.name for op in model.operators]
    assert ops[0] == "PAD" and ops[-1] == "SOFTMAX" and "FULLY_CONNECTED" in ops
    assert ops[1] in ("CONV_2D", "DEPTHWISE_CONV_2D")
    pads = model.tensors[model.operators[0].inputs[1]].data
    assert pads[1, 0] == 5 and pads[2].tolist() == [3, 3], "PyTorch padding (5, 3), not SAME"
    x, y = model.tensors[model.inputs[0]], model.tensors[model.outputs[0]]
    assert (x.dtype, y.dtype) == ("int8", "int8")
    assert x.shape == (1, *SHAPE, 1) and y.shape == (1, len(config.LABELS))
    assert int(x.quantization.zero_point[0]) == -128


def test_float_export_matches_pytorch(tmp_path_factory):
    """Padding and the NCHW→NHWC fc permutation reproduce PyTorch exactly (up to float rounding)."""
    from model.deploy.export import TFLMRunner
    from model.train.tinyconv import to_input

    features = realistic_features(np.random.default_rng(5), 20)
    runner = TFLMRunner(exported(tmp_path_factory, 8, "float"))
    with torch.no_grad():
        expected = torch.softmax(tinyconv(8)(to_input(features)), dim=1).numpy()
    got = np.stack([runner.run(f) for f in features])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_int8_export_close_to_pytorch(tmp_path_factory):
    from model.deploy.export import TFLMRunner
    from model.train.tinyconv import to_input

    features = realistic_features(np.random.default_rng(6), 60)
    runner = TFLMRunner(exported(tmp_path_factory, 8, "int8"))
    with torch.no_grad():
        expected = torch.softmax(tinyconv(8)(to_input(features)), dim=1).numpy()
    got = (np.stack([runner.run(f) for f in features]).astype(np.float64) + 128) / 256
    assert np.abs(got - expected).mean() < 0.03
    assert (got.argmax(1) == expected.argmax(1)).mean() >= 0.9


def test_input_quantization_saturates_at_table_end(tmp_path_factory):
    """Every uint16 above the table's last index maps to the last entry: clamping the index is exact."""
    q = InputQuantization.from_tflite(exported(tmp_path_factory, 8, "int8"))
    table = q.table()
    every = q.quantize(np.arange(UINT16_VALUES))
    assert len(table) < UINT16_VALUES and table[-1] == 127
    np.testing.assert_array_equal(every[: len(table)], table)
    assert (every[len(table) - 1 :] == table[-1]).all()
    assert (np.diff(every.astype(np.int64)) >= 0).all(), "the mapping is monotone"


def test_input_quantization_rounds_half_away_from_zero():
    q = InputQuantization("int8", scale=10 / 256, zero_point=-128)  # feature f → exactly f
    np.testing.assert_array_equal(q.quantize(np.array([0, 1, 255, 300])), [-128, -127, 127, 127])
    half = InputQuantization("int8", scale=20 / 256, zero_point=0)  # f / 2: odd f are ties
    np.testing.assert_array_equal(half.quantize(np.array([1, 3, 5])), [1, 2, 3])


def _contract_int8(feature: int, scale: float, zero_point: int) -> int:
    """README's input contract computed apart from model.deploy.quantization: the float64 value
    (feature · 10/256) / scale, rounded half away from zero exactly (Fractions, no float tricks),
    plus the zero point, clamped to int8."""
    x = Fraction(float(feature * 10 / 256) / float(scale))
    whole, rest = divmod(abs(x), 1)
    magnitude = whole + (1 if rest >= Fraction(1, 2) else 0)
    q = (magnitude if x >= 0 else -magnitude) + zero_point
    return max(-128, min(127, int(q)))


@pytest.mark.parametrize("scale", [10 / 256, 20 / 256, 0.1017, 0.0390625 * 3, 0.2378])
def test_input_quantization_equals_the_contract_for_every_uint16(scale):
    """Every uint16 feature, against an independent computation of the contract, at the export's
    typical scale (~0.1017), an identity scale, a scale with exact ties and others."""
    scale = float(np.float32(scale))  # scales come from a flatbuffer, as float32
    q = InputQuantization("int8", scale=scale, zero_point=-128)
    features = np.arange(UINT16_VALUES)
    expected = np.array([_contract_int8(int(f), scale, -128) for f in features], dtype=np.int8)
    np.testing.assert_array_equal(q.quantize(features), expected)


def test_export_cli_missing_checkpoint(tmp_path):
    from model.deploy.export import run

    args = argparse.Namespace(
        checkpoint=str(tmp_path / "none.pt"),
        data=str(tmp_path),
        out=str(tmp_path / "m.tflite"),
        float=False,
        cache=None,
        threads=1,
        json=True,
    )
    with pytest.raises(BadInput, match="no such checkpoint"):
        run(args)
    assert not Path(args.out).exists()
