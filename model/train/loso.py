"""``kws loso``: leave-one-source-out accuracy, how the recipe does on voices it never heard.

A synthetic corpus's test split shares its synthesizers with the training split: a model can
score well there by learning a synthesizer's formants and timing rather than the words. For
each voice source in the corpus's ``sources.json`` (``kws data synth``), this trains the recipe
on the other sources only (their own hash split picks the checkpoint, so the held-out source
is never seen, not even for model selection) and tests it on every clip of the held-out
source, all of its speakers: its keyword clips, its share of unknown words (``--unknown-pct``)
and silence (``--silence-pct``, from the background recordings). The speech babble background
is remade per fold from the training sources' clips, so no held-out voice leaks in through
background mixing. Next to it, the same recipe trained on all sources gives the
in-distribution test accuracy.

Each fold is a tree of symbolic links under ``OUT/folds/<source>/`` (``train/`` and
``heldout/``) and an ordinary ``kws train`` run directory (``run/``), so a rerun resumes.
Outputs: ``OUT/loso.json`` and ``OUT/loso.md``, written atomically.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from model import config
from model.atomic import atomic_directory, atomic_write_text
from model.errors import BadInput
from model.options import float_range, list_of, non_negative_int, positive_float, positive_int, threads
from model.train.batches import DATA_SETTINGS, Split, clean_splits, load_train_data, open_dataset
from model.train.training import TrainConfig

FORMAT = "kws-loso/1"


def speaker_sources(corpus: Path) -> dict[str, str]:
    """Speaker id → source, from the corpus's sources.json."""
    path = Path(corpus) / "sources.json"
    if not path.is_file():
        raise BadInput(corpus, "no sources.json (make the corpus with kws data synth, which records voice sources)")
    try:
        speakers = json.loads(path.read_text())["speakers"]
        mapping = {str(k): str(v["source"]) for k, v in speakers.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadInput(path, "not a kws data synth sources manifest (speakers → source)") from None
    if len(set(mapping.values())) < 2:
        raise BadInput(path, f"needs at least two voice sources to hold one out, has {sorted(set(mapping.values()))}")
    return mapping


def partition(corpus: Path, sources: dict[str, str], held_out: str) -> tuple[list[Path], list[Path]]:
    """Clips of the other sources and clips of ``held_out``; BadInput for a clip of no known speaker."""
    from model.data.dataset import speaker_key

    train, heldout = [], []
    for path in sorted(Path(corpus).glob("*/*.wav")):
        if path.parent.name == config.BACKGROUND_NOISE_DIR:
            continue
        source = sources.get(speaker_key(path))
        if source is None:
            raise BadInput(path, "speaker not in sources.json")
        (heldout if source == held_out else train).append(path)
    return train, heldout


def _link_tree(root: Path, clips: list[Path], background: Path) -> None:
    (root / config.BACKGROUND_NOISE_DIR).symlink_to(background.resolve(), target_is_directory=True)
    for clip in clips:
        (root / clip.parent.name).mkdir(exist_ok=True)
        (root / clip.parent.name / clip.name).symlink_to(clip.resolve())


def _fold_background(corpus: Path, train: list[Path], out: Path, seed: int) -> None:
    """The corpus's backgrounds, with speech babble remade from the training clips' other words."""
    from model.data.audio import read_wav, wav_bytes
    from model.data.synth import BABBLE_NAME, speech_babble

    for path in sorted((Path(corpus) / config.BACKGROUND_NOISE_DIR).glob("*.wav")):
        if path.stem != BABBLE_NAME:
            (out / path.name).symlink_to(path.resolve())
            continue
        others = [clip for clip in train if clip.parent.name not in config.WANTED_WORDS]
        seconds = read_wav(path).size / config.SAMPLE_RATE
        (out / path.name).write_bytes(wav_bytes(speech_babble(others, seconds, seed)))


def make_fold(corpus: Path, sources: dict[str, str], held_out: str, directory: Path, seed: int) -> dict[str, Any]:
    """``directory/train`` and ``directory/heldout`` trees (made once) and what is in them."""
    from model.data.dataset import speaker_key

    train, heldout = partition(corpus, sources, held_out)
    if not train or not heldout:
        raise BadInput(corpus, f"holding out {held_out} leaves {len(train)} training and {len(heldout)} test clips")
    if not (directory / "train").is_dir():
        with atomic_directory(directory / "background") as background:
            _fold_background(corpus, train, background, seed)
        with atomic_directory(directory / "train") as root:
            _link_tree(root, train, directory / "background")
        with atomic_directory(directory / "heldout") as root:
            _link_tree(root, heldout, directory / "background")
    return {
        "train_sources": sorted({sources[speaker_key(p)] for p in train}),
        "train_clips": len(train),
        "heldout_clips": len(heldout),
        "heldout_speakers": len({speaker_key(p) for p in heldout}),
    }


def heldout_split(directory: Path, settings: dict[str, Any], cache: Path, progress: bool) -> Split:
    """Every clip of a held-out tree, with silence and unknown at the recipe's shares, as one split."""
    whole = settings | {"validation_pct": 0, "testing_pct": 100}
    splits = clean_splits(open_dataset(directory, whole), cache, progress)
    parts = list(splits.values())
    return Split(np.concatenate([s.features for s in parts]), np.concatenate([s.labels for s in parts]))


def _train_and_test(data: Path, run: Path, cfg: TrainConfig, progress: bool) -> tuple[dict, Any]:
    """Train (or resume) the recipe on ``data`` into ``run``; its metrics and best model."""
    from model.train.tinyconv import load_checkpoint
    from model.train.training import train

    settings = {key: getattr(cfg, key) for key in DATA_SETTINGS}
    train_data = load_train_data(data, run / "features", settings, cfg.pool, progress, **cfg.augmentation())
    metrics = train(train_data, run, cfg, progress)
    return metrics, load_checkpoint(run / "model.pt")[0]


def _accuracies(split_metrics: dict) -> dict[str, Any]:
    per_class = {label: round(r["accuracy"], 4) for label, r in split_metrics["per_class"].items()}
    total = split_metrics["total"]
    return {"accuracy": round(total["accuracy"], 4), "samples": total["samples"], "per_class": per_class}


def run_fold(corpus: Path, sources: dict[str, str], held_out: str, out: Path, cfg: TrainConfig, progress: bool) -> dict:
    """One fold: train without ``held_out``, test on all of its clips; also the fold's own test split."""
    from model.train.evaluate import evaluate_splits

    directory = out / "folds" / held_out
    directory.mkdir(parents=True, exist_ok=True)
    fold = make_fold(corpus, sources, held_out, directory, cfg.seed)
    metrics, model = _train_and_test(directory / "train", directory / "run", cfg, progress)
    settings = {key: getattr(cfg, key) for key in DATA_SETTINGS}
    split = heldout_split(directory / "heldout", settings, directory / "run" / "features-heldout", progress)
    heldout = evaluate_splits(model, {"heldout": split})[0]["splits"]["heldout"]
    own = metrics["splits"]["test"]
    return fold | {"heldout": _accuracies(heldout), "own_test": _accuracies(own)}


def loso(corpus: Path, out: Path, cfg: TrainConfig, progress: bool = True) -> dict[str, Any]:
    """Every fold and the in-distribution run; writes OUT/loso.json and OUT/loso.md."""
    sources = speaker_sources(corpus)
    names = sorted(set(sources.values()))
    folds = {}
    for k, held_out in enumerate(names, 1):
        print(f"loso: fold {k}/{len(names)}, holding out {held_out}", flush=True)
        folds[held_out] = run_fold(corpus, sources, held_out, out, cfg, progress)
        print(f"loso: {held_out} held out: accuracy {folds[held_out]['heldout']['accuracy']:.4f}", flush=True)
    print("loso: all sources (in-distribution)", flush=True)
    metrics, _ = _train_and_test(Path(corpus), out / "all", cfg, progress)
    result = {
        "format": FORMAT,
        "data": str(corpus),
        "config": asdict(cfg),
        "folds": folds,
        "mean_heldout_accuracy": round(float(np.mean([f["heldout"]["accuracy"] for f in folds.values()])), 4),
        "in_distribution": _accuracies(metrics["splits"]["test"]),
    }
    atomic_write_text(out / "loso.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(out / "loso.md", markdown(result))
    return result


def markdown(result: dict[str, Any]) -> str:
    """The report: one row per held-out source, the mean, and the in-distribution accuracy."""
    keywords = config.WANTED_WORDS
    head = "| held out | trained on | clips | speakers | accuracy | " + " | ".join(keywords) + " | own test split |"
    rule = "|---|---|---:|---:|---:|" + "---:|" * len(keywords) + "---:|"
    cfg = result["config"]
    lines = ["# Leave-one-source-out accuracy", "", f"Corpus `{result['data']}`, steps {cfg['steps']}, "]
    lines[-1] += f"seed {cfg['seed']}."
    lines += ["", head, rule]
    for source, fold in result["folds"].items():
        held = fold["heldout"]
        cells = [source, ", ".join(fold["train_sources"]), f"{held['samples']:,}", str(fold["heldout_speakers"])]
        cells += [f"{held['accuracy']:.4f}", *(f"{held['per_class'][w]:.4f}" for w in keywords)]
        lines.append("| " + " | ".join([*cells, f"{fold['own_test']['accuracy']:.4f}"]) + " |")
    ind = result["in_distribution"]
    lines += [
        "",
        f"Mean held-out accuracy: **{result['mean_heldout_accuracy']:.4f}**. In-distribution test accuracy "
        f"(all sources, hash split): **{ind['accuracy']:.4f}** on {ind['samples']:,} clips.",
        "",
        "Held-out clips include the source's unknown words and silence at the recipe's shares; "
        "the own test split is the fold model's test split of its training sources.",
        "",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    lr = args.lr or ([0.001, 0.0001][: len(args.steps)] if len(args.steps) <= 2 else None)
    if lr is None:
        raise BadInput(None, "--lr: give one learning rate per --steps phase")
    try:
        options = {"seed": args.seed, "threads": args.threads, "pool": args.pool, "speed_perturb": args.speed_perturb}
        cfg = TrainConfig(steps=args.steps, lr=lr, **options)
    except ValueError as exc:
        raise BadInput(None, str(exc)) from None
    out = Path(args.out)
    result = loso(Path(args.data), out, cfg, progress=not args.no_progress)
    for source, fold in result["folds"].items():
        print(f"{source} held out: {fold['heldout']['accuracy']:.4f} ({fold['heldout']['samples']:,} clips)")
    print(f"mean held out: {result['mean_heldout_accuracy']:.4f}; in-distribution test: "
          f"{result['in_distribution']['accuracy']:.4f}")  # fmt: skip
    print(f"wrote {out / 'loso.json'}, {out / 'loso.md'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    d = TrainConfig()
    parser = subparsers.add_parser(
        "loso",
        help="leave-one-source-out accuracy: train without each voice source, test on it",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, metavar="DIR", help="a corpus from kws data synth (sources.json)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory (rerun to resume)")
    parser.add_argument("--steps", type=list_of(positive_int), default=d.steps, help="steps per phase (12000,3000)")
    parser.add_argument("--lr", type=list_of(positive_float), help="learning rate per phase (0.001,0.0001)")
    parser.add_argument("--pool", type=positive_int, default=d.pool, help=f"augmented versions per clip ({d.pool})")
    parser.add_argument("--seed", type=non_negative_int, default=d.seed, help="seed of data and training (0)")
    parser.add_argument(
        "--speed-perturb",
        type=float_range(0, 0.5, high_open=True),
        default=d.speed_perturb,
        metavar="P",
        help="as kws train's (default 0: off)",
    )
    parser.add_argument("--threads", type=threads, default=d.threads, help="torch CPU threads (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (fold lines only)")
    parser.set_defaults(func=run)
