"""``kws stream tune``: the recognizer's settings searched on streams, against the product's goals.

The model's scores are computed once per stream (the host engine, paced as ``--stride``); only
RecognizeCommands reruns for every setting of the grid: averaging window, detection threshold,
suppression and minimum count. Each setting is scored at one SNR against issue 12's goals (hit
rate per keyword, wrong labels, false accepts per hour, median latency). Search on streams of the
validation split (``kws stream make --split validation``) and confirm the chosen setting on the
test split's: a setting picked on the streams it is judged on measures nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from model import config, options
from model.errors import BadInput

#: The grid searched: every combination (the firmware's defaults are in it).
GRID = {
    "average_window_ms": (500, 750, 1000, 1500),
    "detection_threshold": tuple(range(150, 251, 10)),
    "suppression_ms": (1000, 1500, 2000),
    "minimum_count": (3, 5, 8),
}
#: Issue 12's goals at 10 dB.
GOALS = {"min_hit_rate": 0.90, "max_wrong_label_rate": 0.02, "max_false_accepts_per_hour": 2.0, "max_latency_ms": 1000}


def score(result: dict, snr_db: float | None) -> dict | None:
    """The figures of one setting at ``snr_db``: worst keyword's hit rate, wrong labels, false
    accepts per hour, median latency, and whether all goals hold; None without such a stream."""
    streams = [s for s in result["keyword_streams"].values() if s["snr_db"] == snr_db]
    if not streams or result["free"] is None:
        return None
    s = streams[0]
    hit = min(s["hit_rate"].get(k, 0.0) for k in config.WANTED_WORDS)
    wrong = s["wrong_label_rate"] or 0.0
    latency = s["latency_ms"]["median"]
    per_hour = result["free"]["per_hour"]
    meets = (
        hit >= GOALS["min_hit_rate"]
        and wrong <= GOALS["max_wrong_label_rate"]
        and per_hour <= GOALS["max_false_accepts_per_hour"]
        and latency is not None
        and latency <= GOALS["max_latency_ms"]
    )
    return {"min_hit_rate": hit, "wrong_label_rate": wrong, "false_accepts_per_hour": per_hour,
            "latency_median_ms": latency, "meets_goals": meets}  # fmt: skip


def search(args: argparse.Namespace) -> list[dict]:
    """Every setting of GRID with its figures, best first: those meeting the goals, then by the
    worst keyword's hit rate less one point per false accept per hour."""
    from model.data.audio import read_wav
    from model.stream.engine import HostEngine
    from model.stream.evaluate import measure, read_streams

    specs = read_streams(Path(args.streams))
    if not any(s.keyword_free for s in specs):
        raise BadInput(Path(args.streams) / "streams.json", "tuning needs a keyword-free stream (--free-minutes > 0)")
    engine = HostEngine(Path(args.model), args.stride)
    scores = {s.name: engine.scores(read_wav(Path(args.streams) / s.file)) for s in specs}
    rows = []
    for values in itertools.product(*GRID.values()):
        settings = dict(zip(GRID, values, strict=True))
        figures = score(measure(engine, specs, scores, args.tolerance, settings), args.snr)
        if figures is None:
            raise BadInput(Path(args.streams) / "streams.json", f"no keyword stream at --snr {args.snr}")
        rows.append({"settings": settings, **figures})
    rows.sort(key=lambda r: (not r["meets_goals"], -(r["min_hit_rate"] - r["false_accepts_per_hour"] / 100)))
    return rows


def run(args: argparse.Namespace) -> int:
    rows = search(args)
    shown = rows[: args.top]
    if args.json:
        print(json.dumps({"goals": GOALS, "settings": shown, "meeting_goals": sum(r["meets_goals"] for r in rows)}))
        return 0
    from model.stream.recognizer import FIRMWARE_SETTINGS as firmware

    print(f"{sum(r['meets_goals'] for r in rows)} of {len(rows)} settings meet the goals at {args.snr:g} dB")
    print("| window ms | threshold | suppression ms | min count | worst hit rate | wrong | FA/h | latency ms | goals |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in shown + [r for r in rows if r["settings"] == firmware and r not in shown]:
        s, latency = r["settings"], r["latency_median_ms"]
        mark = " (firmware's)" if s == firmware else ""
        print(
            f"| {s['average_window_ms']} | {s['detection_threshold']} | {s['suppression_ms']} | {s['minimum_count']} | "
            f"{r['min_hit_rate']:.3f} | {r['wrong_label_rate']:.3f} | {r['false_accepts_per_hour']:.1f} | "
            f"{'-' if latency is None else f'{latency:.0f}'} | {'met' if r['meets_goals'] else 'not met'}{mark} |"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tune", help="search the recognizer's settings on streams against the goals")
    p.add_argument("--streams", required=True, help="directory of `kws stream make` (use the validation split)")
    p.add_argument("--model", required=True, help="the .tflite the host engine runs")
    p.add_argument("--stride", type=options.int_range(1, 50), default=1, help="frames per PDM block (default: 1)")
    p.add_argument("--snr", type=options.snr_db, default=10.0, help="SNR of the stream judged (default: 10)")
    p.add_argument("--tolerance", type=options.int_range(0, 5000), default=1500, help="ms (default: %(default)s)")
    p.add_argument("--top", type=options.positive_int, default=10, help="settings shown (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    p.set_defaults(func=run)
