"""The host engine: what the firmware's stream mode hears, computed on the host from the same parts.

The firmware runs the frontend on each PDM block of ``stride`` 20 ms frames (its boot line says
which stride it paced itself to); frame k of the stream is complete once k + 2 frames of audio
have arrived (a 30 ms window), and once 49 frames exist the model runs after every block on the
last 49, its scores going to RecognizeCommands at ``t_ms`` = the audio time at the end of the
block (firmware/README.md). A float32 model's probabilities become int8 scores as the firmware
rounds them (``model.deploy.verify.firmware_scores``). The host does the same with the C frontend
over the whole stream (it carries its state from frame to frame exactly as the firmware does), the
model (the generated C built for the host, bit-exact with ``tflite_micro`` and the firmware for
int8, or ``tflite_micro`` itself) and the very recognizer C file the firmware links
(``make host-recognizer``), as long as no block is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import config
from model.errors import BadInput
from model.stream.recognizer import Recognizer, load_library

#: Frame k is complete once k + FRAME_OFFSET frames (20 ms each) of audio have arrived.
FRAME_OFFSET = -(-config.WINDOW_SAMPLES // config.STEP_SAMPLES)
#: How the host runs the model: the generated C (host build) or tflite_micro.
MODEL_ENGINES = ("c", "tflm")


@dataclass(frozen=True)
class Heard:
    """One ``heard`` line: label, score (0-255) and audio time in ms."""

    label: str
    score: int
    t_ms: int


class _Model:
    """Model inputs of features and the firmware's int8 scores of one input."""

    def __init__(self, tflite: Path, engine: str) -> None:
        from model.deploy.tflite_reader import read_model

        _, flatbuffer = read_model(tflite)  # a missing or malformed file: one line
        if engine == "c":
            from model.deploy.verify import HostTarget

            # the firmware's kernels (the Cortex-M4 set's portable C twin here); its float32
            # kernels are the reference ones, and a float32-in model may have int8 layers inside
            self.target = HostTarget(flatbuffer, "cortex_m4", tflite)
            self.inputs = self.target.features_to_input
            self.invoke = self.target.invoke
            sizes = self.target.input_size, self.target.output_size
        elif engine == "tflm":
            from model.deploy.export import TFLMRunner

            runner = TFLMRunner(flatbuffer)
            self.inputs = runner.quantization.model_input
            self.invoke = runner.run_input
            sizes = runner.input_size, runner.output_size
        else:
            raise ValueError(f"unknown model engine {engine!r} (choose from {', '.join(MODEL_ENGINES)})")
        _check_sizes(tflite, *sizes)


def _check_sizes(tflite: Path, inputs: int, outputs: int) -> None:
    """A model the engine can run: one window of features in, one score per recognizer class out."""
    window = (config.NUM_FRAMES, config.NUM_CHANNELS)
    if inputs != window[0] * window[1]:
        raise BadInput(tflite, f"the model takes {inputs} input values; a window is {window[0]}x{window[1]} features")
    if outputs != len(config.LABELS):
        classes = ", ".join(config.LABELS)
        raise BadInput(
            tflite, f"the model has {outputs} outputs; the recognizer scores {len(config.LABELS)} ({classes})"
        )


class HostEngine:
    """Heard events of a model on a stream, as the firmware paced to ``stride`` frames per block reports them."""

    def __init__(self, tflite: Path, stride: int = 1, engine: str = "c") -> None:
        self.model = _Model(tflite, engine)
        self.stride = stride
        self.lib = load_library()

    def heard(self, pcm: np.ndarray, settings: dict[str, int] | None = None) -> list[Heard]:
        return self.recognize(self.scores(pcm), settings)

    def window_ends(self, frames: int) -> list[int]:
        """The frames the firmware's windows end on: at the end of each block, once 49 frames exist."""
        return [k for k in range(config.NUM_FRAMES - 1, frames) if (k + FRAME_OFFSET) % self.stride == 0]

    def scores(self, pcm: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
        """The recognizer's int8 scores (windows, classes) for ``pcm``. ``known`` holds those of a
        stream whose first ``len(known)`` windows saw the same audio: they are reused."""
        from model.data.features import microfrontend
        from model.deploy.verify import firmware_scores

        model_inputs = self.model.inputs(microfrontend(pcm))
        ends = self.window_ends(len(model_inputs))
        reuse = 0 if known is None else min(len(known), len(ends))
        out = np.empty((len(ends), len(config.LABELS)), dtype=np.int8)
        if reuse:
            out[:reuse] = known[:reuse]
        for w in range(reuse, len(ends)):
            window = model_inputs[ends[w] - config.NUM_FRAMES + 1 : ends[w] + 1]
            out[w] = firmware_scores(self.model.invoke(window))
        return out

    def windows_before(self, sample: int) -> int:
        """How many windows end before ``sample``: their scores cannot depend on audio from there on."""
        frames = max(0, (sample - config.WINDOW_SAMPLES) // config.STEP_SAMPLES + 1)
        return len(self.window_ends(frames))

    def recognize(self, scores: np.ndarray, settings: dict[str, int] | None = None) -> list[Heard]:
        """RecognizeCommands over per-window scores, with the firmware's timestamps; ``settings``
        replace the firmware's (a DET curve's detection threshold, say)."""
        recognizer = Recognizer(self.lib, settings=settings)
        events = []
        ends = self.window_ends(config.NUM_FRAMES - 1 + len(scores) * self.stride)
        for end, window_scores in zip(ends, scores, strict=True):
            t_ms = (end + FRAME_OFFSET) * config.STEP_MS
            label, score, is_new = recognizer.process(window_scores.tolist(), t_ms)
            if is_new:
                events.append(Heard(config.LABELS[label], score, t_ms))
        return events
