"""``kws sweep --config SWEEP.toml --out DIR [--address ADDR]``: search the sweep file's space on Ray
Tune, every trial trained, compressed, exported, built and emulated (model/sweep/trial.py).

Without ``--address`` Ray starts on this machine with its cores; with it the trials run on that
cluster (``ray start --head`` on one node, ``ray start --address HEAD:6379`` on the others; every
node needs the project installed with ``pip install -e '.[sweep]'`` and the Arm toolchain).
Rerunning the same command resumes: trials in DIR/trials.jsonl are not run again.
Outputs: DIR/sweep.json (every trial: config, metrics, status), DIR/report.md with DIR/pareto.png,
and DIR/best, the best model that fits as a BUILD (checkpoint, .tflite, firmware, variants.json)
for ``robot_tests/run.py --build DIR/best``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from model.errors import BadInput
from model.options import int_range


def say(line: str) -> None:
    print(f"[sweep] {line}", flush=True)


def run(args: argparse.Namespace) -> int:
    from model.sweep import results, runner, spec

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter would bury the trial lines
    sweep = spec.load(Path(args.config))
    if not args.sequential and importlib.util.find_spec("ray") is None:
        raise BadInput(None, runner.RAY_MISSING)
    if args.address and not args.sequential:
        runner.check_address(args.address)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trials = sweep.trials()
    done = runner.read_journal(out)
    todo = [t for t in trials if t["id"] not in done]
    say(f"{len(trials)} trials, {len(trials) - len(todo)} already done")
    shared = runner.shared_data(sweep, out, progress=not args.no_progress)
    if todo and args.sequential:
        runner.run_sequential(todo, shared, out, say)
    elif todo:
        from model.sweep.tuning import run_tune

        runner.connect(args.address, args.cpus)
        run_tune(todo, shared, out, sweep.search["algorithm"], say)
    records = [r for r in (runner.read_journal(out).get(t["id"]) for t in trials) if r is not None]
    best = results.write(sweep, out, records, shared["corpus"])
    say(
        f"wrote {out / 'sweep.json'}, {out / 'report.md'}, {out / 'pareto.png'}" + (f", {out / 'best'}" if best else "")
    )
    missing = len(trials) - len(records)
    if missing:
        sys.stderr.write(f"kws sweep: {missing} trials did not finish; rerun to resume\n")
    return 1 if missing else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="search architectures and compression settings on Ray Tune for the best model that fits the chip",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", required=True, metavar="SWEEP.toml", help="the sweep file (sweeps/*.toml)")
    parser.add_argument("--out", required=True, metavar="DIR", help="results; rerun to resume")
    parser.add_argument(
        "--address", metavar="HOST:PORT", help="a running Ray cluster (default: start Ray on this machine)"
    )
    parser.add_argument(
        "--cpus", type=int_range(1, 1024), help="CPUs of the local Ray (default: all of this machine's cores)"
    )
    parser.add_argument(
        "--sequential", action="store_true", help="run the trials one after the other in this process, without Ray"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)
