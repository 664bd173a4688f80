"""Reference clips: what the firmware must print for each, computed on the host.

The golden reference is ``tflite_micro`` on the host (TFLM's kernels) fed from the host's C
frontend and input quantization (``model.deploy.verify.expected_result``); the firmware's ``result`` line
carries its scores and the FNV-1a checksum of the model input it built (firmware/README.md), and
``model.deploy.verify.check_result`` compares them, as ``kws verify --elf`` and the pipeline do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import config
from model.deploy.verify import Expected, expected_result

#: The order splits are drawn from: held-out clips first.
SPLIT_ORDER = ("testing", "validation", "training")


@dataclass(frozen=True)
class Clip:
    name: str
    label: str  # the class it was drawn from, or "edge" for the edge cases
    pcm: np.ndarray  # int16, 1 s


def edge_clips() -> list[Clip]:
    """Inputs at the edges of the frontend's range: silence, clipping, very quiet, DC, short."""
    n = config.CLIP_SAMPLES
    t = np.arange(n) / config.SAMPLE_RATE
    rng = np.random.default_rng(6)
    short = np.zeros(n, np.int16)
    short[: n * 3 // 10] = (8000 * np.sin(2 * np.pi * 1000 * t[: n * 3 // 10])).astype(np.int16)
    cases = {
        "silence": np.zeros(n, np.int16),
        "clipping": np.where(np.sin(2 * np.pi * 440 * t) >= 0, 32767, -32768).astype(np.int16),
        "very-quiet": rng.integers(-3, 4, n).astype(np.int16),
        "dc-offset": np.full(n, 12000, np.int16),
        "short-0.3s": short,
    }
    return [Clip(name, "edge", pcm) for name, pcm in cases.items()]


def dataset_clips(data: Path, per_class: int) -> list[Clip]:
    """``per_class`` clips of every class of the dataset, from the test split first, then validation,
    then training (unaugmented); ValueError when a class has fewer."""
    from model.data.dataset import SpeechCommands

    dataset = SpeechCommands(data)
    clips = []
    for index, label in enumerate(dataset.labels):
        examples = [e for split in SPLIT_ORDER for e in dataset.split(split) if e.label == index][:per_class]
        if len(examples) < per_class:
            raise ValueError(f"{data}: only {len(examples)} clips of class {label!r}, the suite needs {per_class}")
        for example in examples:
            name = f"{example.split}/{example.path.parent.name}/{example.path.name}" if example.path else None
            clips.append(Clip(name or f"{example.split}/silence-{example.index}", label, dataset.load(example)))
    return clips


class Reference:
    """The host's frontend, input quantization and tflite_micro for one model."""

    def __init__(self, tflite: Path) -> None:
        from model.deploy.export import TFLMRunner

        self.runner = TFLMRunner(Path(tflite).read_bytes())

    def expected(self, pcm: np.ndarray) -> Expected:
        return expected_result(self.runner, pcm)
