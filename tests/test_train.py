"""Training on synthetic separable features: accuracy, determinism, resume, outputs and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from model import config
from model.errors import BadInput
from model.train import training as train
from model.train.batches import Split, TrainData
from model.train.evaluate import confusion_matrix, split_metrics
from model.train.tinyconv import load_checkpoint

torch.set_num_threads(1)


def synthetic_features(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint16 (N, 49, 40): noise plus a bright frequency band that depends on the class, at a random time."""
    n = len(labels)
    x = rng.integers(0, 200, size=(n, config.NUM_FRAMES, config.NUM_CHANNELS))
    for i, label in enumerate(labels):
        start = rng.integers(5, 20)
        x[i, start : start + 20, 10 * label : 10 * label + 10] += 300
    return x.astype(np.uint16)


def split(per_class: int, rng: np.random.Generator) -> Split:
    labels = np.repeat(np.arange(len(config.LABELS)), per_class)
    return Split(synthetic_features(labels, rng), labels)


def synthetic_data(per_class: int = 40, versions: int = 3, seed: int = 0) -> TrainData:
    rng = np.random.default_rng(seed)
    clean = split(per_class, rng)
    pool = np.stack([synthetic_features(clean.labels, rng) for _ in range(versions)])
    return TrainData(pool=pool, train=clean, validation=split(20, rng), test=split(20, rng))


def small_config(**overrides) -> train.TrainConfig:
    settings = {"steps": [150, 50], "lr": [0.002, 0.0005], "batch_size": 32, "eval_every": 50, "channels": 4}
    return train.TrainConfig(**(settings | overrides))


@pytest.fixture(scope="module")
def data():
    return synthetic_data()


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """One uninterrupted run that the other tests compare with."""
    out = tmp_path_factory.mktemp("reference")
    return out, train.train(data, out, small_config(), progress=False)


def test_reaches_high_accuracy_and_writes_outputs(reference):
    out, metrics = reference
    for name in ("train", "validation", "test"):
        assert metrics["splits"][name]["total"]["accuracy"] >= 0.95, metrics["splits"][name]
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert set(metrics["splits"]["test"]["per_class"]) == set(config.LABELS)
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG")
    report = (out / "report.md").read_text()
    for name in ("### train", "### validation", "### test", "Confusion matrix", "| **total** |"):
        assert name in report
    model, payload = load_checkpoint(out / "model.pt")
    assert model.channels == 4
    assert payload["train_config"]["steps"] == [150, 50]
    assert payload["step"] % 50 == 0


def test_same_seed_same_metrics(data, reference, tmp_path):
    assert train.train(data, tmp_path, small_config(), progress=False) == reference[1]
    assert (tmp_path / "model.pt").read_bytes() != b""


def test_resume_after_interruption_gives_the_same_result(data, reference, tmp_path, monkeypatch):
    sample = train.sample_batch

    def interrupted(data, cfg, step):
        if step == 120:
            raise KeyboardInterrupt
        return sample(data, cfg, step)

    monkeypatch.setattr(train, "sample_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train.train(data, tmp_path, small_config(), progress=False)
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 100
    monkeypatch.setattr(train, "sample_batch", sample)
    assert train.train(data, tmp_path, small_config(), progress=False) == reference[1]
    assert (tmp_path / "model.pt").read_bytes() == (reference[0] / "model.pt").read_bytes()


def test_resume_with_other_settings_is_bad_input(reference):
    with pytest.raises(BadInput, match=r"other settings \(seed 0 → 1\)"):
        train.train(None, reference[0], small_config(seed=1), progress=False)


def test_a_state_from_before_speed_perturb_resumes(reference, tmp_path):
    state = torch.load(reference[0] / "last.pt", weights_only=True)
    del state["config"]["speed_perturb"]  # as saved before the setting existed
    torch.save(state, tmp_path / "last.pt")
    assert train.completed_steps(tmp_path, small_config()) == 200
    with pytest.raises(BadInput, match=r"other settings \(speed_perturb 0.0 → 0.1\)"):
        train.completed_steps(tmp_path, small_config(speed_perturb=0.1))


def test_lr_schedule_and_config_checks():
    cfg = small_config()
    assert [train.lr_at(cfg, s) for s in (0, 149, 150, 199)] == [0.002, 0.002, 0.0005, 0.0005]
    with pytest.raises(ValueError, match="same number of phases"):
        small_config(lr=[0.1])


def test_split_metrics_follow_contract_4():
    labels = np.array([0, 0, 1, 2, 3, 3])
    confusion = confusion_matrix(labels, np.array([0, 1, 1, 2, 3, 0]))
    metrics = split_metrics(confusion)
    assert metrics["per_class"]["silence"] == {"samples": 2, "correct": 1, "accuracy": 0.5}
    assert metrics["per_class"]["no"] == {"samples": 2, "correct": 1, "accuracy": 0.5}
    assert metrics["total"] == {"samples": 6, "correct": 4, "accuracy": 4 / 6}
    assert confusion[3, 0] == 1 and confusion.sum() == 6


def test_settings_added_later_stay_out_of_the_cache_key_at_their_defaults():
    """A pipeline tree trained before --time-shift and --background-volume existed keeps its stages."""
    from dataclasses import asdict

    key = train.TrainConfig().key()
    assert key == {k: v for k, v in asdict(train.TrainConfig()).items() if k not in train.LATER_DEFAULTS}
    assert train.TrainConfig(time_shift_ms=250.0).key()["time_shift_ms"] == 250.0
    assert train.TrainConfig(background_volume=0.3).key()["background_volume"] == 0.3
