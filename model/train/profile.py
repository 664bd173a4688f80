"""``kws profile``: batch-1 inference latency of a checkpoint and the time spent per operator.

Latency is the median over ``--repeats`` timed forward passes after ``--warmup`` untimed ones
(eval mode, no autograd). The operator table is torch.profiler's self time per op over a
second round of ``--repeats`` passes, divided by the repeats: time inside the op itself,
excluding ops it calls.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from model.errors import BadInput
from model.options import non_negative_int, positive_int, threads


def profile_model(model, device: str = "cpu", repeats: int = 100, warmup: int = 10, ops: bool = True) -> dict[str, Any]:
    """Batch-1 latency over ``repeats`` timed runs, and with ``ops`` torch.profiler's table per op
    (the profiler prints its own start and stop lines to stderr: callers that need only the
    latency, such as the pipeline, leave it off)."""
    import torch
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from model import config

    model = model.to(device).eval()
    x = torch.rand(1, 1, config.NUM_FRAMES, config.NUM_CHANNELS, device=device) * 26
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        sync()
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            sync()
            times.append(time.perf_counter() - start)
        events = []
        if ops:
            activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
            with torch_profile(activities=activities) as prof:
                for _ in range(repeats):
                    model(x)
                sync()
            events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    return {
        "device": device,
        "threads": torch.get_num_threads(),
        "repeats": repeats,
        "warmup": warmup,
        "latency_us": {
            "median": statistics.median(times) * 1e6,
            "min": min(times) * 1e6,
            "max": max(times) * 1e6,
        },
        "ops": [
            {"name": e.key, "calls_per_run": e.count / repeats, "self_cpu_us_per_run": e.self_cpu_time_total / repeats}
            for e in events
        ],
    }


def format_table(report: dict[str, Any], source: str) -> str:
    latency = report["latency_us"]
    lines = [
        f"{source} on {report['device']} ({report['threads']} thread(s)), batch 1",
        f"latency: median {latency['median']:.1f} us, min {latency['min']:.1f} us, max {latency['max']:.1f} us "
        f"over {report['repeats']} runs after {report['warmup']} warm-up runs",
        "",
        f"{'op':<36} {'calls':>6} {'self CPU us':>12}",
    ]
    for op in report["ops"]:
        lines.append(f"{op['name']:<36} {op['calls_per_run']:>6.1f} {op['self_cpu_us_per_run']:>12.2f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import torch

    from model.train.tinyconv import load_checkpoint

    if args.device == "cuda" and not torch.cuda.is_available():
        raise BadInput(None, "--device cuda: no CUDA device is available on this machine")
    if args.repeats < 1 or args.warmup < 0:
        raise BadInput(None, "--repeats must be at least 1 and --warmup at least 0")
    torch.set_num_threads(args.threads)
    model, _ = load_checkpoint(Path(args.checkpoint))
    report = profile_model(model, args.device, args.repeats, args.warmup)
    print(json.dumps(report, indent=2) if args.json else format_table(report, args.checkpoint))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="batch-1 latency and per-operator time of a checkpoint",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--checkpoint", required=True, metavar="FILE", help="a model.pt")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="default cpu")
    parser.add_argument("--repeats", type=positive_int, default=100, help="timed runs (default 100)")
    parser.add_argument("--warmup", type=non_negative_int, default=10, help="untimed runs first (default 10)")
    parser.add_argument("--threads", type=threads, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)
