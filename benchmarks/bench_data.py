"""Data and feature throughput, measured side by side in one run.

Prints clips/s of the project's C micro frontend next to TensorFlow's ``audio_microfrontend``
op on the same clips, and of the synthetic-corpus generator on all cores.

    .venv/bin/python benchmarks/bench_data.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_frontend
import bench_synth


def main() -> None:
    frontend = bench_frontend.run()
    synth = bench_synth.run()
    print(f"{'measure':<40} {'value':>12}")
    print(f"{'C micro frontend (clips/s)':<40} {frontend['ours_clips_per_s']:>12.0f}")
    print(f"{'TensorFlow audio_microfrontend (clips/s)':<40} {frontend['tf_clips_per_s']:>12.0f}")
    print(f"{'ratio C / TensorFlow':<40} {frontend['ratio']:>11.2f}x")
    label = f"synth, {synth['clips']} clips on {synth['jobs']} cores (clips/s)"
    print(f"{label:<40} {synth['clips_per_s']:>12.1f}")


if __name__ == "__main__":
    main()
