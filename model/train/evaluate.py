"""``kws eval``: per-class accuracy and confusion matrices of a checkpoint on every split.

Splits are rebuilt with the data settings recorded in the checkpoint (silence/unknown
percentages, validation/test percentages, seed), so a checkpoint is evaluated on exactly the
clips it was trained and selected on. Features carry no augmentation.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from model import config
from model.options import threads
from model.train.batches import Split


def predict(model, features: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Predicted label indices of uint16 features (N, 49, 40), in eval mode (no dropout)."""
    import torch

    from model.train.tinyconv import to_input

    was_training = model.training
    model.eval()
    predictions = []
    with torch.no_grad():
        for start in range(0, len(features), batch_size):
            logits = model(to_input(features[start : start + batch_size]))
            predictions.append(logits.argmax(1).numpy())
    model.train(was_training)
    return np.concatenate(predictions) if predictions else np.zeros(0, dtype=np.int64)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """(true, predicted) counts over ``config.LABELS``."""
    n = len(config.LABELS)
    return np.bincount(labels * n + predictions, minlength=n * n).reshape(n, n)


def split_metrics(confusion: np.ndarray) -> dict[str, Any]:
    """Contract 4's per-split record: samples, correct and accuracy per class and in total."""

    def record(samples: int, correct: int) -> dict[str, Any]:
        return {"samples": samples, "correct": correct, "accuracy": correct / samples if samples else 0.0}

    per_class = {label: record(int(confusion[i].sum()), int(confusion[i, i])) for i, label in enumerate(config.LABELS)}
    return {"per_class": per_class, "total": record(int(confusion.sum()), int(np.trace(confusion)))}


def evaluate_splits(model, splits: dict[str, Split]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``{"splits": {...}}`` metrics and the confusion matrix of each split."""
    confusions = {name: confusion_matrix(s.labels, predict(model, s.features)) for name, s in splits.items()}
    return {"splits": {name: split_metrics(c) for name, c in confusions.items()}}, confusions


def markdown_tables(metrics: dict[str, Any], confusions: dict[str, np.ndarray]) -> str:
    """Per split: a per-class accuracy table and a confusion matrix (rows true, columns predicted)."""
    lines: list[str] = []
    for name, split in metrics["splits"].items():
        lines += [f"### {name}", "", "| class | samples | correct | accuracy |", "|---|---:|---:|---:|"]
        rows = [*split["per_class"].items(), ("**total**", split["total"])]
        for label, r in rows:
            lines.append(f"| {label} | {r['samples']:,} | {r['correct']:,} | {r['accuracy']:.3f} |")
        lines += ["", "Confusion matrix (rows: true class, columns: predicted class):", ""]
        lines.append("| true \\ predicted | " + " | ".join(config.LABELS) + " |")
        lines.append("|---" + "|---:" * len(config.LABELS) + "|")
        for label, row in zip(config.LABELS, confusions[name], strict=True):
            lines.append(f"| {label} | " + " | ".join(f"{int(v):,}" for v in row) + " |")
        lines.append("")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import torch

    from model.train.batches import DATA_SETTINGS, clean_splits, open_dataset
    from model.train.tinyconv import load_checkpoint

    checkpoint = Path(args.checkpoint)
    model, payload = load_checkpoint(checkpoint)
    torch.set_num_threads(args.threads)
    settings = {key: payload["train_config"][key] for key in DATA_SETTINGS if key in payload["train_config"]}
    cache = Path(args.cache) if args.cache else checkpoint.parent / "features"
    splits = clean_splits(open_dataset(Path(args.data), settings), cache, progress=not args.json)
    metrics, confusions = evaluate_splits(model, splits)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(f"## {checkpoint}\n\n{markdown_tables(metrics, confusions)}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="per-class accuracy and confusion matrices of a checkpoint on train, validation and test",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--checkpoint", required=True, metavar="FILE", help="a model.pt written by kws train")
    parser.add_argument("--data", required=True, metavar="DIR", help="the dataset (Speech Commands layout)")
    parser.add_argument("--cache", metavar="DIR", help="feature cache (default: features/ next to the checkpoint)")
    parser.add_argument("--threads", type=threads, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--json", action="store_true", help="print contract 4's metrics JSON")
    parser.set_defaults(func=run)
