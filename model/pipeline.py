"""``kws pipeline``: the main job, end to end on the embedded defaults.

Stages so far: corpus (synthesised, or ``--data``) → micro-frontend features of every clip
(cached) → figures (yes vs no, loud vs quiet) → ``report.md``. Every stage is resumable: a
finished stage leaves a marker and is skipped on the next run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from model import config
from model.atomic import atomic_write_text


def _stage_done(out: Path, name: str) -> dict | None:
    marker = out / ".stages" / f"{name}.json"
    return json.loads(marker.read_text()) if marker.exists() else None


def _mark_done(out: Path, name: str, info: dict) -> dict:
    atomic_write_text(out / ".stages" / f"{name}.json", json.dumps(info, indent=2))
    return info


def corpus_stage(out: Path, data: Path | None, per_word: int, seed: int) -> Path:
    """The dataset to use: ``--data`` as given, else a synthetic corpus under OUT/corpus."""
    if data is not None:
        return data
    corpus = out / "corpus"
    if _stage_done(out, "corpus") is None:
        from model.data.synth import synthesize

        print(f"[corpus] synthesising {per_word} clips per word into {corpus}")
        _mark_done(out, "corpus", synthesize(corpus, per_word=per_word, seed=seed))
    else:
        print(f"[corpus] {corpus} is ready")
    return corpus


def features_stage(out: Path, data: Path, seed: int) -> dict:
    """Features of every clip of every split, through the on-disk cache; a summary per split."""
    done = _stage_done(out, "features")
    if done is not None and done.get("data") == str(data):
        print("[features] cached")
        return done
    from tqdm import tqdm

    from model.data.dataset import SpeechCommands
    from model.features import FeatureCache

    dataset = SpeechCommands(data, seed=seed)
    cache = FeatureCache(out / "features")
    summary: dict[str, dict] = {}
    start = time.perf_counter()
    for split in ("training", "validation", "testing"):
        examples = dataset.split(split)
        peak = 0
        for example in tqdm(examples, desc=f"[features] {split}", unit="clip"):
            peak = max(peak, int(cache.get(dataset.load(example)).max()))
        summary[split] = {"clips": len(examples), "max_feature": peak}
    info = {"data": str(data), "splits": summary, "seconds": round(time.perf_counter() - start, 1)}
    info["dataset"] = dataset.summary()
    return _mark_done(out, "features", info)


def figures_stage(out: Path, data: Path) -> list[Path]:
    """Yes vs no and loud vs quiet, the study's Figures 1-2."""
    from model.audio import read_wav, write_wav
    from model.plots import compute_views, plot_clips

    figures = out / "figures"
    yes = sorted((data / "yes").glob("*.wav"))[0]
    no = sorted((data / "no").glob("*.wav"))[0]
    pcm = read_wav(yes)
    peak = max(int(np.max(np.abs(pcm.astype(np.int32)))), 1)
    loud = np.round(pcm * (0.89 * 32767 / peak)).astype(np.int16)  # -1 dBFS
    quiet = np.round(pcm * (0.01 * 32767 / peak)).astype(np.int16)  # -40 dBFS
    write_wav(figures / "clips" / "yes_loud.wav", loud)
    write_wav(figures / "clips" / "yes_quiet.wav", quiet)
    written = plot_clips(
        [compute_views("yes", read_wav(yes)), compute_views("no", read_wav(no))], figures / "yes_vs_no"
    )
    written += plot_clips([compute_views("loud", loud), compute_views("quiet", quiet)], figures / "loud_vs_quiet")
    return written


def write_report(out: Path, data: Path, features: dict, figures: list[Path]) -> Path:
    lines = ["# Keyword spotting pipeline report", "", f"Dataset: `{data}`", "", "## Dataset", ""]
    counts = features["dataset"]
    labels = list(config.LABELS)
    lines += ["| split | " + " | ".join(labels) + " | total |", "|---" * (len(labels) + 2) + "|"]
    for split, per_label in counts.items():
        row = [str(per_label.get(label, 0)) for label in labels]
        lines.append(f"| {split} | " + " | ".join(row) + f" | {sum(per_label.values())} |")
    lines += ["", "## Features", ""]
    lines.append(
        f"Micro frontend, {config.NUM_FRAMES}x{config.NUM_CHANNELS} uint16 per clip: "
        f"{features['seconds']} s for all clips (cached afterwards)."
    )
    lines += ["", "| split | clips | max feature |", "|---|---|---|"]
    for split, info in features["splits"].items():
        lines.append(f"| {split} | {info['clips']} | {info['max_feature']} |")
    lines += ["", "## Figures", ""]
    for path in figures:
        if path.name == "comparison.png":
            rel = path.relative_to(out)
            lines += [f"### {path.parent.name.replace('_', ' ')}", "", f"![{path.parent.name}]({rel})", ""]
    report = out / "report.md"
    atomic_write_text(report, "\n".join(lines) + "\n")
    return report


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    data = corpus_stage(out, Path(args.data) if args.data else None, args.per_word, args.seed)
    features = features_stage(out, data, args.seed)
    figures = figures_stage(out, data)
    report = write_report(out, data, features, figures)
    print(f"report: {report}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pipeline", help="the main job: corpus, features, figures, report", description=__doc__
    )
    parser.add_argument("--out", required=True, help="output directory (reused: finished stages are skipped)")
    parser.add_argument("--data", help="a dataset in Speech Commands layout (default: synthesise one)")
    parser.add_argument("--per-word", type=int, default=200, help="synthetic clips per word (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed for corpus and data pipeline (default 0)")
    parser.set_defaults(func=run)
