"""``kws data plot``: six views of each clip, and a side-by-side comparison of several clips.

Per WAV: waveform, magnitude spectrum, spectrogram, mel spectrogram, MFCC and the micro
frontend's features (the study's Figures 1-2). With two or more WAVs, ``comparison.png``
puts them in columns on shared colour scales, so yes vs no or loud vs quiet can be read
at a glance.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import config
from model.atomic import atomic_write_bytes
from model.data.audio import read_wav
from model.figures import png_bytes

#: Columns of comparison.png at most; more clips still get their own figures.
MAX_COMPARED = 8
VIEWS = ("waveform", "magnitude spectrum", "spectrogram", "mel spectrogram", "MFCC", "micro frontend")


@dataclass
class ClipViews:
    """Everything drawn for one clip, computed once."""

    name: str
    pcm: np.ndarray
    freqs: np.ndarray
    spectrum_db: np.ndarray
    spectrogram_db: np.ndarray
    mel_db: np.ndarray
    mfcc: np.ndarray
    frontend: np.ndarray

    @property
    def peak_dbfs(self) -> float:
        peak = int(np.max(np.abs(self.pcm.astype(np.int32))))
        return float(20 * np.log10(max(peak, 1) / 32768))


def compute_views(name: str, pcm: np.ndarray) -> ClipViews:
    from model.data import spectral
    from model.data.features import microfrontend

    freqs, spectrum_db = spectral.magnitude_spectrum(pcm)
    return ClipViews(
        name=name,
        pcm=pcm,
        freqs=freqs,
        spectrum_db=spectrum_db,
        spectrogram_db=10 * np.log10(np.maximum(spectral.power_spectrogram(pcm), 1e-10)),
        mel_db=spectral.log_mel_spectrogram(pcm),
        mfcc=spectral.mfcc(pcm),
        frontend=microfrontend(pcm),
    )


def _draw(axes: list, clip: ClipViews, limits: dict[str, tuple[float, float]], labels: bool) -> None:
    """Draw the six views of ``clip`` into a column of six axes."""
    t = np.arange(clip.pcm.size) / config.SAMPLE_RATE
    step_s = config.STEP_MS / 1000
    ax = axes[0]
    ax.plot(t, clip.pcm / 32768.0, linewidth=0.5)
    ax.set_ylim(-1.05, 1.05)
    ax.set_title(f"{clip.name}\npeak {clip.peak_dbfs:.1f} dBFS", fontsize=9)
    ax.set_xlabel("time (s)")
    ax = axes[1]
    ax.plot(clip.freqs, clip.spectrum_db, linewidth=0.5)
    ax.set_ylim(*limits["spectrum"])
    ax.set_xlabel("frequency (Hz)")
    images = [
        (axes[2], clip.spectrogram_db, "spectrogram", "frequency bin"),
        (axes[3], clip.mel_db, "mel", "mel band"),
        (axes[4], clip.mfcc, "mfcc", "coefficient"),
        (axes[5], clip.frontend.astype(np.float64), "frontend", "channel"),
    ]
    for ax, data, key, ylabel in images:
        frames = max(data.shape[0], 1)
        im = ax.imshow(
            data.T,
            origin="lower",
            aspect="auto",
            interpolation="nearest",
            extent=(0, frames * step_s, 0, data.shape[1]),
            vmin=limits[key][0],
            vmax=limits[key][1],
        )
        ax.set_xlabel("time (s)")
        if labels:
            ax.set_ylabel(ylabel)
        ax.figure.colorbar(im, ax=ax, pad=0.01)
    if labels:
        for ax, view in zip(axes, VIEWS, strict=True):
            ax.set_ylabel(f"{view}\n{ax.get_ylabel()}".strip(), fontsize=8)


def _limits(clips: list[ClipViews]) -> dict[str, tuple[float, float]]:
    """Shared colour and axis ranges, so columns of a comparison are directly comparable."""

    def span(arrays: list[np.ndarray], floor_below_max: float | None = None) -> tuple[float, float]:
        finite = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(1)
        finite = finite if finite.size else np.zeros(1)
        hi = float(finite.max())
        lo = float(finite.min()) if floor_below_max is None else hi - floor_below_max
        return (lo, hi if hi > lo else lo + 1.0)

    return {
        "spectrum": span([c.spectrum_db for c in clips], floor_below_max=100.0),
        "spectrogram": span([c.spectrogram_db for c in clips], floor_below_max=80.0),
        "mel": span([c.mel_db for c in clips], floor_below_max=80.0),
        "mfcc": span([c.mfcc for c in clips]),
        "frontend": span([c.frontend.astype(np.float64) for c in clips]),
    }


def plot_clips(clips: list[ClipViews], out: Path) -> list[Path]:
    """Write one figure per clip and, for several clips, ``comparison.png`` (of the first
    ``MAX_COMPARED``); return the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for clip in clips:
        fig, axes = plt.subplots(len(VIEWS), 1, figsize=(7, 14), constrained_layout=True)
        _draw(list(axes), clip, _limits([clip]), labels=True)
        path = out / f"{clip.name}.png"
        atomic_write_bytes(path, png_bytes(fig))
        plt.close(fig)
        written.append(path)
    compared = clips[:MAX_COMPARED]
    if len(compared) > 1:
        fig, axes = plt.subplots(
            len(VIEWS), len(compared), figsize=(4.2 * len(compared) + 1, 14), constrained_layout=True, squeeze=False
        )
        limits = _limits(compared)
        for column, clip in enumerate(compared):
            _draw(list(axes[:, column]), clip, limits, labels=column == 0)
        path = out / "comparison.png"
        atomic_write_bytes(path, png_bytes(fig))
        plt.close(fig)
        written.append(path)
    return written


def clip_names(paths: list[Path]) -> list[str]:
    """Unique, readable figure names: ``<folder>_<stem>`` (Speech Commands stems repeat across words)."""
    names: list[str] = []
    for path in paths:
        base = f"{path.parent.name}_{path.stem}" if path.parent.name else path.stem
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.wavs]
    samples = [read_wav(p) for p in paths]  # every input is checked before anything is written
    clips = [compute_views(n, s) for n, s in zip(clip_names(paths), samples, strict=True)]
    for path in plot_clips(clips, Path(args.out)):
        print(path)
    if len(clips) > MAX_COMPARED:
        print(f"comparison.png shows the first {MAX_COMPARED} of {len(clips)} clips")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot",
        help="plot waveform, spectra, mel, MFCC and micro-frontend features of WAV files",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("wavs", nargs="+", metavar="WAV", help="16 kHz mono 16-bit PCM WAV files")
    parser.add_argument("--out", required=True, help="output directory for the PNG files")
    parser.set_defaults(func=run)
