"""Generated C on the host against tflite_micro: bit-exact int8, float32 within 1e-5."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
from test_export import edge_features, exported, realistic_features
from wavs import pcm16, tone

from model.verify import HostTarget, compare


def clips(seed: int, n: int) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [*edge_features(rng), *((f"realistic-{i}", f) for i, f in enumerate(realistic_features(rng, n)))]


@pytest.mark.parametrize("kernels", ["reference", "cortex_m4"])
@pytest.mark.parametrize("channels", [8, 5, 3, 1])
def test_int8_bit_exact(tmp_path_factory, channels, kernels):
    flatbuffer = exported(tmp_path_factory, channels, "int8")
    inputs = clips(channels, 200)
    report = compare(HostTarget(flatbuffer, kernels), flatbuffer, iter(inputs))
    assert report["mismatches"] == []
    assert report["bit_exact"] == report["clips"] == len(inputs) >= 200


def test_int8_outputs_are_not_degenerate(tmp_path_factory):
    """The comparison means something: outputs vary and are not all saturated."""
    target = HostTarget(exported(tmp_path_factory, 8, "int8"))
    outputs = np.stack([target.invoke(target.features_to_input(f)) for _, f in clips(1, 50)])
    assert len({tuple(o) for o in outputs}) > 20
    assert ((outputs > -128) & (outputs < 127)).mean() > 0.2


def test_float_within_tolerance(tmp_path_factory):
    flatbuffer = exported(tmp_path_factory, 8, "float")
    report = compare(HostTarget(flatbuffer), flatbuffer, iter(clips(8, 60)))
    assert report["mismatches"] == [] and report["clips"] == 66


def test_verify_cli_on_wav_folder(tmp_path_factory, tmp_path, capsys):
    from model.cli import main

    rng = np.random.default_rng(0)
    pcm16(tmp_path / "silence.wav", np.zeros(16000))
    pcm16(tmp_path / "clipping.wav", np.clip(tone(1.0, 440, 4.0).astype(np.int32) * 4, -32768, 32767))
    pcm16(tmp_path / "quiet.wav", rng.integers(-3, 4, 16000))
    pcm16(tmp_path / "short.wav", tone(0.4, 1000, 0.3))
    model = tmp_path / "m.tflite"
    model.write_bytes(exported(tmp_path_factory, 8, "int8"))
    args = ["verify", "--model", str(model), "--data", str(tmp_path), "--kernels", "cortex_m4", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"clips": 4, "bit_exact": 4, "mismatches": []}
