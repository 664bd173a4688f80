"""The pipeline report's own figures: per-class accuracy per source, stage times per variant, and
accuracy against the compression settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.atomic import atomic_write_bytes
from model.figures import png_bytes


def accuracy_bars(per_source: dict[str, dict[str, float]], out: Path) -> Path:
    """Grouped bars: per-class accuracy (keys of each inner dict) for each source (host, firmware, ...)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sources = list(per_source)
    classes = list(next(iter(per_source.values()))) if sources else []
    width = 0.8 / max(len(sources), 1)
    fig, ax = plt.subplots(figsize=(8, 4), constrained_layout=True)
    for i, source in enumerate(sources):
        x = np.arange(len(classes)) + (i - (len(sources) - 1) / 2) * width
        ax.bar(x, [per_source[source][c] for c in classes], width, label=source)
    ax.set_xticks(np.arange(len(classes)), classes)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("test accuracy")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    atomic_write_bytes(out, png_bytes(fig))
    plt.close(fig)
    return out


def stage_times(per_variant: dict[str, dict[str, float]], reference: dict[str, float], out: Path) -> Path:
    """Horizontal bars: milliseconds per stage for each variant, next to a reference measurement."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {**per_variant, "study (nRF52840, TFLM)": reference}
    stages = list(reference)
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * len(rows)), constrained_layout=True)
    names = list(rows)
    left = np.zeros(len(names))
    for stage in stages:
        values = np.array([rows[name].get(stage, 0.0) for name in names])
        ax.barh(names, values, left=left, label=stage)
        left += values
    ax.invert_yaxis()
    ax.set_xlabel("ms at 64 MHz")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    atomic_write_bytes(out, png_bytes(fig))
    plt.close(fig)
    return out


def line_panels(
    panels: list[tuple[str, dict[str, list[tuple[float, float]]]]], baseline: float | None, out: Path
) -> Path:
    """Side-by-side panels of test accuracy against an x (each panel: its x label and named series
    of (x, accuracy) points), the float model's accuracy as a dotted line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False, sharey=True)
    for ax, (xlabel, series) in zip(axes[0], panels, strict=True):
        for (name, points), style in zip(series.items(), ("o--", "s-", "^:", "d-."), strict=False):
            if points:
                xs, ys = zip(*sorted(points), strict=True)
                ax.plot(xs, ys, style, label=name)
        if baseline is not None:
            ax.axhline(baseline, color="grey", linestyle=":", label="float")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("test accuracy")
    fig.tight_layout()
    atomic_write_bytes(out, png_bytes(fig))
    plt.close(fig)
    return out
