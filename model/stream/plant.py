"""Long streams with ground truth: words of a dataset split planted at known, non-overlapping
positions over background noise at a chosen SNR and speech level.

A *keyword stream* holds every keyword clip of the split (or the first ``max_keywords`` of a
seeded shuffle) and, between them, other words of the split (``other_share`` of the keyword
count); a *keyword-free stream* holds only other words and noise, some slots left empty, for false
accepts. Each clip gets a slot of ``spacing_s`` seconds and starts a seeded jitter into it; the
stream opens with ``lead_s`` seconds of noise alone, so the frontend's noise estimate has settled
before the first word, and ends on a whole second (whole PDM blocks at every pace).

The layout depends only on the seed, so the streams of different SNRs and levels plant the same
clips at the same times: a change in the metrics is the noise's doing. Noise is one recording of
``_background_noise_`` looped from a seeded start, scaled so that the median RMS of the planted
words' speech (their frames within 30 dB of the loudest) stands ``snr_db`` above the noise's RMS;
``None`` is clean (no noise). ``level_db`` scales the words (and so the noise with them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from model import config

#: Speech frames: within this many dB of a clip's loudest 20 ms frame.
ACTIVE_DB = 30.0
MS = config.SAMPLE_RATE // 1000


@dataclass(frozen=True)
class Planted:
    """One planted clip: its word, the class the model should give it, and where it lies (ms)."""

    word: str
    label: str  # yes / no / unknown
    clip: str  # path relative to the dataset
    start_ms: int
    end_ms: int
    speech_start_ms: int
    speech_end_ms: int


@dataclass(frozen=True)
class StreamSpec:
    """What ``kws stream make`` writes of one stream (streams.json)."""

    name: str
    file: str
    keyword_free: bool
    snr_db: float | None
    level_db: float
    seconds: float
    noise: str | None
    planted: tuple[Planted, ...]

    def to_json(self) -> dict:
        return {**asdict(self), "planted": [asdict(p) for p in self.planted]}

    @classmethod
    def from_json(cls, record: dict) -> StreamSpec:
        return cls(**{**record, "planted": tuple(Planted(**p) for p in record["planted"])})


def split_clips(data: Path, split: str) -> dict[str, list[Path]]:
    """The split's clips per word folder (TensorFlow's hash split, as the loader's default)."""
    from model.data.dataset import SPLIT_ALIASES, which_set

    split = SPLIT_ALIASES.get(split, split)
    words: dict[str, list[Path]] = {}
    for path in sorted(Path(data).glob("*/*.wav")):
        word = path.parent.name.lower()
        if word != config.BACKGROUND_NOISE_DIR and which_set(path) == split:
            words.setdefault(word, []).append(path)
    return words


def speech_bounds(pcm: np.ndarray) -> tuple[int, int, float]:
    """(first, end) sample of a clip's speech frames and their RMS (in int16 units)."""
    step = config.STEP_SAMPLES
    frames = pcm[: pcm.size // step * step].astype(np.float64).reshape(-1, step)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    active = np.flatnonzero(rms >= rms.max() * 10 ** (-ACTIVE_DB / 20)) if rms.max() > 0 else np.array([0])
    first, last = int(active[0]), int(active[-1])
    return first * step, (last + 1) * step, float(np.sqrt(np.mean(rms[active] ** 2)))


@dataclass(frozen=True)
class Layout:
    """Clips (relative path, word, label) and their start samples; the stream's length in samples."""

    clips: tuple[tuple[str, str, str], ...]
    starts: tuple[int, ...]
    samples: int


def plan_layout(
    words: dict[str, list[Path]],
    data: Path,
    rng: np.random.Generator,
    *,
    keywords: bool,
    max_keywords: int | None,
    free_slots: int,
    other_share: float,
    spacing_s: float,
    lead_s: float,
) -> Layout:
    """Which clips go where (see the module docstring). ``keywords`` False: a keyword-free stream
    of ``free_slots`` slots, every fourth left empty."""
    wanted = [(p, w, w) for w in config.WANTED_WORDS for p in words.get(w, [])]
    others = [(p, w, "unknown") for w, ps in words.items() if w not in config.WANTED_WORDS for p in ps]
    order = [wanted[i] for i in rng.permutation(len(wanted))][:max_keywords] if keywords else []
    n_other = round(other_share * len(order)) if keywords else free_slots
    pool = [others[i] for i in rng.permutation(len(others))] if others else []
    chosen = [pool[i % len(pool)] for i in range(n_other)] if pool else []
    if keywords:
        slots: list = order + chosen
        slots = [slots[i] for i in rng.permutation(len(slots))]
    else:
        slots = [None if i % 4 == 3 else chosen[i] for i in range(len(chosen))]
    slot = round(spacing_s * 1000) * MS
    jitter = max(0, slot - config.CLIP_SAMPLES - round(1.5 * config.SAMPLE_RATE))
    lead = round(lead_s * 1000) * MS
    clips, starts = [], []
    for i, item in enumerate(slots):
        if item is not None:
            clips.append((str(item[0].relative_to(data)), item[1], item[2]))
            starts.append(lead + i * slot + int(rng.integers(jitter // MS + 1)) * MS)  # whole ms: exact in the JSON
    samples = -(-(lead + len(slots) * slot) // config.SAMPLE_RATE) * config.SAMPLE_RATE
    return Layout(tuple(clips), tuple(starts), samples)


def noise_bed(dataset, samples: int, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """A background recording looped from a seeded start, float64 at unit RMS, and its name."""
    folder = Path(dataset.root) / config.BACKGROUND_NOISE_DIR
    names = sorted(p.name for p in folder.glob("*.wav"))
    index = int(rng.integers(len(dataset.background)))
    noise = dataset.background[index].astype(np.float64)
    start = int(rng.integers(noise.size))
    looped = np.tile(noise, -(-(start + samples) // noise.size))[start : start + samples]
    rms = float(np.sqrt(np.mean(looped**2)))
    return names[index], looped / rms if rms > 0 else looped


def render(
    dataset, layout: Layout, snr_db: float | None, level_db: float, rng: np.random.Generator
) -> tuple[np.ndarray, tuple[Planted, ...], str | None]:
    """The stream's int16 samples, what was planted (ms) and the noise recording's name."""
    from model.data.audio import read_wav

    gain = 10 ** (level_db / 20)
    audio = np.zeros(layout.samples, np.float64)
    planted, loudness = [], []
    for (clip, word, label), start in zip(layout.clips, layout.starts, strict=True):
        pcm = read_wav(Path(dataset.root) / clip, max_samples=config.CLIP_SAMPLES)
        first, end, rms = speech_bounds(pcm)
        audio[start : start + pcm.size] += gain * pcm
        loudness.append(gain * rms)
        ms = [(start + s) * 1000 // config.SAMPLE_RATE for s in (0, pcm.size, first, end)]
        planted.append(Planted(word, label, clip, *ms))
    name = None
    if snr_db is not None:
        reference = float(np.median(loudness)) if loudness else 1000.0 * gain
        name, noise = noise_bed(dataset, layout.samples, rng)
        audio += noise * reference * 10 ** (-snr_db / 20)
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16), tuple(planted), name
