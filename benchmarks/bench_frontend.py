"""Throughput of the project's C micro frontend next to TensorFlow's ``audio_microfrontend`` op.

Both run in the same process on the same one-second clips, warmed up, with TensorFlow's import
and op construction outside the timed region; each is timed over several interleaved rounds and
the best round counts (the least disturbed by the rest of the machine).

With ``--elf FILE`` (a firmware from ``kws firmware build``) it also counts, in the Unicorn
backend, the instructions each frontend sub-stage executes per 20 ms frame on the Cortex-M4
(exact counts from the per-function profile of one clip fed through the PDM).

    .venv/bin/python benchmarks/bench_frontend.py [--elf build/firmware/int8/kws.elf]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from model import config
from model.data import tf_frontend
from model.data.features import microfrontend

ROUNDS = 3
#: Firmware functions per frontend sub-stage; memmove/memcpy also carry the window and input slides.
STAGES = {
    "window": ("kws_window_push",),
    "fft": ("kws_fft_real",),
    "filterbank": ("kws_filterbank_apply", "root32", "root64"),
    "noise reduction": ("kws_noise_reduction_apply",),
    "pcan": ("kws_pcan_apply",),
    "log scale": ("kws_log_scale_apply",),
    "quantize to model input": ("kws_model_features_to_input",),
    "copies (memmove, memcpy)": ("memmove", "memcpy"),
    "glue (frame and push calls)": ("kws_frontend_process", "kws_features_push"),
}


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


def emulated_stages(elf: Path, clips: int = 3) -> dict[str, float]:
    """Instructions per frame of each sub-stage on the firmware, averaged over ``clips`` clips."""
    from emulation.unicorn_backend import Machine

    totals = dict.fromkeys(STAGES, 0)
    frames = 0
    for pcm in _clips(clips):
        machine = Machine(elf, pcm.astype("<i2").tobytes())
        machine.run(until_line="^result ", max_seconds_virtual=30)
        profile = machine.profile()
        for stage, functions in STAGES.items():
            totals[stage] += sum(profile.get(f, 0) for f in functions)
        frames += config.NUM_FRAMES
    return {stage: n / frames for stage, n in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elf", type=Path, help="also count the firmware's instructions per sub-stage")
    args = parser.parse_args()
    if args.elf:
        stages = emulated_stages(args.elf)
        print(f"{'Cortex-M4 frontend (emulated)':<40} {'instr/frame':>12}")
        for stage, n in stages.items():
            print(f"{stage:<40} {n:>12,.0f}")
        print(f"{'total':<40} {sum(stages.values()):>12,.0f}\n")
    result = run()
    print(f"{'frontend (1 s clips)':<40} {'clips/s':>12}")
    print(f"{'C micro frontend (ctypes)':<40} {result['ours_clips_per_s']:>12.0f}")
    print(f"{'TensorFlow audio_microfrontend':<40} {result['tf_clips_per_s']:>12.0f}")
    print(f"{'ratio C / TensorFlow':<40} {result['ratio']:>11.2f}x")


if __name__ == "__main__":
    main()
