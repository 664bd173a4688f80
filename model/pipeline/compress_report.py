"""The pipeline report's compression sections, from the compress, export, firmware and emulate
records: per-class accuracy of 8- and 4-bit PTQ and QAT on every split (the study's Figs 5-6),
accuracy against bit width (Fig 7), unstructured pruning (Fig 8), channel pruning against
parameters, FLOPs (Fig 9) and CPU and MCU runtime (Fig 10), Table 5, and the compressed firmware.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model.pipeline.document import Block, Figure, Heading, Paragraph, table

SPLIT_NAMES = ("train", "validation", "test")


def _test(row: dict) -> float:
    return row["test"]["total"]["accuracy"]


def _by_name(rows: list[dict]) -> dict[str, dict]:
    return {row["name"]: row for row in rows}


def _per_class(rows: list[dict]) -> list[Block]:
    from model.pipeline.report import _accuracy_rows

    named = _by_name(rows)
    blocks: list[Block] = []
    for bits in (8, 4):
        present = [m for m in ("ptq", "qat") if f"{m}-{bits}" in named]
        if not present:
            continue
        columns = [named[f"{m}-{bits}"][split] for m in present for split in SPLIT_NAMES]
        header = ["class", *(f"{m.upper()} {split}" for m in present for split in SPLIT_NAMES)]
        blocks.append(Paragraph(f"{bits}-bit weights, 8-bit activations: accuracy (correct/clips) per class."))
        blocks.append(table(header, _accuracy_rows(columns), [False] + [True] * len(columns)))
    return blocks


def _points(rows: list[dict], method: str, x) -> list[tuple[float, float]]:
    return [(x(r), _test(r)) for r in rows if r["method"] == method]


def _figures(out: Path, rows: list[dict], mcu_ms: dict[int, float]) -> list[Block]:
    from model.pipeline.plots import line_panels

    folder = out / "figures"
    baseline = _test(rows[0])
    bits = [("weight bits", {m.upper(): _points(rows, m, lambda r: r["bits"]) for m in ("ptq", "qat")})]
    figures = [Figure(line_panels(bits, baseline, folder / "compress_bits.png"), "Fig 7: PTQ and QAT")]
    nonzero = {m: _points(rows, m, lambda r: r["nonzero_weights"]) for m in ("prune", "prune+ft")}
    if any(nonzero.values()):
        panels = [("nonzero weights (biases kept)", nonzero)]
        path = line_panels(panels, baseline, folder / "compress_unstructured.png")
        figures.append(Figure(path, "Fig 8: unstructured magnitude pruning"))
    if not any(r["method"].startswith("channels") for r in rows):
        return figures
    axes = (("parameters", lambda r: r["params"]), ("FLOPs", lambda r: r["flops"]))
    panels = [(label, {m: _points(rows, m, x) for m in ("channels", "channels+ft")}) for label, x in axes]
    path = line_panels(panels, baseline, folder / "compress_structured.png")
    figures.append(Figure(path, "Fig 9: channel pruning against parameters and FLOPs"))
    measured = [r for r in rows if _runs_firmware(r)]
    cpu = [(r["latency_us"]["median"], _test(r)) for r in measured]
    mcu = [(mcu_ms[r["channels"]], _test(r)) for r in measured if r["channels"] in mcu_ms]
    panels = [
        ("CPU µs (PyTorch, batch 1)", {"channels+ft": cpu}),
        ("MCU ms at 64 MHz (emulated)", {"channels+ft": mcu}),
    ]
    path = line_panels(panels, baseline, folder / "compress_runtime.png")
    figures.append(Figure(path, "Fig 10: channel pruning against CPU and MCU inference time"))
    return figures


def _runs_firmware(row: dict) -> bool:
    """The rows whose channel count has a measured firmware: the unpruned model and the fine-tuned levels."""
    return row["method"] in ("float", "channels+ft")


def _mcu(records: dict[str, dict], name: str) -> dict[str, Any] | None:
    summary = records.get("emulate", {}).get("info", {}).get("variants", {}).get(name)
    return None if summary is None else summary["cycles"].get("inference")


def _size(records: dict[str, dict], name: str) -> dict[str, Any] | None:
    return records.get("firmware", {}).get("info", {}).get("variants", {}).get(name, {}).get("size")


def table5(records: dict[str, dict], rows: list[dict]) -> tuple[list[Block], dict[int, float]]:
    """Table 5, one row per channel count (the unpruned int8 model first), and the MCU ms per count."""
    named = _by_name(rows)
    levels = [(0.0, rows[0], "int8")]
    levels += [(r["fractions"], r, r["name"]) for r in rows if r["method"] == "channels+ft"]
    table_rows, mcu_ms = [], {}
    for fractions, row, firmware in levels:
        inference, size = _mcu(records, firmware), _size(records, firmware)
        unpruned = named.get(f"channels-{row['channels']}", row)
        cells = [
            ", ".join(f"{f:g}" for f in fractions) if isinstance(fractions, list) else "0",
            f"{row['params']:,}",
            f"{row['flops']:,}",
            str(row["channels"]),
            f"{row['neurons']:,}",
            f"{_test(unpruned):.3f} / {_test(row):.3f}",
            f"{row['latency_us']['median']:.1f}",
        ]
        if inference is not None:
            mcu_ms[row["channels"]] = inference["ms"]
            cells += [f"{inference['median']:,.0f}", f"{inference['ms']:.2f}"]
        else:
            cells += ["not emulated", ""]
        cells += [f"{size['flash_bytes']:,}", f"{size['ram_bytes']:,}"] if size else ["not built", ""]
        table_rows.append(cells)
    header = ["threshold", "params", "FLOPs", "channels", "neurons", "test acc. (pruned / +ft)", "CPU µs"]
    header += ["MCU cycles", "MCU ms", "flash (B)", "RAM (B)"]
    text = (
        "Table 5: channel pruning by filter norm. Threshold: the fractions of the conv channels removed (the "
        "first row is the unpruned model); neurons: conv output activations (channels x 25 x 20). CPU µs: "
        "median batch-1 forward pass in PyTorch (`kws profile`, 1 thread). MCU: median inference cycles of "
        "the fine-tuned model's int8 firmware (Cortex-M4 kernels) in the emulator and their ms at 64 MHz; "
        "flash and RAM from its ELF."
    )
    return [Paragraph(text), table(header, table_rows, [False] + [True] * 10)], mcu_ms


def _firmware(records: dict[str, dict], rows: list[dict]) -> list[Block]:
    firmware = records.get("firmware", {}).get("info", {}).get("variants", {})
    models = records.get("export", {}).get("info", {}).get("models", {})
    named = _by_name(rows)
    table_rows = []
    for name, row in named.items():
        if name not in firmware:
            continue
        entry, model = firmware[name], models.get(name, {})
        inference = _mcu(records, name)
        cells = [
            name,
            "Robot suite" if entry.get("listed") else "measurement",
            f"{_test(row):.3f}",
            f"{model['test']['total']['accuracy']:.3f}" if model else "",
            f"{model.get('bytes', 0):,}" if model else "",
        ]
        cells += (
            [f"{entry['size']['flash_bytes']:,}", f"{entry['size']['ram_bytes']:,}"]
            if "size" in entry
            else [
                f"not built: {entry.get('error', '')}",
                "",
            ]
        )
        cells.append(f"{inference['median']:,.0f}" if inference else "")
        table_rows.append(cells)
    header = ["variant", "firmware for", "PyTorch test", "tflite_micro test", ".tflite (B)", "flash (B)", "RAM (B)"]
    header.append("inference cycles")
    without = [f"{row['name']}: {row['note']}" for row in rows if not row["weights"]]
    unbuilt = [row["name"] for row in rows if row["weights"] and row["name"] not in firmware]
    blocks: list[Block] = [
        Paragraph("Compressed models built as firmware:"),
        table(header, table_rows, [False, False] + [True] * 6),
        Paragraph("Without firmware of their own: " + "; ".join(without) + "."),
    ]
    if unbuilt:
        blocks.append(Paragraph(f"Deployable, built with `--all-variants`: {', '.join(unbuilt)}."))
    return blocks


def compression(out: Path, records: dict[str, dict]) -> list[Block]:
    record = records.get("compress")
    if record is None:
        return []
    info = record["info"]
    rows, grid = info["rows"], info["grid"]
    text = (
        f"`kws compress` on this run's model, split and corpus (the compress stage: {info['seconds']:,} s in its "
        f"last run): PTQ and QAT at {', '.join(map(str, grid['bits']))} bits; unstructured magnitude pruning at "
        f"{', '.join(f'{s:g}' for s in grid['sparsity'])}; channel pruning by the {grid['norm']} filter norm removing "
        f"{', '.join(f'{f:g}' for f in grid['channel_fractions'])} of the {info['channels']} channels; "
        f"{grid['finetune_steps']:,} steps of QAT or fine-tuning at learning rate {grid['lr']:g}. Accuracy: "
        "PyTorch with fake quantization (`model/compress`); the firmware's own below."
    )
    table5_blocks, mcu_ms = table5(records, rows)
    summary = [
        [r["name"], str(r["bits"]), str(r["channels"]), f"{r['params']:,}", f"{r['nonzero_weights']:,}"]
        + [f"{r[split]['total']['accuracy']:.3f}" for split in SPLIT_NAMES]
        for r in rows
    ]
    header = ["variant", "bits", "channels", "params", "nonzero weights", *SPLIT_NAMES]
    return [
        Heading("Compression"),
        Paragraph(text),
        table(header, summary, [False] + [True] * 7),
        *_per_class(rows),
        *_figures(out, rows, mcu_ms),
        *table5_blocks,
        *_firmware(records, rows),
    ]
