"""Throughput of the project's C micro frontend next to TensorFlow's ``audio_microfrontend`` op.

Both run in the same process on the same one-second clips, warmed up, with TensorFlow's import
and op construction outside the timed region; each is timed over several interleaved rounds and
the best round counts (the least disturbed by the rest of the machine).

    .venv/bin/python benchmarks/bench_frontend.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from model import config, tf_frontend
from model.features import microfrontend

ROUNDS = 3


def _clips(count: int) -> list[np.ndarray]:
    """Speech-band noise bursts over a quiet floor: realistic levels, varied per clip."""
    rng = np.random.default_rng(0)
    t = np.arange(config.CLIP_SAMPLES) / config.SAMPLE_RATE
    clips = []
    for _ in range(count):
        envelope = np.abs(np.sin(2 * np.pi * rng.uniform(1, 4) * t)) ** 2
        tone = np.sin(2 * np.pi * rng.uniform(100, 3000) * t)
        signal = rng.uniform(1000, 20000) * envelope * (tone + 0.3 * rng.standard_normal(t.size))
        clips.append(np.clip(signal + 50 * rng.standard_normal(t.size), -32768, 32767).astype(np.int16))
    return clips


def _seconds(frontend: Callable[[np.ndarray], np.ndarray], clips: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for pcm in clips:
        frontend(pcm)
    return time.perf_counter() - start


def run(clips: int = 200) -> dict[str, float]:
    """Clips per second of ours and of TensorFlow's op on ``clips`` one-second clips, and their ratio."""
    data = _clips(clips)
    tf_frontend.load()
    for pcm in data[:10]:
        microfrontend(pcm)
        tf_frontend.tf_microfrontend(pcm)
    ours = tf = float("inf")
    for _ in range(ROUNDS):
        ours = min(ours, _seconds(microfrontend, data))
        tf = min(tf, _seconds(tf_frontend.tf_microfrontend, data))
    return {
        "clips": float(clips),
        "ours_clips_per_s": clips / ours,
        "tf_clips_per_s": clips / tf,
        "ratio": tf / ours,
    }


def main() -> None:
    result = run()
    print(f"{'frontend (1 s clips)':<40} {'clips/s':>12}")
    print(f"{'C micro frontend (ctypes)':<40} {result['ours_clips_per_s']:>12.0f}")
    print(f"{'TensorFlow audio_microfrontend':<40} {result['tf_clips_per_s']:>12.0f}")
    print(f"{'ratio C / TensorFlow':<40} {result['ratio']:>11.2f}x")


if __name__ == "__main__":
    main()
