"""The tiny sweep (sweeps/tiny.toml) two ways, side by side in one run: on Ray with 2 CPUs
(``kws sweep``'s local default on this machine) and one trial after the other in this process
(``kws sweep --sequential``); and the overhead Ray adds per trial.

Both runs get the same prepared data (corpus and features made once, first, not timed). Ray's
wall time includes starting Ray and putting the data in its object store. Per-trial overhead:
for each trial, the driver's time from Tune starting it to its record arriving, less the trial's
own time inside the worker; plus Ray's start-up shared out over the trials.

    .venv/bin/python benchmarks/bench_sweep.py [--config sweeps/tiny.toml] [--work build/bench-sweep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

from model.sweep import runner, spec

ROOT = Path(__file__).resolve().parent.parent


def timed_sequential(trials: list[dict], shared: dict, out: Path) -> float:
    start = time.perf_counter()
    runner.run_sequential(trials, shared, out, lambda line: print(f"  [sequential] {line}", flush=True))
    return time.perf_counter() - start


def timed_ray(trials: list[dict], shared: dict, out: Path, cpus: int) -> tuple[float, float]:
    """Wall time of the whole Ray run and of its start-up (ray.init)."""
    import ray

    from model.sweep.tuning import run_tune

    start = time.perf_counter()
    runner.connect(None, cpus)
    startup = time.perf_counter() - start
    try:
        run_tune(trials, shared, out, "grid", lambda line: print(f"  [ray] {line}", flush=True))
    finally:
        ray.shutdown()
    return time.perf_counter() - start, startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "sweeps" / "tiny.toml"))
    parser.add_argument("--work", default=str(ROOT / "build" / "bench-sweep"))
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    sweep, work = spec.load(Path(args.config)), Path(args.work)
    shared = runner.shared_data(sweep, work)
    trials = sweep.trials()
    for name in ("sequential", "ray"):
        shutil.rmtree(work / name, ignore_errors=True)
        (work / name).mkdir(parents=True)
    sequential = timed_sequential(trials, shared, work / "sequential")
    print(f"one after the other: {sequential:.1f} s", flush=True)
    ray_wall, startup = timed_ray(trials, shared, work / "ray", args.cpus)
    records = runner.read_journal(work / "ray").values()
    overheads = [r["wall_seconds"] - r["seconds"] for r in records if "wall_seconds" in r]
    per_trial = statistics.mean(overheads) + startup / len(trials)
    rows = [
        ("trials", f"{len(trials)}", f"{len(trials)}"),
        ("wall time", f"{sequential:.1f} s", f"{ray_wall:.1f} s (Ray start {startup:.1f} s)"),
        ("speed-up", "1.00x", f"{sequential / ray_wall:.2f}x (goal >= 1.6x)"),
        ("overhead per trial", "-", f"{per_trial:.2f} s (goal <= 2 s)"),
    ]
    print(f"\n| {len(trials)}-trial sweep {Path(args.config).name} | one after the other | Ray, {args.cpus} CPUs |")
    print("| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(json.dumps({"sequential_s": sequential, "ray_s": ray_wall, "ray_startup_s": startup,
                      "overhead_per_trial_s": per_trial}))  # fmt: skip


if __name__ == "__main__":
    main()
