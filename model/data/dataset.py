"""Speech Commands input pipeline, reproducing TensorFlow's ``speech_commands`` recipe.

What matches TF (so results are comparable with the study and micro_speech):

* the split: a clip's set depends only on the speaker part of its name (before ``_nohash_``),
  hashed with SHA-1, so one speaker never lands in two sets and the split is stable as the
  dataset grows; or, optionally, the ``validation_list.txt`` / ``testing_list.txt`` shipped
  with the archive;
* per split, ``ceil(n_wanted * pct / 100)`` silence and unknown examples;
* training augmentation: time shift in ±100 ms with zero padding, background noise in 80 % of
  clips at volume U(0, 0.1), silence = background at volume U(0, 1), all in float32 on
  ``sample / 32768`` clipped to [-1, 1], then back to int16 by ``* 32768`` with the truncating
  cast TF uses;
* silence, in every split: a random 1 s window of a background recording at volume U(0, 1);
* validation and testing: otherwise no augmentation (no shift, no background).

What is deliberately ours: every random choice comes from numpy Generators seeded with
explicit integers (the seed, a split or epoch/step, an index) instead of Python's global
``random``, so a training run is reproducible example by example.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from model import config
from model.data.audio import pad_or_trim, read_wav
from model.errors import BadInput

SPLITS: tuple[str, ...] = ("training", "validation", "testing")
#: Short names (as in metrics.json) accepted by :meth:`SpeechCommands.split`.
SPLIT_ALIASES = {"train": "training", "test": "testing", "val": "validation"}
_HASH_BUCKETS = 2**27  # TF's MAX_NUM_WAVS_PER_CLASS + 1
_NOHASH = re.compile(r"_nohash_.*$")


def speaker_key(filename: str | Path) -> str:
    """The part of a clip name that identifies its speaker: everything before ``_nohash_``."""
    return _NOHASH.sub("", Path(filename).name)


def hash_percentage(filename: str | Path) -> float:
    """Where the clip's speaker falls in [0, 100], by TF's SHA-1 rule."""
    digest = int(hashlib.sha1(speaker_key(filename).encode()).hexdigest(), 16)
    return (digest % _HASH_BUCKETS) * (100.0 / (_HASH_BUCKETS - 1))


def which_set(filename: str | Path, validation_pct: float = 10.0, testing_pct: float = 10.0) -> str:
    """``"training"``, ``"validation"`` or ``"testing"`` for a clip, by the hash rule."""
    percentage = hash_percentage(filename)
    if percentage < validation_pct:
        return "validation"
    if percentage < validation_pct + testing_pct:
        return "testing"
    return "training"


@dataclass(frozen=True)
class Example:
    """One example of a split: a clip (``path``) or silence (``path`` is None), and its label index.

    ``index`` numbers the silence examples of a split, so each has its own noise window.
    """

    path: Path | None
    label: int
    split: str
    index: int = 0


def example_rng(seed: int, step: int, index: int) -> np.random.Generator:
    """The generator for augmenting example ``index`` at ``step`` (or epoch) of a run seeded ``seed``."""
    return np.random.default_rng([seed, step, index])


#: TensorFlow's augmentation defaults (its train.py's --time_shift_ms and --background_volume).
TIME_SHIFT_MS = 100.0
BACKGROUND_VOLUME = 0.1


class SpeechCommands:
    """A dataset in Speech Commands layout (``<word>/<speaker>_nohash_<n>.wav``, ``_background_noise_/``).

    Labels are ``("silence", "unknown", *wanted_words)``: with the default wanted words this is
    ``config.LABELS``. Every word folder other than the wanted ones (and the background folder)
    is "unknown".
    """

    def __init__(
        self,
        root: str | Path,
        *,
        wanted_words: Sequence[str] = config.WANTED_WORDS,
        silence_pct: float = 25.0,
        unknown_pct: float = 25.0,
        validation_pct: float = 10.0,
        testing_pct: float = 10.0,
        use_list_files: bool = False,
        seed: int = 0,
        time_shift_ms: float = TIME_SHIFT_MS,
        background_frequency: float = 0.8,
        background_volume: float = BACKGROUND_VOLUME,
        speed_perturb: float = 0.0,
    ) -> None:
        self.root = Path(root)
        self.wanted_words = tuple(wanted_words)
        self.labels: tuple[str, ...] = ("silence", "unknown", *self.wanted_words)
        self.silence_pct = silence_pct
        self.unknown_pct = unknown_pct
        self.validation_pct = validation_pct
        self.testing_pct = testing_pct
        self.use_list_files = use_list_files
        self.seed = seed
        self.time_shift = round(time_shift_ms * config.SAMPLE_RATE / 1000)
        self.background_frequency = background_frequency
        self.background_volume = background_volume
        self.speed_perturb = speed_perturb
        self._splits = self._build_splits()

    # -- index -------------------------------------------------------------------------------

    def _clips(self) -> dict[str, list[Path]]:
        """Clips per word folder, sorted, so the index never depends on directory order."""
        if not self.root.exists():
            raise BadInput(self.root, "no such dataset directory")
        if not self.root.is_dir():
            raise BadInput(self.root, "not a directory, expected a dataset in Speech Commands layout")
        clips: dict[str, list[Path]] = {}
        for path in sorted(self.root.glob("*/*.wav")):
            word = path.parent.name.lower()
            if word != config.BACKGROUND_NOISE_DIR:
                clips.setdefault(word, []).append(path)
        if not clips:
            raise BadInput(self.root, "no clips (<word>/*.wav): not a dataset in Speech Commands layout")
        for word in self.wanted_words:
            if word not in clips:
                raise BadInput(self.root, f"no clips of wanted word {word!r} (expected {word}/*.wav)")
        return clips

    def _list_file_sets(self) -> dict[str, str]:
        """Relative path → split, from the list files shipped with the dataset."""
        sets: dict[str, str] = {}
        for split in ("validation", "testing"):
            list_file = self.root / f"{split}_list.txt"
            if not list_file.is_file():
                raise BadInput(self.root, f"no {list_file.name} (needed to split by the list files)")
            for line in list_file.read_text().splitlines():
                if line.strip():
                    sets[line.strip()] = split
        return sets

    def _build_splits(self) -> dict[str, list[Example]]:
        clips = self._clips()
        listed = self._list_file_sets() if self.use_list_files else None
        wanted: dict[str, list[Example]] = {split: [] for split in SPLITS}
        unknown_pool: dict[str, list[Path]] = {split: [] for split in SPLITS}
        for word, paths in clips.items():
            for path in paths:
                if listed is not None:
                    split = listed.get(f"{word}/{path.name}", "training")
                else:
                    split = which_set(path, self.validation_pct, self.testing_pct)
                if word in self.wanted_words:
                    wanted[split].append(Example(path, self.labels.index(word), split))
                else:
                    unknown_pool[split].append(path)
        splits: dict[str, list[Example]] = {}
        for number, split in enumerate(SPLITS):
            rng = np.random.default_rng([self.seed, number])
            n_wanted = len(wanted[split])
            n_silence = math.ceil(n_wanted * self.silence_pct / 100)
            # Like TF, a small unknown pool simply yields fewer unknown examples.
            pool = unknown_pool[split]
            n_unknown = min(math.ceil(n_wanted * self.unknown_pct / 100), len(pool))
            chosen = sorted(rng.choice(len(pool), size=n_unknown, replace=False)) if n_unknown else []
            examples = wanted[split] + [Example(None, 0, split, i) for i in range(n_silence)]
            examples += [Example(pool[i], 1, split) for i in chosen]
            splits[split] = [examples[i] for i in rng.permutation(len(examples))]
        return splits

    def split(self, name: str) -> list[Example]:
        """The examples of a split (``training``/``validation``/``testing``, or ``train``/``val``/``test``)."""
        name = SPLIT_ALIASES.get(name, name)
        if name not in self._splits:
            raise ValueError(f"unknown split {name!r}, expected one of {', '.join(SPLITS)}")
        return list(self._splits[name])

    def summary(self) -> dict[str, dict[str, int]]:
        """Examples per split per label name."""
        counts: dict[str, dict[str, int]] = {}
        for split, examples in self._splits.items():
            per_label = dict.fromkeys(self.labels, 0)
            for example in examples:
                per_label[self.labels[example.label]] += 1
            counts[split] = per_label
        return counts

    # -- audio -------------------------------------------------------------------------------

    def load(self, example: Example) -> np.ndarray:
        """The example as int16 without augmentation; clips zero-padded to 1 s, longer ones BadInput.

        Silence is background noise at volume U(0, 1), as TensorFlow does in every split; its
        window and volume depend only on (seed, split, index), so evaluation is repeatable.
        """
        if example.path is None:
            rng = np.random.default_rng([self.seed, SPLITS.index(example.split), example.index, 0x51])
            return _to_int16(self._silence(rng))
        return pad_or_trim(read_wav(example.path, max_samples=config.CLIP_SAMPLES))

    def _silence(self, rng: np.random.Generator, samples: int = config.CLIP_SAMPLES) -> np.ndarray:
        volume = rng.uniform(0, 1)
        return np.float32(volume) * self._background_window(rng, samples)

    @cached_property
    def background(self) -> list[np.ndarray]:
        """The background noise recordings as float32 in [-1, 1] (loaded on first use)."""
        folder = self.root / config.BACKGROUND_NOISE_DIR
        if not folder.is_dir():
            raise BadInput(self.root, f"no {config.BACKGROUND_NOISE_DIR}/ folder (needed for background mixing)")
        noises = []
        for path in sorted(folder.glob("*.wav")):
            samples = read_wav(path)
            if samples.size < config.CLIP_SAMPLES:
                raise BadInput(path, f"background recording shorter than {config.CLIP_MS} ms")
            noises.append(samples.astype(np.float32) / 32768)
        if not noises:
            raise BadInput(folder, "no background recordings (*.wav)")
        return noises

    def _background_window(self, rng: np.random.Generator, samples: int = config.CLIP_SAMPLES) -> np.ndarray:
        noise = self.background[int(rng.integers(len(self.background)))]
        if noise.size < samples:  # a recording shorter than the context asked for loops
            noise = np.resize(noise, samples)
        start = int(rng.integers(noise.size - samples, endpoint=True))
        return noise[start : start + samples]

    def augmented(self, example: Example, rng: np.random.Generator, context: int = 0) -> np.ndarray:
        """The example as the model sees it in training: shifted and mixed with background noise.

        ``context`` > 0 puts the clip at the end of a longer recording, as in a stream: the
        background (when one is mixed) starts ``context`` samples earlier and continues under the
        clip, so a frontend run over the whole returns, in its last frames, the clip's features with
        noise reduction and gain control adapted to that background (see ``model.batches``).
        Examples of the validation and testing splits come back unchanged (as :meth:`load`).
        """
        if example.split != "training":
            return self.load(example)
        if example.path is None:
            return _to_int16(self._silence(rng, context + config.CLIP_SAMPLES))
        audio = self.load(example).astype(np.float32) / 32768
        if self.speed_perturb:  # drawn only when asked, so the default recipe's draws stay as they were
            audio = speed_changed(audio, rng.uniform(1 - self.speed_perturb, 1 + self.speed_perturb))
        shift = int(rng.integers(-self.time_shift, self.time_shift, endpoint=True)) if self.time_shift else 0
        if shift > 0:
            audio = np.concatenate([np.zeros(shift, np.float32), audio[:-shift]])
        elif shift < 0:
            audio = np.concatenate([audio[-shift:], np.zeros(-shift, np.float32)])
        if context:
            audio = np.concatenate([np.zeros(context, np.float32), audio])
        mixing = self.background_frequency > 0 and self.background_volume > 0
        if mixing and rng.uniform(0, 1) < self.background_frequency:
            volume = rng.uniform(0, self.background_volume)
            audio = audio + np.float32(volume) * self._background_window(rng, audio.size)
        return _to_int16(audio)


def speed_changed(audio: np.ndarray, factor: float) -> np.ndarray:
    """``audio`` played ``factor`` times faster (pitch, formants and pace together, like a shorter or
    longer vocal tract), by linear interpolation, centred in the original length."""
    positions = np.arange(0, audio.size - 1, factor)
    changed = np.interp(positions, np.arange(audio.size), audio).astype(np.float32)
    if changed.size >= audio.size:
        start = (changed.size - audio.size) // 2
        return changed[start : start + audio.size]
    before = (audio.size - changed.size) // 2
    return np.pad(changed, (before, audio.size - changed.size - before))


def _to_int16(audio: np.ndarray) -> np.ndarray:
    """float32 audio in [-1, 1] to int16 as TF does: clip, scale by 32768, truncate toward zero."""
    audio = np.clip(audio, -1.0, 1.0) * np.float32(32768)
    # +1.0 would overflow int16 without the second clip.
    return np.clip(audio, -32768, 32767).astype(np.int16)
