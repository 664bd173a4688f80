"""UART lines of the firmware in Renode and in the Unicorn backend, compared line by line.

For each variant of a BUILD, ``--clips`` test clips (the dataset's test split, classes in turn)
boot the firmware once each in both backends (``emulation.clip.run_clip``, what ``kws emulate``
runs); ``--stream`` seconds of test clips back to back run the stream-mode int8 firmware once.
Every line must be equal field by field, except the DWT figures (``boot_inf``, ``pre``, ``inf``,
``post``, and ``min``/``max``/``avg``/``peak`` of the timed stages' ``profile`` lines): Renode's
CYCCNT moves in whole time quanta (README, "Renode"), so those must be multiples of the quantum's
cycles (averages excepted) within one quantum per timed interval of the exact count.

A stream is cut at the same virtual time in both backends, but Renode 1.15.1's UARTE sends a
transfer at once while the Unicorn backend sends it at the wire's pace, as the chip does: at the
cut the Unicorn backend may still have the last lines on the wire. The Unicorn run therefore goes
on for ``DRAIN_S`` more: Renode's lines must equal as many of its first lines, and must include
every line that had reached the host at the cut (its line times tell which).
Prints one line per run, then the host seconds per clip of each backend. Needs Renode on PATH.

    .venv/bin/python benchmarks/renode_crosscheck.py --build build/robot-build --clips 20 [--variant int8] [--stream 10]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from emulation.protocol import parse_line
from emulation.renode_backend import QUANTUM_S, RenodeMachine
from emulation.unicorn_backend import CPU_HZ, Machine
from model import config

QUANTUM_CYCLES = round(QUANTUM_S * CPU_HZ)
#: DWT fields and the number of timed intervals each one sums (pre: one per 20 ms frame push)
DWT_FIELDS = {"boot_inf": 1, "inf": 1, "post": 1, "pre": config.CLIP_MS // config.STEP_MS}
#: DWT fields of the stream's `profile` lines (one timed interval each)
PROFILE_FIELDS = {"min": 1, "max": 1, "avg": 1, "peak": 1}
#: `profile` stages whose figures are not DWT cycles (stack: bytes; uart: counts)
UNTIMED_STAGES = {"stack", "uart"}
#: how long the Unicorn backend's UART needs at most to send what the firmware has queued
#: (its 1 KiB TX ring at 115,108 bit/s, 10 bits a byte: 89 ms)
DRAIN_S = 0.1


def dwt_intervals(kind: str, fields: dict[str, str], key: str) -> int | None:
    """How many timed intervals the DWT figure ``key`` of a line sums (None: not a DWT figure)."""
    if kind != "profile":
        return DWT_FIELDS.get(key)
    return None if fields.get("stage") in UNTIMED_STAGES else PROFILE_FIELDS.get(key)


def compare_lines(renode: list[str], unicorn: list[str]) -> list[str]:
    """What differs beyond the DWT's quantum, as readable strings (empty: the runs agree)."""
    problems = [] if len(renode) == len(unicorn) else [f"{len(renode)} lines in Renode, {len(unicorn)} in Unicorn"]
    for r_line, u_line in zip(renode, unicorn, strict=False):
        (r_kind, r_fields), (u_kind, u_fields) = parse_line(r_line), parse_line(u_line)
        if r_kind != u_kind or r_fields.keys() != u_fields.keys():
            problems.append(f"{r_line!r} != {u_line!r}")
            continue
        for key, value in r_fields.items():
            intervals = dwt_intervals(r_kind, r_fields, key)
            if intervals is not None:
                r_val, u_val = int(value), int(u_fields[key])
                whole = key != "avg"  # an average of whole quanta need not be one
                if (whole and r_val % QUANTUM_CYCLES) or abs(r_val - u_val) >= QUANTUM_CYCLES * intervals:
                    problems.append(f"{r_kind} {key}: {r_val} (Renode) vs {u_val}")
            elif value != u_fields[key]:
                problems.append(f"{r_kind} {key}: {value} (Renode) vs {u_fields[key]}")
    return problems


