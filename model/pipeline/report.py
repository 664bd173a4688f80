"""The pipeline's report: OUT/report.md (figures linked) and OUT/report.html (figures embedded).

Written from the stage records in OUT/.stages only, so it can be regenerated at any time and
shows what each stage measured, including the stages that were skipped or failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model import config
from model.atomic import atomic_write_text
from model.pipeline.compress_report import compression
from model.pipeline.document import Block, Figure, Heading, Paragraph, table, to_html, to_markdown

#: The study's measurements on an nRF52840 at 64 MHz with TFLM's reference kernels (ms).
STUDY_MS = {"preprocess": 21.0, "inference": 86.0, "postprocess": 1.0}
TITLE = "Keyword spotting pipeline report"


def _records(out: Path) -> dict[str, dict]:
    from model.pipeline.records import STAGES, read_record

    return {stage: record for stage in STAGES if (record := read_record(out, stage)) is not None}


def _pct(value: float) -> str:
    return f"{value:.3f}"


def figures(out: Path, data: Path) -> list[Figure]:
    """Yes vs no and loud vs quiet (the study's Figures 1-2), drawn once under OUT/figures."""
    from model.data.audio import read_wav, write_wav
    from model.data.plots import compute_views, plot_clips

    folder = out / "figures"
    pairs = {"yes_vs_no": "yes vs no", "loud_vs_quiet": "the same yes at -1 dBFS and -40 dBFS"}
    if not all((folder / name / "comparison.png").is_file() for name in pairs):
        yes = read_wav(sorted((data / "yes").glob("*.wav"))[0])
        no = read_wav(sorted((data / "no").glob("*.wav"))[0])
        peak = max(int(np.max(np.abs(yes.astype(np.int32)))), 1)
        loud = np.round(yes * (0.89 * 32767 / peak)).astype(np.int16)  # -1 dBFS
        quiet = np.round(yes * (0.01 * 32767 / peak)).astype(np.int16)  # -40 dBFS
        write_wav(folder / "clips" / "yes_loud.wav", loud)
        write_wav(folder / "clips" / "yes_quiet.wav", quiet)
        plot_clips([compute_views("yes", yes), compute_views("no", no)], folder / "yes_vs_no")
        plot_clips([compute_views("loud", loud), compute_views("quiet", quiet)], folder / "loud_vs_quiet")
    return [Figure(folder / name / "comparison.png", caption) for name, caption in pairs.items()]


def _stage_table(records: dict[str, dict]) -> list[Block]:
    from model.pipeline.records import STAGES

    rows = []
    for stage in STAGES[:-1]:
        record = records.get(stage)
        if record is None:
            rows.append([stage, "not run", ""])
            continue
        seconds = record["info"].get("seconds")
        rows.append([stage, record["status"], "" if seconds is None else f"{seconds:,.1f}"])
    return [Heading("Stages"), table(["stage", "status", "seconds (last run)"], rows, [False, False, True])]


def _dataset(records: dict[str, dict], data: Path) -> list[Block]:
    features = records.get("features")
    if features is None:
        return []
    counts = features["info"]["dataset"]
    labels = list(config.LABELS)
    rows = [
        [split, *(f"{per.get(label, 0):,}" for label in labels), f"{sum(per.values()):,}"]
        for split, per in counts.items()
    ]
    corpus = records.get("corpus", {}).get("info", {})
    text = f"Dataset `{data}`"
    if corpus.get("synthesised"):
        text += (
            f": synthesised, {corpus['clips']:,} clips ({len(corpus['words'])} words, {corpus['speakers']:,} "
            f"speakers, seed {corpus['seed']}) in {corpus['seconds']:,} s."
        )
    else:
        text += "."
    text += " Split by TensorFlow's hash rule (10 % validation, 10 % test, by speaker); silence and unknown 25 % each."
    return [
        Heading("Dataset"),
        Paragraph(text),
        table(["split", *labels, "total"], rows, [False] + [True] * (len(labels) + 1)),
    ]


def _training(out: Path, records: dict[str, dict]) -> list[Block]:
    train = records.get("train")
    if train is None:
        return []
    info = train["info"]
    cfg = train["key"]["config"]
    steps = " + ".join(f"{s:,}" for s in cfg["steps"])
    rate = f", {info['steps_per_second']} steps/s" if info.get("steps_per_second") else ""
    lr = " / ".join(str(v) for v in cfg["lr"])
    text = (
        f"TinyConv, {steps} steps at learning rates {lr}, batch {cfg['batch_size']}, dropout {cfg['dropout']}, "
        f"{cfg['optimizer']}, stream context {cfg.get('stream_context', 0)}, {cfg['threads']} thread(s): "
        f"{info['seconds']:,} s in the last run "
        f"({info['steps_run']:,} steps{rate}). Best checkpoint on validation: step {info['best_step']:,} "
        f"(validation accuracy {info['best_validation_accuracy']:.4f}). Full report: `run/report.md`."
    )
    splits = info["metrics"]["splits"]
    rows = _accuracy_rows(list(splits.values()))
    blocks: list[Block] = [Heading("Training"), Paragraph(text)]
    blocks.append(table(["class", *splits], rows, [False] + [True] * len(splits)))
    if (out / "run" / "curves.png").is_file():
        blocks.append(Figure(out / "run" / "curves.png", "training and validation accuracy"))
    return blocks


def _accuracy_rows(columns: list[dict[str, Any]]) -> list[list[str]]:
    """One row per class and a total: ``accuracy (correct/samples)`` of each contract-4 split in ``columns``."""
    rows = []
    for label in [*config.LABELS, "total"]:
        cells = [label]
        for split in columns:
            r = split["total"] if label == "total" else split["per_class"][label]
            cells.append(f"{r['accuracy']:.3f} ({r['correct']:,}/{r['samples']:,})")
        rows.append(cells)
    return rows


def _accuracy(out: Path, records: dict[str, dict]) -> list[Block]:
    """Per-class test accuracy of every implementation that ran, host and emulated firmware."""
    from model.pipeline.plots import accuracy_bars

    sources: dict[str, dict[str, Any]] = {}
    if "train" in records:
        sources["PyTorch float32 (host)"] = records["train"]["info"]["metrics"]["splits"]["test"]
    for dtype, model in records.get("export", {}).get("info", {}).get("models", {}).items():
        sources[f"tflite_micro {dtype} (host)"] = model["test"]
    emulate = records.get("emulate", {}).get("info", {})
    test_clips = records.get("features", {}).get("info", {}).get("splits", {}).get("test", {}).get("clips")
    for name, summary in emulate.get("variants", {}).items():
        if summary["clips"] == test_clips:  # variants run on part of the split are not comparable here
            sources[f"firmware {name} ({emulate['backend']})"] = summary["test"]
    if not sources:
        return []
    rows = _accuracy_rows(list(sources.values()))
    bars = {name: {label: m["per_class"][label]["accuracy"] for label in config.LABELS} for name, m in sources.items()}
    figure = accuracy_bars(bars, out / "figures" / "test_accuracy.png")
    return [
        Heading("Test accuracy per class: host and firmware"),
        table(["class", *sources], rows, [False] + [True] * len(sources)),
        Figure(figure, "per-class test accuracy"),
    ]


def _agreement(records: dict[str, dict]) -> list[Block]:
    emulate = records.get("emulate")
    if emulate is None:
        return []
    rows = []
    for name, s in emulate["info"]["variants"].items():
        rows.append(
            [name, f"{s['clips']:,}", f"{s['matches_tflite_micro']:,}", f"{s['errors']:,}", s["first_error"] or ""]
        )
    text = (
        "Test clips classified by the firmware in the emulator (the whole split on int8, the first ones on the other "
        "variants: `--variant-clips`). int8 variants must reproduce the host "
        "frontend's model input (checksum) and tflite_micro's four int8 scores exactly; float32 variants its label."
    )
    return [
        Heading("Firmware against tflite_micro"),
        Paragraph(text),
        table(
            ["variant", "clips", "match tflite_micro", "emulation errors", "first error"],
            rows,
            [False, True, True, True, False],
        ),
    ]


def _size(records: dict[str, dict]) -> list[Block]:
    firmware = records.get("firmware")
    train = records.get("train")
    if firmware is None or train is None:
        return []
    from model.pipeline.records import VARIANTS

    estimate = train["info"]["size"]
    models = records.get("export", {}).get("info", {}).get("models", {})
    rows = []
    for variant in VARIANTS:
        entry = firmware["info"]["variants"].get(variant.name, {})
        weights = estimate["weight_bytes"].get(variant.model or variant.dtype)  # no estimate for int4
        activations = estimate["activation_bytes"][variant.dtype]
        tflite = models.get(variant.model or variant.dtype, {}).get("bytes")
        cells = [variant.name, f"{weights:,}" if weights else "", f"{tflite:,}" if tflite else ""]
        if "size" in entry:
            size = entry["size"]
            cells += [
                f"{size['flash_bytes']:,} ({100 * size['flash_bytes'] / size['flash_limit']:.1f} %)",
                f"{activations:,}",
                f"{size['ram_bytes']:,} ({100 * size['ram_bytes'] / size['ram_limit']:.1f} %)",
            ]
        else:
            cells += [f"not built: {entry.get('error', 'not run')}", f"{activations:,}", ""]
        rows.append(cells)
    text = (
        f"`kws size` estimate for the trained TinyConv ({estimate['params']:,} parameters, "
        f"{estimate['flops']['total']:,} FLOPs): weights stay in flash, peak activations in RAM. The ELF's figures "
        "(`size.json`) add the firmware itself: code, the frontend and its tables, buffers, the model's arena and "
        "the stack."
    )
    header = ["variant", "weights est. (B)", ".tflite (B)", "ELF flash (B)", "activations est. (B)", "ELF RAM (B)"]
    return [Heading("Size: estimate against the ELF"), Paragraph(text), table(header, rows, [False] + [True] * 5)]


def _cycles(out: Path, records: dict[str, dict]) -> list[Block]:
    from model.pipeline.emulate import CYCLE_STAGES
    from model.pipeline.plots import stage_times

    emulate = records.get("emulate")
    if emulate is None or not emulate["info"]["variants"]:
        return []
    mhz = config.CPU_HZ / 1e6
    rows, bars = [], {}
    for name, summary in emulate["info"]["variants"].items():
        cycles = summary["cycles"]
        cells = [name]
        for stage in CYCLE_STAGES:
            c = cycles.get(stage)
            instructions = f"; {c['instructions_first_clip']:,} instr." if c and "instructions_first_clip" in c else ""
            cells.append(f"{c['median']:,.0f} ({c['ms']:.2f} ms{instructions})" if c else "")
        rows.append(cells)
        bars[name] = {stage: cycles[stage]["ms"] for stage in CYCLE_STAGES if stage in cycles}
    rows.append(["study: nRF52840, TFLM reference kernels", "(21 ms)", "(86 ms)", "(< 1 ms)"])
    text = (
        f"DWT cycles per 1 s clip (median over the test clips) on the emulated Cortex-M4, milliseconds at "
        f"{mhz:g} MHz and the executed instructions of the first test clip. The Unicorn backend's DWT counts "
        "modelled Cortex-M4 cycles (the TRM's instruction timings at zero wait states; divides at their "
        "12-cycle bound; flash wait states not modelled: README, Cycle model); Renode counts one instruction "
        "per cycle. The study measured on silicon."
    )
    figure = stage_times(bars, STUDY_MS, out / "figures" / "stage_times.png")
    return [
        Heading(f"Stage cycles on the nRF52840 at {mhz:g} MHz"),
        Paragraph(text),
        table(["variant", "preprocessing", "inference", "post-processing"], rows, [False, True, True, True]),
        Figure(figure, "milliseconds per stage at 64 MHz, next to the study's measurement"),
    ]


def _latency(records: dict[str, dict]) -> list[Block]:
    train = records.get("train")
    if train is None:
        return []
    latency = train["info"]["latency_us"]
    text = (
        f"PyTorch, batch 1, {train['info']['latency_threads']} thread(s) on this machine's CPU (`kws profile`): "
        f"median {latency['median']:.1f} µs, min {latency['min']:.1f} µs, max {latency['max']:.1f} µs."
    )
    return [Heading("CPU latency"), Paragraph(text)]


def _streams(out: Path, records: dict[str, dict]) -> list[Block]:
    """Keyword detection per variant on the test split's streams (the streams stage)."""
    streams = records.get("streams")
    if streams is None:
        return []
    from model.pipeline.streams import STREAM_ARGUMENTS
    from model.stream.evaluate import VARIANT_COLUMNS, variant_rows

    text = (
        f"`kws stream make --data CORPUS --out {out / 'streams'} {' '.join(STREAM_ARGUMENTS)}`, then "
        f"`kws stream eval --streams {out / 'streams'} --build {out}`: the test split's keywords and half as many "
        "other words planted in a stream, every variant heard by the host engine (bit-exact with its firmware) "
        "paced as its firmware paces itself; false accepts on the keyword-free stream. Goals at 10 dB (issue 12): "
        "hit rate >= 0.90 for yes and no, wrong labels <= 0.02, <= 2 false accepts per hour, median latency <= 1 s."
    )
    blocks: list[Block] = [Heading("Keyword detection in a stream"), Paragraph(text)]
    if streams["status"] != "done":
        return [*blocks, Paragraph(f"Skipped: {streams['info']['reason']}")]
    numeric = [False, True, False] + [True] * (len(VARIANT_COLUMNS) - 3)
    blocks.append(table(list(VARIANT_COLUMNS), variant_rows(streams["info"]["variants"]), numeric))
    det = out / streams["info"]["det"]
    if det.is_file():
        blocks.append(Figure(det, "miss rate against false accepts per hour over the detection threshold (int8)"))
    return blocks


def _robot(records: dict[str, dict]) -> list[Block]:
    robot = records.get("robot")
    if robot is None:
        return []
    info = robot["info"]
    text = f"Status: {robot['status']}. {info['summary']}"
    if info.get("report"):
        text += f" Robot's report: `{info['report']}`."
    return [Heading("Robot Framework suites"), Paragraph(text)]


def _problems(records: dict[str, dict]) -> list[Block]:
    notes = []
    firmware = records.get("firmware", {}).get("info", {})
    for name, entry in firmware.get("variants", {}).items():
        if "error" in entry:
            notes.append(f"firmware variant {name} not built: {entry['error']}")
    robot = records.get("robot")
    if robot is not None and robot["status"] == "skipped":
        notes.append(f"Robot suites skipped: {robot['info']['summary']}")
    return [Heading("Open problems"), *(Paragraph(f"- {n}") for n in notes)] if notes else []


def build(out: Path, data: Path) -> list[Block]:
    records = _records(out)
    from model.pipeline.records import problems

    found = problems(out)
    blocks: list[Block] = [Heading(TITLE, 1)]
    if found:
        blocks.append(Paragraph("FAILED: " + "; ".join(found)))
    blocks += _problems(records)
    blocks += _stage_table(records)
    blocks += _dataset(records, data)
    blocks += _training(out, records)
    blocks += _accuracy(out, records)
    blocks += _agreement(records)
    blocks += _size(records)
    blocks += _cycles(out, records)
    blocks += _latency(records)
    blocks += compression(out, records)
    blocks += _streams(out, records)
    blocks += _robot(records)
    blocks += [Heading("Audio and features"), *figures(out, data)]
    return blocks


def write_reports(out: Path, data: Path) -> tuple[Path, Path]:
    out = Path(out).resolve()  # figure paths are built from it, and must not depend on the working directory
    blocks = build(out, data)
    md, html = out / "report.md", out / "report.html"
    atomic_write_text(md, to_markdown(blocks, out))
    atomic_write_text(html, to_html(blocks, out, TITLE))
    return md, html
