"""Training throughput and the full recipe's wall time, measured in one run.

Prints TinyConv training steps/s (batch 100) with 1 and 2 torch threads side by side, then
runs TensorFlow's full recipe (12,000 + 3,000 steps) on cached features and prints its wall
time (goal: 10 minutes or less). The corpus is synthesised under build/bench/ if missing.

    .venv/bin/python benchmarks/bench_train.py [--data DIR]
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from model.train.batches import DATA_SETTINGS, load_train_data
from model.train.training import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1] / "build" / "bench"


def steps_per_second(data, threads: int, steps: int = 400) -> float:
    """Steps/s of a short run (no validation in between), after the first 20 steps as warm-up."""
    out = ROOT / f"steps-{threads}"
    shutil.rmtree(out, ignore_errors=True)
    cfg = TrainConfig(steps=[20], lr=[0.001], eval_every=10**9, threads=threads)
    train(data, out, cfg, progress=False)
    shutil.rmtree(out)
    cfg = TrainConfig(steps=[steps], lr=[0.001], eval_every=10**9, threads=threads)
    start = time.perf_counter()
    train(data, out, cfg, progress=False)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="dataset (default: synthesise build/bench/corpus)")
    args = parser.parse_args()
    data_dir = args.data
    if data_dir is None:
        data_dir = ROOT / "corpus"
        if not data_dir.exists():
            from model.data.synth import synthesize

            synthesize(data_dir)
    cfg = TrainConfig()
    settings = {key: asdict(cfg)[key] for key in DATA_SETTINGS}
    start = time.perf_counter()
    data = load_train_data(data_dir, ROOT / "features", settings, cfg.pool, progress=False)
    features_s = time.perf_counter() - start
    rates = {threads: steps_per_second(data, threads) for threads in (1, 2)}
    full = ROOT / "full"
    shutil.rmtree(full, ignore_errors=True)
    start = time.perf_counter()
    metrics = train(data, full, cfg, progress=False)
    full_s = time.perf_counter() - start
    print(f"{'measure':<48} {'value':>10}")
    print(f"{'features + augmented pool (cached after) (s)':<48} {features_s:>10.1f}")
    for threads, rate in rates.items():
        print(f"{f'training steps/s, batch 100, {threads} thread(s)':<48} {rate:>10.1f}")
    print(f"{'thread speed-up 2 vs 1':<48} {rates[2] / rates[1]:>9.2f}x")
    print(f"{f'full recipe {sum(cfg.steps):,} steps, 1 thread (s)':<48} {full_s:>10.1f}")
    print(f"{'test accuracy of the full recipe':<48} {metrics['splits']['test']['total']['accuracy']:>10.4f}")


if __name__ == "__main__":
    main()