def dataset_test_clips(data: Path, count: int) -> list[tuple[str, np.ndarray]]:
    from model.data.audio import pad_or_trim
    from model.data.dataset import SpeechCommands

    dataset = SpeechCommands(data)
    by_class = [[e for e in dataset.split("test") if e.label == i] for i in range(len(dataset.labels))]
    picked = [examples[n] for n in range(count) for examples in by_class if n < len(examples)][:count]
    return [
        (f"{dataset.labels[e.label]}/{e.path.name if e.path else e.index}", pad_or_trim(dataset.load(e)))
        for e in picked
    ]


def timed(run):
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def crosscheck_clips(elf: Path, clips: list[tuple[str, np.ndarray]], variant: str) -> tuple[int, float, float]:
    from emulation.clip import run_clip

    agreed, host = 0, {"renode": 0.0, "unicorn": 0.0}
    for name, pcm in clips:
        data = pcm.astype("<i2").tobytes()
        runs = {}
        for backend in host:
            runs[backend], seconds = timed(lambda b=backend, d=data: run_clip(elf, d, b, cycle_model=False))
            host[backend] += seconds
        problems = compare_lines(runs["renode"].lines, runs["unicorn"].lines)
        agreed += not problems
        result = runs["renode"].result
        print(f"{variant} {name}: {'agree' if not problems else 'DIFFER ' + '; '.join(problems)} ({result['label']})")
    return agreed, host["renode"], host["unicorn"]


def crosscheck_stream(elf: Path, clips: list[tuple[str, np.ndarray]], seconds: float) -> None:
    pcm = np.concatenate([p for _, p in clips]).astype("<i2").tobytes()
    renode, r_s = timed(lambda: RenodeMachine(elf, pcm).run(max_seconds_virtual=seconds, timeout_s=3600))
    unicorn, u_s = timed(lambda: Machine(elf, pcm, cycle_model=False).run(max_seconds_virtual=seconds + DRAIN_S))
    drained = unicorn.lines
    at_cut = [line for line, at in zip(drained, unicorn.line_times, strict=True) if at <= seconds]
    problems = compare_lines(renode.lines, drained[: len(renode.lines)])
    if not len(at_cut) <= len(renode.lines) <= len(drained):
        problems.insert(
            0, f"Renode has {len(renode.lines)} lines, Unicorn {len(at_cut)} at the cut, {len(drained)} drained"
        )
    heard = sum(line.startswith("heard ") for line in renode.lines)
    verdict = "agree" if not problems else "DIFFER " + "; ".join(problems)
    print(
        f"stream {seconds:g} s: {len(renode.lines)} lines ({heard} heard; Unicorn {len(at_cut)} at the cut, "
        f"the rest on the wire): {verdict}; host {r_s:.0f} s / {u_s:.1f} s"
    )


def read_variants(build: Path) -> tuple[Path, dict[str, Path]]:
    """The dataset and the ELF of each variant of ``build`` (its variants.json)."""
    description = json.loads((build / "variants.json").read_text())
    return Path(description["data"]), {v["name"]: build / v["dir"] / "kws.elf" for v in description["variants"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=Path)
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--stream", type=float, default=0.0, help="seconds of stream on the int8 firmware")
    args = parser.parse_args()
    data, variants = read_variants(args.build)
    clips = dataset_test_clips(data, max(args.clips, int(args.stream) + 1))
    for name in args.variant or list(variants):
        agreed, r_s, u_s = crosscheck_clips(variants[name], clips[: args.clips], name)
        n = max(args.clips, 1)
        print(
            f"{name}: {agreed}/{args.clips} clips agree; host s per clip: Renode {r_s / n:.1f}, Unicorn {u_s / n:.2f}"
        )
    if args.stream:
        crosscheck_stream(variants["int8"], clips, args.stream)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
