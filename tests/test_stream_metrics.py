"""Detections scored against what was planted: hits, wrong labels, accepted other words, stray
detections, latency, false accepts; and ``kws stream eval``'s input errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from model import cli
from model.stream.engine import Heard
from model.stream.metrics import false_accepts, tally
from model.stream.plant import Planted, StreamSpec


def spec() -> StreamSpec:
    planted = (
        Planted("yes", "yes", "yes/a.wav", 1000, 2000, 1200, 1800),
        Planted("no", "no", "no/b.wav", 4000, 5000, 4100, 4700),
        Planted("go", "unknown", "go/c.wav", 7000, 8000, 7300, 7600),
        Planted("yes", "yes", "yes/d.wav", 10000, 11000, 10200, 10800),
    )
    return StreamSpec("keywords-10dB", "k.wav", False, 10.0, 0.0, 14.0, "noise.wav", planted)


def test_tally_counts_each_kind() -> None:
    heard = [
        Heard("silence", 250, 500),
        Heard("yes", 210, 2400),  # hit, 600 ms after the speech
        Heard("yes", 205, 4800),  # wrong label for the planted no (window 4100-6200)
        Heard("no", 220, 9000),  # the planted go accepted as a keyword
        Heard("no", 201, 13000),  # after the last window (10200-12300): stray
    ]
    summary = tally(spec(), heard, tolerance_ms=1500).summary()
    assert summary["keywords"] == {"yes": 2, "no": 1}
    assert summary["hit_rate"] == {"yes": 0.5, "no": 0.0}
    assert summary["wrong_label_rate"] == pytest.approx(1 / 3)
    assert summary["other_accept_rate"] == 1.0 and summary["stray_detections"] == 1
    assert summary["latency_ms"] == {"median": 600.0, "p90": 600.0}


def test_windows_stop_at_the_next_word() -> None:
    # 1800 + 3000 would reach into the no's speech (4100): the detection there belongs to the no
    summary = tally(spec(), [Heard("no", 210, 4500)], tolerance_ms=3000).summary()
    assert summary["hit_rate"] == {"yes": 0.0, "no": 1.0} and summary["wrong_label_rate"] == 0


def test_false_accepts_count_keywords_only() -> None:
    assert false_accepts([Heard("silence", 255, 100), Heard("unknown", 230, 900), Heard("no", 201, 3000)]) == 1


def test_eval_without_streams_is_one_line(tmp_path: Path, capsys) -> None:
    assert cli.main(["stream", "eval", "--streams", str(tmp_path), "--model", str(tmp_path / "m.tflite")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "streams.json" in err[0]


@pytest.mark.parametrize("engine", ["c", "tflm"])
def test_engine_refuses_a_model_with_other_classes(tmp_path: Path, engine: str) -> None:
    """A third party's 12-class model: one line naming the file, not a broadcast error per window."""
    pytest.importorskip("tensorflow")
    import tensorflow as tf
    from test_verify import tf_int8_model

    from model.errors import BadInput
    from model.stream.engine import HostEngine

    def twelve_classes(x, rng):
        w = tf.constant(rng.normal(0, 0.02, (49 * 40, 12)).astype("float32"))
        return tf.nn.softmax(tf.matmul(tf.reshape(x, [1, -1]), w))

    model = tmp_path / "twelve.tflite"
    model.write_bytes(tf_int8_model(twelve_classes))
    with pytest.raises(BadInput, match="the model has 12 outputs; the recognizer scores 4") as error:
        HostEngine(model, engine=engine)
    assert error.value.path == str(model)
