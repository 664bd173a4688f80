"""Streams for the firmware's stream mode, made by ``model.stream.plant`` (``kws stream make``'s code).

The keyword stream plants keywords and other words of the dataset's test split, drawn by a seed,
never chosen by what the model hears: the suite checks that the firmware hears exactly what the
host engine (``model.stream.engine``) hears on it, whatever that is, and, separately, that the
host engine's hit rate and false accepts on longer streams meet the thresholds of variants.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import config
from model.stream.engine import Heard, HostEngine
from model.stream.plant import StreamSpec, plan_layout, render, split_clips

#: The suite's keyword stream: keywords and other words of the test split at 10 dB SNR.
SUITE_KEYWORDS = 4
#: Slots of the keyword-free stream of the thresholds test: 5 minutes.
FREE_SLOTS = 100
SNR_DB = 10.0
SEED = 0


@dataclass(frozen=True)
class PlantedStream:
    pcm: np.ndarray  # int16
    spec: StreamSpec

    @property
    def seconds(self) -> float:
        return self.pcm.size / config.SAMPLE_RATE


def planted_stream(
    data: Path, *, keywords: bool = True, max_keywords: int | None = SUITE_KEYWORDS, free_slots: int = 0
) -> PlantedStream:
    """A keyword stream of ``max_keywords`` test-split keywords (all with None) and half as many
    other words, or a keyword-free stream of ``free_slots`` slots, at SNR_DB."""
    from model.data.dataset import SpeechCommands

    dataset = SpeechCommands(data)
    layout = plan_layout(
        split_clips(data, "testing"),
        Path(data),
        np.random.default_rng([SEED, int(not keywords)]),
        keywords=keywords,
        max_keywords=max_keywords,
        free_slots=free_slots,
        other_share=0.5,
        spacing_s=3.0,
        lead_s=2.0,
    )
    pcm, planted, noise = render(dataset, layout, SNR_DB, 0.0, np.random.default_rng([SEED, 2]))
    name = "keywords" if keywords else "free"
    spec = StreamSpec(name, f"{name}.s16le", not keywords, SNR_DB, 0.0, pcm.size / config.SAMPLE_RATE, noise, planted)
    return PlantedStream(pcm, spec)


def host_heard(stream: PlantedStream, tflite: Path, stride: int) -> list[Heard]:
    """What the firmware paced to ``stride`` must print on ``stream``."""
    return HostEngine(tflite, stride).heard(stream.pcm)


def speech_stream(data: Path, seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """Speech of every class in turn over background noise, one clip per second, nothing chosen by a
    model: realistic input for stage cycles (they depend on the data) whatever the model hears."""
    from kwsrobot.clips import dataset_clips
    from model.data.dataset import SpeechCommands

    n = round(seconds * config.SAMPLE_RATE)
    clips = dataset_clips(data, 2)
    rng = np.random.default_rng(seed)
    background = SpeechCommands(data).background
    noise = background[int(rng.integers(len(background)))]
    start = int(rng.integers(noise.size))
    audio = np.float32(0.05 * 32768) * np.tile(noise, -(-n // noise.size) + 1)[start : start + n]
    for i in range(int(seconds) - 1):
        clip = clips[i % len(clips)].pcm
        audio[i * config.SAMPLE_RATE : i * config.SAMPLE_RATE + clip.size] += clip.astype(np.float32)
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16)
