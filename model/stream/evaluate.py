"""``kws stream eval``: keyword detection on the streams of ``kws stream make``, measured per SNR.

The host engine (``model.stream.engine``) hears every stream; with ``--elf`` the firmware hears it
too through its PDM in emulation (``model.stream.firmware``), and the two must print identical
heard lines (label, score, time), else the command says where they part and exits 1. Metrics
(``model.stream.metrics``): hit rate per keyword, wrong-label rate, other words accepted as a
keyword, stray detections and latency (median, p90) per keyword stream; false accepts per hour on
the keyword-free stream; ``--det`` draws miss rate against false accepts per hour over the
recognizer's detection threshold (the scores are computed once; only RecognizeCommands reruns).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from model import config, options
from model.errors import BadInput
from model.stream.engine import MODEL_ENGINES, HostEngine
from model.stream.metrics import Tally, false_accepts, tally
from model.stream.plant import StreamSpec

#: Thresholds of the DET sweep (the firmware's is config's KWS_RC_DETECTION_THRESHOLD).
DET_THRESHOLDS = tuple(range(100, 256, 5))


def read_streams(directory: Path) -> list[StreamSpec]:
    path = Path(directory) / "streams.json"
    try:
        return [StreamSpec.from_json(s) for s in json.loads(path.read_text())["streams"]]
    except FileNotFoundError:
        raise BadInput(path, "no such file (make the streams with `kws stream make`)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(path, f"not a streams.json of `kws stream make` ({exc})") from None


def _hear(args: argparse.Namespace, specs: list[StreamSpec]) -> tuple[HostEngine, dict, dict]:
    """Scores of every stream on the host (and heard lines of the firmware with --elf), the engine
    paced like the firmware, and the host's CPU seconds."""
    from model.data.audio import read_wav
    from model.stream.firmware import firmware_heard

    scores, firmware, engine, cpu = {}, {}, None, 0.0
    for spec in specs:
        pcm = read_wav(Path(args.streams) / spec.file)
        stride = args.stride
        if args.elf:
            firmware[spec.name] = run = firmware_heard(Path(args.elf), pcm)
            stride = int(run.boot.get("stride", 1))
        if engine is None or engine.stride != stride:
            engine = HostEngine(Path(args.model), stride, args.engine)
        started = time.process_time()
        scores[spec.name] = engine.scores(pcm)
        cpu += time.process_time() - started
    return engine, {"scores": scores, "cpu_s": cpu}, firmware


def measure(
    engine: HostEngine, specs: list[StreamSpec], scores: dict, tolerance: int, settings: dict[str, int] | None = None
) -> dict:
    """Metrics per keyword stream and of the keyword-free streams with the firmware's recognizer
    settings, or ``settings`` in their place."""
    out: dict = {"keyword_streams": {}, "free": None}
    free_s, free_fa = 0.0, 0
    for spec in specs:
        heard = engine.recognize(scores[spec.name], settings)
        if spec.keyword_free:
            free_s, free_fa = free_s + spec.seconds, free_fa + false_accepts(heard)
        else:
            summary = tally(spec, heard, tolerance).summary()
            out["keyword_streams"][spec.name] = {"snr_db": spec.snr_db, "level_db": spec.level_db, **summary}
    if free_s:
        out["free"] = {"seconds": free_s, "false_accepts": free_fa, "per_hour": free_fa * 3600 / free_s}
    return out


def det_curve(engine: HostEngine, specs: list[StreamSpec], scores: dict, tolerance: int) -> dict:
    """Per keyword stream: (threshold, miss rate, false accepts per hour) over DET_THRESHOLDS."""
    curves: dict[str, list] = {s.name: [] for s in specs if not s.keyword_free}
    for threshold in DET_THRESHOLDS:
        result = measure(engine, specs, scores, tolerance, {"detection_threshold": threshold})
        per_hour = result["free"]["per_hour"] if result["free"] else None
        for name, stream in result["keyword_streams"].items():
            total = Tally(planted=stream["keywords"])
            hits = sum(stream["hit_rate"][k] * n for k, n in total.planted.items())
            curves[name].append((threshold, 1 - hits / sum(total.planted.values()), per_hour))
    return curves


