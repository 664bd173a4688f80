"""Feature arrays for training and evaluation: the only place that touches the dataset and frontend.

Training and evaluation work on plain arrays — uint16 features (N, 49, 40) and int64 labels
(N,) in ``config.LABELS`` order — so that they can be tested on synthetic data.

Augmented training features come from a precomputed pool: K augmented versions of every
training clip (time shift and background noise drawn by ``SpeechCommands.augmented``), and each
step samples a (clip, version) pair. Computing the frontend live would cost ~0.03 s per batch of
100, more than the training step itself; K versions give most of augmentation's benefit at a
one-off cost of K frontend calls per clip. The pool is cached on disk, keyed by the data
settings, so reruns and resumes reuse it, and memory-mapped: with Speech Commands' ~9,500
training clips (yes, no, 25% silence, 25% unknown) and K = 8 it is ~300 MB.

Stream context: a fraction of the versions are computed as the firmware's stream mode sees them
— the clip at the end of 0.5-2 s of the same background, the frontend run over all of it and
its last 49 frames kept. The frontend's noise reduction and PCAN gain adapt over about a second,
so a clip's features from a fresh frontend (how clips are stored and evaluated) and the same
clip inside a noisy stream differ a lot (mean |difference| ~110 of ~290 at background volume
0.02); a model that saw only fresh-frontend features hears few keywords in a stream.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model import config
from model.atomic import atomic_directory
from model.data.dataset import BACKGROUND_VOLUME, TIME_SHIFT_MS
from model.errors import BadInput

#: Report split name → the dataset's split name.
SPLITS = {"train": "training", "validation": "validation", "test": "testing"}
#: Keyword arguments of ``SpeechCommands`` that a training run records and evaluation reuses.
DATA_SETTINGS = ("silence_pct", "unknown_pct", "validation_pct", "testing_pct", "seed")
#: ``SpeechCommands``' augmentation of training clips, at its defaults: a setting at its default
#: stays out of the pool's cache key, so pools made before a setting existed stay valid.
AUGMENT_DEFAULTS = {"speed_perturb": 0.0, "time_shift_ms": TIME_SHIFT_MS, "background_volume": BACKGROUND_VOLUME}


@dataclass
class Split:
    features: np.ndarray  # uint16 (N, 49, 40)
    labels: np.ndarray  # int64 (N,), indices into config.LABELS


@dataclass
class TrainData:
    pool: np.ndarray  # uint16 (K, N, 49, 40): K augmented versions of each training clip
    train: Split  # the same N clips without augmentation; its labels also label the pool
    validation: Split
    test: Split


def open_dataset(data: Path, settings: dict[str, Any], **augment: float):
    """The ``SpeechCommands`` dataset under ``data`` with the recorded split settings and the
    training clips' augmentation (``speed_perturb``, ``time_shift_ms``, ``background_volume``)."""
    from model.data.dataset import SpeechCommands

    if not Path(data).is_dir():
        raise BadInput(data, "no such dataset directory")
    kwargs = {key: settings[key] for key in DATA_SETTINGS if key in settings}
    return SpeechCommands(Path(data), wanted_words=config.WANTED_WORDS, **augment, **kwargs)


def _labels(examples: list) -> np.ndarray:
    return np.array([example.label for example in examples], dtype=np.int64)


def clean_splits(dataset, cache: Path, progress: bool = True) -> dict[str, Split]:
    """Features without augmentation of every split, through the frontend's on-disk cache."""
    from tqdm import tqdm

    from model.data.features import FeatureCache

    features = FeatureCache(Path(cache) / "clean")
    splits = {}
    for name, dataset_name in SPLITS.items():
        examples = dataset.split(dataset_name)
        stacked = np.zeros((len(examples), config.NUM_FRAMES, config.NUM_CHANNELS), dtype=np.uint16)
        for i, example in enumerate(tqdm(examples, desc=f"features {name}", unit="clip", disable=not progress)):
            stacked[i] = features.get(dataset.load(example))
        splits[name] = Split(stacked, _labels(examples))
    return splits


#: Stream context lengths, in frontend steps (20 ms): 0.5 to 2 s of background before the clip.
CONTEXT_STEPS = (25, 100)


def context_samples(rng: np.random.Generator, stream_context: float) -> int:
    """Samples of background before the clip (0: a fresh frontend), a whole number of frontend steps
    so that the last 49 frames are exactly the clip's."""
    if rng.uniform(0, 1) >= stream_context:
        return 0
    return int(rng.integers(CONTEXT_STEPS[0], CONTEXT_STEPS[1], endpoint=True)) * config.STEP_SAMPLES


def augmented_pool(
    dataset, directory: Path, versions: int, seed: int, progress: bool = True, *, stream_context: float = 0.0
) -> np.ndarray:
    """(versions, N, 49, 40) augmented features of the training clips, memory-mapped from ``directory``.

    Version ``k`` of clip ``i`` is drawn with ``default_rng([seed, k, i])`` (its stream context with
    ``default_rng([seed, k, i, 1])``): the pool does not depend on the order it is built in. The
    directory appears only once the pool is complete.
    """
    from tqdm import tqdm

    from model.data.features import microfrontend

    path = Path(directory) / "pool.npy"
    if not path.exists():
        examples = dataset.split(SPLITS["train"])
        shape = (versions, len(examples), config.NUM_FRAMES, config.NUM_CHANNELS)
        with atomic_directory(Path(directory)) as tmp:
            pool = np.lib.format.open_memmap(tmp / "pool.npy", mode="w+", dtype=np.uint16, shape=shape)
            bar = tqdm(total=versions * len(examples), desc="augmented pool", unit="clip", disable=not progress)
            for k in range(versions):
                for i, example in enumerate(examples):
                    context = context_samples(np.random.default_rng([seed, k, i, 1]), stream_context)
                    audio = dataset.augmented(example, np.random.default_rng([seed, k, i]), context)
                    pool[k, i] = microfrontend(audio)[-config.NUM_FRAMES :]
                    bar.update()
            bar.close()
            pool.flush()
            del pool
    return np.load(path, mmap_mode="r")


def load_train_data(
    data: Path,
    cache: Path,
    settings: dict[str, Any],
    versions: int,
    progress: bool = True,
    *,
    stream_context: float = 0.0,
    **augment: float,
) -> TrainData:
    """Clean features of every split and the augmented pool, both cached under ``cache``.

    ``augment`` is ``SpeechCommands``' augmentation of training clips: ``speed_perturb``,
    ``time_shift_ms``, ``background_volume`` (TensorFlow's values where absent). The pool's
    cache key covers the dataset path, its split settings, K, the stream-context fraction, each
    augmentation setting that differs from its default and the training labels. The path is
    taken relative to the cache, so a tree holding both keeps its pool when it is moved or copied.
    """
    dataset = open_dataset(data, settings, **augment)
    splits = clean_splits(dataset, cache, progress)
    where = os.path.relpath(Path(data).resolve(), Path(cache).resolve())
    key = {"data": Path(where).as_posix(), "settings": settings, "versions": versions}
    if stream_context:
        key["stream_context"] = stream_context
    key |= {name: value for name, value in augment.items() if value != AUGMENT_DEFAULTS[name]}
    key["labels"] = hashlib.sha1(splits["train"].labels.tobytes()).hexdigest()
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    directory = Path(cache) / f"pool-{digest}"
    pool = augmented_pool(dataset, directory, versions, settings["seed"], progress, stream_context=stream_context)
    return TrainData(pool=pool, train=splits["train"], validation=splits["validation"], test=splits["test"])
