"""A sweep's results: OUT/sweep.json, the Pareto fronts (PNG), OUT/report.md and the best model that
fits handed over as a normal variant in OUT/best (a BUILD that robot_tests/run.py takes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from model.atomic import atomic_write_bytes, atomic_write_text
from model.sweep.spec import Sweep
from model.sweep.trial import BLOCK_CYCLES

#: (metric, axis label) of the x axes the fronts are drawn against; accuracy is always y.
AXES = (("inference_cycles", "inference, modelled Cortex-M4 cycles"), ("flash_bytes", "flash bytes"))


def pareto(records: list[dict], cost: str) -> list[dict]:
    """The trials no other trial beats on both accuracy (higher) and ``cost`` (lower), by cost."""
    ok = sorted(
        (r for r in records if r["status"] == "ok"), key=lambda r: (r["metrics"][cost], -r["metrics"]["accuracy"])
    )
    front, best = [], -1.0
    for record in ok:
        if record["metrics"]["accuracy"] > best:
            front.append(record)
            best = record["metrics"]["accuracy"]
    return front


def best_fitting(records: list[dict]) -> dict | None:
    """The most accurate trial that fits the chip (fewer cycles, then less flash, break ties)."""
    fitting = [r for r in records if r["status"] == "ok" and r["fits"]]
    key = lambda r: (-r["metrics"]["accuracy"], r["metrics"]["inference_cycles"], r["metrics"]["flash_bytes"])  # noqa: E731
    return min(fitting, key=key, default=None)


def cycle_limit(records: list[dict], margin: float) -> float | None:
    """Inference cycles the real-time margin allows, with the trials' median frontend and post cycles."""
    ok = [r["metrics"] for r in records if r["status"] == "ok"]
    if not ok:
        return None
    from statistics import median

    from model import config

    other = median(m["preprocess_cycles"] / config.NUM_FRAMES + m["postprocess_cycles"] for m in ok)
    return (1 - margin) * BLOCK_CYCLES - other


def plot(records: list[dict], chip: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.figures import png_bytes

    limits = {"inference_cycles": cycle_limit(records, chip["realtime_margin"]), "flash_bytes": chip["flash_bytes"]}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True, sharey=True)
    for ax, (cost, label) in zip(axes, AXES, strict=True):
        for fit, style in ((True, "o"), (False, "x")):
            points = [r["metrics"] for r in records if r["status"] == "ok" and r["fits"] == fit]
            ax.plot([m[cost] for m in points], [m["accuracy"] for m in points], style,
                    label="fits the chip" if fit else "does not fit")  # fmt: skip
        front = pareto(records, cost)
        ax.step([r["metrics"][cost] for r in front], [r["metrics"]["accuracy"] for r in front], "g-", where="post",
                label="Pareto front")  # fmt: skip
        if limits[cost] is not None:
            ax.axvline(limits[cost], color="red", linestyle="--", label="constraint")
        ax.set_xlabel(label)
        ax.set_xscale("log" if cost == "flash_bytes" else "linear")  # the chip's 1 MB against models of tens of kB
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("emulated validation accuracy")
    png = png_bytes(fig)
    plt.close(fig)
    return png


def markdown(sweep: Sweep, records: list[dict], best: dict | None) -> str:
    chip = sweep.chip
    lines = [
        f"# Sweep {sweep.path.name}",
        "",
        f"{len(records)} trials ({sum(r['status'] == 'ok' for r in records)} ok, "
        f"{sum(r['status'] == 'failed' for r in records)} failed, {sum(r['status'] == 'stopped' for r in records)} "
        f"stopped early); search {sweep.search['algorithm']}. Chip: flash <= {chip['flash_bytes']:,} B, "
        f"RAM <= {chip['ram_bytes']:,} B, real-time margin >= {chip['realtime_margin']:.0%} of a 20 ms block.",
        "",
        "![Pareto fronts](pareto.png)",
        "",
        "Best model that fits: " + (f"trial `{best['id']}`, in `best/`." if best else "none."),
        "",
        "| trial | channels | steps | lr | bits | sparsity | pruned to | seed | status | accuracy | flash | RAM "
        "| inference cycles | margin | fits |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in sorted(records, key=lambda r: r["id"]):
        c = r["config"]
        row = f"| {r['id']} | {c['channels']} | {c['steps']} | {c['lr']:g} | {c['bits']} | {c['sparsity']:g} | "
        row += f"{c['prune_channels'] or ''} | {c['seed']} | "
        if r["status"] == "ok":
            m = r["metrics"]
            row += f"ok | {m['accuracy']:.3f} | {m['flash_bytes']:,} | {m['ram_bytes']:,} | "
            row += f"{m['inference_cycles']:,.0f} | {m['realtime_margin']:.0%} | {'yes' if r['fits'] else 'no'} |"
        else:
            row += f"{r['status']}: {r.get('reason', '')} | | | | | | |"
        lines.append(row)
    return "\n".join(lines) + "\n"


def hand_over(out: Path, best: dict, corpus: str) -> None:
    """OUT/best: the best trial's checkpoint, .tflite and firmware as a BUILD with one int8 variant."""
    from model.deploy.firmware import build

    target, source = out / "best", out / "trials" / best["id"]
    (target / "run").mkdir(parents=True, exist_ok=True)
    (target / "models").mkdir(exist_ok=True)
    shutil.copyfile(source / "model.pt", target / "run" / "model.pt")
    shutil.copyfile(source / "model.tflite", target / "models" / "int8.tflite")
    build(target / "models" / "int8.tflite", target / "firmware" / "int8", variant="int8", kernels="cortex_m4")
    variant = {"name": "int8", "dtype": "int8", "kernels": "cortex_m4", "model": "models/int8.tflite",
               "dir": "firmware/int8"}  # fmt: skip
    listing = {"data": corpus, "variants": [variant], "unbuilt": [], "trial": best["id"]}
    atomic_write_text(target / "variants.json", json.dumps(listing, indent=2) + "\n")


def write(sweep: Sweep, out: Path, records: list[dict], corpus: str) -> dict | None:
    """sweep.json, pareto.png, report.md and best/; returns the best trial that fits (or None)."""
    best = best_fitting(records)
    document = {"sweep": str(sweep.path), "search": sweep.search, "chip": sweep.chip, "data": sweep.data,
                "best": best["id"] if best else None, "trials": records}  # fmt: skip
    atomic_write_text(out / "sweep.json", json.dumps(document, indent=2) + "\n")
    atomic_write_bytes(out / "pareto.png", plot(records, sweep.chip))
    atomic_write_text(out / "report.md", markdown(sweep, records, best))
    if best is not None:
        hand_over(out, best, corpus)
    return best