def plot_det(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.atomic import atomic_write_bytes
    from model.figures import png_bytes

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, points in curves.items():
        _, miss, fa = zip(*points, strict=True)
        ax.plot(fa, miss, marker=".", label=name)
        default = [p for p in points if p[0] == config.RC_DETECTION_THRESHOLD]
        if default:
            ax.plot(default[0][2], default[0][1], "ko")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("false accepts per hour (keyword-free stream)")
    ax.set_ylabel("miss rate (yes and no)")
    ax.set_title(f"DET over the detection threshold {DET_THRESHOLDS[0]}-{DET_THRESHOLDS[-1]} (dot: firmware's)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    atomic_write_bytes(path, png_bytes(fig))
    plt.close(fig)


def agreement(engine: HostEngine, scores: dict, firmware: dict) -> dict:
    """Per stream: do the firmware's heard lines equal the host engine's (at the firmware's threshold)?"""
    out = {}
    for name, run in firmware.items():
        host = engine.recognize(scores[name])
        first = next(
            (i for i, (a, b) in enumerate(zip(host, run.heard, strict=False)) if a != b), min(len(host), len(run.heard))
        )
        equal = list(run.heard) == host
        out[name] = {"equal": equal, "heard": len(host), "dropped": run.dropped, "firmware_wall_s": run.wall_s}
        if not equal:
            out[name]["first_difference"] = {
                "host": vars(host[first]) if first < len(host) else None,
                "firmware": vars(run.heard[first]) if first < len(run.heard) else None,
            }
    return out


def evaluate_variants(
    streams: Path,
    variants: dict[str, tuple[Path, Path]],
    tolerance: int = 1500,
    det_png: Path | None = None,
    engine_kind: str = "c",
) -> dict:
    """Metrics of every firmware variant (name -> (.tflite, ELF)) on the streams of ``streams``, on
    the host engine paced as the variant's firmware paces itself (the stride of its boot line).
    Variants with the same model and stride (int8 and its reference-kernel twin) are heard once.
    With ``det_png``, the first variant's DET curve is drawn there."""
    from model.data.audio import read_wav
    from model.deploy.tflite_reader import read_model
    from model.stream.firmware import boot_stride

    specs = read_streams(streams)
    pcm = {spec.name: read_wav(Path(streams) / spec.file) for spec in specs}
    heard: dict[tuple[bytes, int], dict] = {}
    out = {}
    for name, (tflite, elf) in variants.items():
        stride = boot_stride(elf)
        key = (read_model(tflite)[1], stride)
        if key not in heard:
            engine = HostEngine(tflite, stride, engine_kind)
            scores = {n: engine.scores(p) for n, p in pcm.items()}
            heard[key] = measure(engine, specs, scores, tolerance)
            if det_png is not None and not out and any(s.keyword_free for s in specs):
                plot_det(det_curve(engine, specs, scores, tolerance), det_png)
        out[name] = {"stride": stride, **heard[key]}
    return out


def run(args: argparse.Namespace) -> int:
    if args.build:
        return _run_variants(args)
    specs = read_streams(Path(args.streams))
    if args.det and not any(s.keyword_free for s in specs):
        raise BadInput(Path(args.streams) / "streams.json", "--det needs a keyword-free stream (--free-minutes > 0)")
    engine, host, firmware = _hear(args, specs)
    report = {"model": str(args.model), "engine": args.engine, "stride": engine.stride, "tolerance_ms": args.tolerance}
    report.update(measure(engine, specs, host["scores"], args.tolerance))
    audio_s = sum(s.seconds for s in specs)
    report["host_speed"] = {"audio_s": audio_s, "cpu_s": host["cpu_s"], "x_realtime": audio_s / host["cpu_s"]}
    if firmware:
        report["firmware_agrees"] = agreement(engine, host["scores"], firmware)
    if args.det:
        curves = det_curve(engine, specs, host["scores"], args.tolerance)
        plot_det(curves, Path(args.det))
        report["det"] = {"png": str(args.det), "curves": curves}
    print(json.dumps(report, indent=1) if args.json else _table(report))
    return 0 if all(a["equal"] for a in report.get("firmware_agrees", {}).values()) else 1


def _run_variants(args: argparse.Namespace) -> int:
    """``--build``: every firmware variant of BUILD/variants.json, one table row per variant and stream."""
    for option, given in (("--elf", args.elf), ("--det", args.det), ("--stride", args.stride != 1)):
        if given:
            raise BadInput(None, f"{option} does not go with --build (each variant runs paced as its firmware)")
    listing = Path(args.build) / "variants.json"
    try:
        entries = json.loads(listing.read_text())["variants"]
        build = Path(args.build)
        variants = {v["name"]: (build / v["model"], build / v["dir"] / "kws.elf") for v in entries}
    except FileNotFoundError:
        raise BadInput(listing, "no such file (build the variants with `kws pipeline --stop-after firmware`)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(listing, f"not a variants.json of `kws pipeline` ({exc})") from None
    for path in (p for pair in variants.values() for p in pair):
        if not path.is_file():
            raise BadInput(path, f"no such file (listed in {listing})")
    report = evaluate_variants(Path(args.streams), variants, args.tolerance, engine_kind=args.engine)
    print(json.dumps(report, indent=1) if args.json else variants_table(report))
    return 0


def _rate(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _table(report: dict) -> str:
    lines = ["| stream | hit rate yes | hit rate no | wrong label | other words accepted | latency median / p90 ms |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, s in report["keyword_streams"].items():
        lat = s["latency_ms"]
        latency = "-" if lat["median"] is None else f"{lat['median']:.0f} / {lat['p90']:.0f}"
        hits = [_rate(s["hit_rate"].get(k)) for k in config.WANTED_WORDS]
        lines.append(
            f"| {name} | {' | '.join(hits)} | {_rate(s['wrong_label_rate'])} | "
            f"{_rate(s['other_accept_rate'])} | {latency} |"
        )
    if report["free"]:
        f = report["free"]
        lines.append(
            f"keyword-free: {f['false_accepts']} false accepts in {f['seconds']:g} s = {f['per_hour']:.1f} per hour"
        )
    speed = report["host_speed"]
    lines.append(
        f"host engine: {speed['audio_s']:g} s of audio in {speed['cpu_s']:.1f} CPU s "
        f"({speed['x_realtime']:.0f}x real time)"
    )
    for name, a in report.get("firmware_agrees", {}).items():
        lines.append(
            f"firmware {'equals' if a['equal'] else 'DIFFERS from'} the host on {name} ({a['heard']} heard lines)"
            + ("" if a["equal"] else f": first difference {a['first_difference']}")
        )
    return "\n".join(lines)


#: Columns of the per-variant table (``kws stream eval --build`` and the pipeline report).
VARIANT_COLUMNS = (
    "variant", "stride", "stream", *(f"hit rate {k}" for k in config.WANTED_WORDS), "wrong label",
    "other words accepted", "latency median ms", "false accepts per hour",
)  # fmt: skip


def variant_rows(report: dict) -> list[list[str]]:
    """Per variant and keyword stream: hit rates, wrong labels, latency; false accepts per hour."""
    rows = []
    for name, v in report.items():
        per_hour = "-" if v["free"] is None else f"{v['free']['per_hour']:.1f}"
        for stream, s in v["keyword_streams"].items():
            median = s["latency_ms"]["median"]
            hits = [_rate(s["hit_rate"].get(k)) for k in config.WANTED_WORDS]
            rows.append([
                name, str(v["stride"]), stream, *hits, _rate(s["wrong_label_rate"]), _rate(s["other_accept_rate"]),
                "-" if median is None else f"{median:.0f}", per_hour,
            ])  # fmt: skip
    return rows


def variants_table(report: dict) -> str:
    lines = ["| " + " | ".join(VARIANT_COLUMNS) + " |", "|" + " --- |" * len(VARIANT_COLUMNS)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in variant_rows(report)])


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval", help="hit rate, false accepts, latency per SNR on the streams of `kws stream make`"
    )
    p.add_argument("--streams", required=True, help="directory of `kws stream make` (streams.json)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="the .tflite the host engine runs (the firmware's model)")
    which.add_argument(
        "--build",
        help="every firmware variant of this BUILD (variants.json), each paced as its firmware paces itself",
    )
    p.add_argument(
        "--engine",
        choices=MODEL_ENGINES,
        default="c",
        help="host model: the generated C built for the host, or tflite_micro (default: %(default)s)",
    )
    p.add_argument(
        "--stride",
        type=options.int_range(1, 50),
        default=1,
        help="frames per PDM block the firmware paces to; with --elf its boot line's (default: %(default)s)",
    )
    p.add_argument(
        "--elf", default=None, help="also run the firmware on every stream in emulation and compare (default: off)"
    )
    p.add_argument(
        "--tolerance",
        type=options.int_range(0, 5000),
        default=1500,
        help="ms after a word's speech in which its detection counts (default: %(default)s)",
    )
    p.add_argument("--det", default=None, help="write the DET curve here as a PNG (default: none)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON (default: a table)")
    p.set_defaults(func=run)
