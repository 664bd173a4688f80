"""``kws train``: train TinyConv with TensorFlow's micro_speech recipe, resumably and reproducibly.

Recipe (defaults): 12,000 steps at learning rate 0.001, then 3,000 at 0.0001; batch 100;
dropout 0.5; silence and unknown 25% each of the wanted-word clips; training clips augmented
(time shift ±100 ms, background noise at volume 0-0.1: ``--time-shift``,
``--background-volume``). TensorFlow's train.py uses plain gradient descent
(``--optimizer gradient_descent``) by default, tuned together with TensorFlow's weight
initialisation; here the default is Adam, which is far less sensitive to initialisation and
gradient scale at these learning rates, with PyTorch's default initialisation. Plain gradient
descent is available as ``--optimizer sgd``.

Augmented features come from a pool of K versions per training clip computed once (see
``model.batches``); each step draws clip and version with a generator seeded by (seed, step).
One addition to TensorFlow's recipe, because the firmware listens to a stream: half of the
versions (``--stream-context``) are computed as the stream sees them, the clip at the end of
0.5-2 s of its background, so the frontend's noise reduction and gain control have adapted
(``--stream-context 0`` gives TensorFlow's recipe exactly).

Every ``--eval-every`` steps the validation accuracy is measured: the best so far is saved as
RUN/model.pt, and RUN/last.pt keeps weights, optimizer, RNG state and history, so rerunning the
same command continues where it stopped. Same seed and settings → same metrics (deterministic
algorithms, a fixed thread count).

Outputs: RUN/model.pt (best on validation), RUN/metrics.json (contract 4, with the best
checkpoint; train split without augmentation), RUN/report.md, RUN/curves.png.
"""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from model.atomic import atomic_write_bytes, atomic_write_text
from model.data.dataset import BACKGROUND_VOLUME, TIME_SHIFT_MS
from model.errors import BadInput
from model.options import (
    float_range,
    int_range,
    list_of,
    non_negative_int,
    percent,
    positive_float,
    positive_int,
    threads,
)
from model.train.batches import TrainData

STATE_FORMAT = "kws-train-state/1"
#: A shift beyond half the clip would move most words out of it.
MAX_TIME_SHIFT_MS = 500.0
#: Settings added after pipeline records began, with their defaults: at those values they stay out
#: of ``TrainConfig.key``, so a tree trained before they existed keeps its stages.
LATER_DEFAULTS = {"time_shift_ms": TIME_SHIFT_MS, "background_volume": BACKGROUND_VOLUME}


@dataclass
class TrainConfig:
    steps: list[int] = field(default_factory=lambda: [12_000, 3_000])
    lr: list[float] = field(default_factory=lambda: [0.001, 0.0001])
    batch_size: int = 100
    optimizer: str = "adam"
    channels: int = 8
    dropout: float = 0.5
    eval_every: int = 400
    seed: int = 0
    pool: int = 8
    stream_context: float = 0.5
    speed_perturb: float = 0.0
    time_shift_ms: float = TIME_SHIFT_MS
    background_volume: float = BACKGROUND_VOLUME
    silence_pct: int = 25
    unknown_pct: int = 25
    validation_pct: int = 10
    testing_pct: int = 10
    threads: int = 1

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.lr) or not self.steps:
            raise ValueError(f"--steps and --lr need the same number of phases, not {self.steps} and {self.lr}")
        if min(self.steps) < 1 or self.batch_size < 1 or self.eval_every < 1 or self.pool < 1:
            raise ValueError("steps, batch size, eval interval and pool size must be positive")
        if not 0 <= self.speed_perturb < 0.5:
            raise ValueError(f"--speed-perturb is a fraction in [0, 0.5), not {self.speed_perturb}")
        if not 0 <= self.time_shift_ms <= MAX_TIME_SHIFT_MS:
            raise ValueError(f"--time-shift is in [0, {MAX_TIME_SHIFT_MS:g}] ms, not {self.time_shift_ms}")
        if not 0 <= self.background_volume <= 1:
            raise ValueError(f"--background-volume is in [0, 1], not {self.background_volume}")
        if not 0 <= self.stream_context <= 1:
            raise ValueError(f"--stream-context is a fraction in [0, 1], not {self.stream_context}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}")
        if self.validation_pct + self.testing_pct >= 100:
            raise ValueError(
                f"--validation-pct {self.validation_pct} and --testing-pct {self.testing_pct} leave no training split"
            )

    def key(self) -> dict[str, Any]:
        """The settings as a cache key: those of ``LATER_DEFAULTS`` only where they differ from it."""
        settings = asdict(self)
        return {k: v for k, v in settings.items() if k not in LATER_DEFAULTS or v != LATER_DEFAULTS[k]}

    def augmentation(self) -> dict[str, float]:
        """How the augmented pool is made (``model.train.batches.load_train_data``'s keywords)."""
        return {
            "stream_context": self.stream_context,
            "speed_perturb": self.speed_perturb,
            "time_shift_ms": self.time_shift_ms,
            "background_volume": self.background_volume,
        }


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Learning rate of a 0-based step: piecewise constant over the phases of ``cfg.steps``."""
    end = 0
    for steps, lr in zip(cfg.steps, cfg.lr, strict=True):
        end += steps
        if step < end:
            return lr
    return cfg.lr[-1]


def sample_batch(data: TrainData, cfg: TrainConfig, step: int):
    """Training batch of a step: random (clip, augmented version) pairs, a pure function of (seed, step)."""
    import torch

    from model.train.tinyconv import to_input

    rng = np.random.default_rng([cfg.seed, step])
    versions, clips = data.pool.shape[:2]
    index = rng.integers(0, clips, cfg.batch_size)
    version = rng.integers(0, versions, cfg.batch_size)
    return to_input(data.pool[version, index]), torch.as_tensor(data.train.labels[index])


def _load_state(path: Path, cfg: TrainConfig) -> dict[str, Any] | None:
    import torch

    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise BadInput(path, f"unreadable training state ({type(exc).__name__}); delete it to start over") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise BadInput(path, "not a kws training state; delete it to start over")
    # Settings added since the run started (speed_perturb) count as their defaults, which it ran with.
    saved = asdict(TrainConfig()) | state["config"]
    if saved != asdict(cfg):
        changed = ", ".join(f"{k} {saved.get(k)} → {v}" for k, v in asdict(cfg).items() if saved.get(k) != v)
        raise BadInput(path, f"run was started with other settings ({changed}); use another --out")
    return state


def completed_steps(out: Path, cfg: TrainConfig) -> int:
    """Steps a run in ``out`` has already done (0 if fresh); BadInput if it was started with other settings."""
    state = _load_state(Path(out) / "last.pt", cfg)
    return 0 if state is None else int(state["step"])


def _save_state(path: Path, state: dict[str, Any]) -> None:
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _resume(out: Path, cfg: TrainConfig):
    """A fresh TinyConv and optimizer, or those of ``out/last.pt``, with the step, best validation
    accuracy and history reached."""
    import torch

    from model.train.tinyconv import TinyConv

    torch.manual_seed(cfg.seed)
    model = TinyConv(cfg.channels, dropout=cfg.dropout)
    optimizer_class = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
    optimizer = optimizer_class(model.parameters(), lr=cfg.lr[0])
    state = _load_state(out / "last.pt", cfg)
    if state is None:
        return model, optimizer, 0, -1.0, []
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    return model, optimizer, state["step"], state["best"], state["history"]


def _evaluation_point(out: Path, data: TrainData, cfg: TrainConfig, model, optimizer, run: dict) -> float:
    """Validation accuracy (clean features, eval mode) of the model at ``run["step"]``, appended
    to the history with the training averages since the last point; the best model is kept as
    model.pt, and last.pt holds everything a rerun resumes from."""
    import torch

    from model.train.evaluate import predict
    from model.train.tinyconv import save_checkpoint

    accuracy = float(np.mean(predict(model, data.validation.features) == data.validation.labels))
    run["history"].append({"step": run["step"], **run.pop("averages"), "validation_accuracy": accuracy})
    if accuracy > run["best"]:
        run["best"] = accuracy
        save_checkpoint(out / "model.pt", model, asdict(cfg), step=run["step"], validation_accuracy=accuracy)
    state = {"format": STATE_FORMAT, "config": asdict(cfg), "step": run["step"], "best": run["best"]}
    state |= {"history": run["history"], "model": model.state_dict(), "optimizer": optimizer.state_dict()}
    _save_state(out / "last.pt", state | {"torch_rng": torch.get_rng_state()})
    return accuracy


def train(data: TrainData, out: Path, cfg: TrainConfig, progress: bool = True) -> dict[str, Any]:
    """Train (or continue training) into ``out``; return the metrics of the best checkpoint."""
    import torch
    import torch.nn.functional as F
    from tqdm import tqdm

    from model.train.tinyconv import load_checkpoint

    out = Path(out)
    torch.set_num_threads(cfg.threads)
    torch.use_deterministic_algorithms(True)
    model, optimizer, step, best, history = _resume(out, cfg)
    total = sum(cfg.steps)
    loss_sum, correct, seen = 0.0, 0, 0
    bar = tqdm(range(step, total), initial=step, total=total, desc="train", disable=not progress)
    model.train()
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(cfg, step)
        x, y = sample_batch(data, cfg, step)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

        loss_sum += loss.item() * len(y)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
        bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        if (step + 1) % cfg.eval_every and step + 1 != total:
            continue
        averages = {"loss": loss_sum / seen, "train_accuracy": correct / seen}
        run = {"step": step + 1, "best": best, "history": history, "averages": averages}
        accuracy = _evaluation_point(out, data, cfg, model, optimizer, run)
        best, loss_sum, correct, seen = run["best"], 0.0, 0, 0
        if progress:
            bar.write(f"step {step + 1}: validation accuracy {accuracy:.4f} (best {best:.4f})")
    bar.close()
    return write_outputs(out, data, cfg, history, *load_checkpoint(out / "model.pt"))


def write_outputs(out: Path, data: TrainData, cfg: TrainConfig, history: list[dict], model, payload) -> dict:
    """metrics.json, report.md and curves.png of the best checkpoint."""
    from model.train.evaluate import evaluate_splits, markdown_tables

    splits = {"train": data.train, "validation": data.validation, "test": data.test}
    metrics, confusions = evaluate_splits(model, splits)
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    atomic_write_bytes(out / "curves.png", _curves_png(history, cfg, payload["step"]))
    settings = "\n".join(f"| {k} | {v} |" for k, v in asdict(cfg).items())
    report = [
        "# TinyConv training report",
        "",
        f"Best checkpoint `model.pt`: step {payload['step']:,} of {sum(cfg.steps):,}, "
        f"validation accuracy {payload['validation_accuracy']:.4f}. "
        f"Augmented pool: {data.pool.shape[0]} versions of {data.pool.shape[1]:,} training clips.",
        "",
        "| setting | value |",
        "|---|---|",
        settings,
        "",
        "![training and validation accuracy](curves.png)",
        "",
        "## Accuracy of the best checkpoint",
        "",
        "The train split is evaluated without augmentation.",
        "",
        markdown_tables(metrics, confusions),
    ]
    atomic_write_text(out / "report.md", "\n".join(report))
    return metrics


def _curves_png(history: list[dict], cfg: TrainConfig, best_step: int) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.figures import png_bytes

    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    ax.plot(steps, [h["train_accuracy"] for h in history], label="training (batches, augmented, dropout)")
    ax.plot(steps, [h["validation_accuracy"] for h in history], label="validation")
    for boundary in np.cumsum(cfg.steps)[:-1]:
        ax.axvline(boundary, color="grey", linestyle=":", linewidth=1)
    ax.axvline(best_step, color="green", linestyle="--", linewidth=1, label=f"best (step {best_step:,})")
    ax.set_xlabel("step")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    png = png_bytes(fig)
    plt.close(fig)
    return png


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    try:
        return TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    except ValueError as exc:
        raise BadInput(None, str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from model.train.batches import DATA_SETTINGS, load_train_data

    cfg = config_from_args(args)
    out = Path(args.out)
    cache = Path(args.cache) if args.cache else out / "features"
    settings = {key: getattr(cfg, key) for key in DATA_SETTINGS}
    _load_state(out / "last.pt", cfg)  # a run with other settings fails before features are computed
    data = load_train_data(Path(args.data), cache, settings, cfg.pool, **cfg.augmentation())
    metrics = train(data, out, cfg)
    for name, split in metrics["splits"].items():
        print(f"{name}: accuracy {split['total']['accuracy']:.4f} ({split['total']['samples']:,} clips)")
    print(f"wrote {out / 'model.pt'}, {out / 'metrics.json'}, {out / 'report.md'}, {out / 'curves.png'}")
    return 0


def _add_augmentation(parser: argparse.ArgumentParser, d: TrainConfig) -> None:
    """How the augmented versions of the training clips are made."""
    parser.add_argument(
        "--stream-context",
        type=float_range(0, 1),
        default=d.stream_context,
        metavar="P",
        help=f"share of augmented versions computed after 0.5-2 s of background, as in a stream ({d.stream_context})",
    )
    parser.add_argument(
        "--speed-perturb",
        type=float_range(0, 0.5, high_open=True),
        default=d.speed_perturb,
        metavar="P",
        help="augmented versions play at a random speed in [1-P, 1+P]: pitch, formants and pace (0: off)",
    )
    parser.add_argument(
        "--time-shift",
        dest="time_shift_ms",
        type=float_range(0, MAX_TIME_SHIFT_MS),
        default=d.time_shift_ms,
        metavar="MS",
        help=f"augmented versions shift the clip by up to ±MS, zero-filled (default {d.time_shift_ms:g}, TensorFlow's)",
    )
    parser.add_argument(
        "--background-volume",
        type=float_range(0, 1),
        default=d.background_volume,
        metavar="V",
        help=f"background noise mixed into 80%% of versions at a volume drawn from [0, V] ({d.background_volume:g})",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    d = TrainConfig()
    parser = subparsers.add_parser(
        "train",
        help="train TinyConv (resumable); writes model.pt, metrics.json, report.md, curves.png",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, metavar="DIR", help="the dataset (Speech Commands layout)")
    parser.add_argument("--out", required=True, metavar="RUN", help="run directory (rerun to resume)")
    parser.add_argument("--cache", metavar="DIR", help="feature cache (default: RUN/features)")
    parser.add_argument(
        "--steps", type=list_of(positive_int), default=d.steps, help="steps per phase (default 12000,3000)"
    )
    parser.add_argument(
        "--lr", type=list_of(positive_float), default=d.lr, help="learning rate per phase (default 0.001,0.0001)"
    )
    parser.add_argument("--batch-size", type=positive_int, default=d.batch_size, help=f"default {d.batch_size}")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default=d.optimizer, help="default adam")
    parser.add_argument(
        "--channels", type=int_range(1, 256), default=d.channels, help=f"conv channels (default {d.channels})"
    )
    parser.add_argument(
        "--dropout", type=float_range(0, 1, high_open=True), default=d.dropout, help=f"default {d.dropout}"
    )
    parser.add_argument(
        "--eval-every", type=positive_int, default=d.eval_every, help=f"steps between validations ({d.eval_every})"
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=d.seed, help="seed of data, augmentation, training (0)"
    )
    parser.add_argument("--pool", type=positive_int, default=d.pool, help=f"augmented versions per clip ({d.pool})")
    _add_augmentation(parser, d)
    parser.add_argument(
        "--silence-pct", type=int_range(0, 1000), default=d.silence_pct, help=f"default {d.silence_pct}"
    )
    parser.add_argument(
        "--unknown-pct", type=int_range(0, 1000), default=d.unknown_pct, help=f"default {d.unknown_pct}"
    )
    parser.add_argument("--validation-pct", type=percent, default=d.validation_pct, help=f"default {d.validation_pct}")
    parser.add_argument("--testing-pct", type=percent, default=d.testing_pct, help=f"default {d.testing_pct}")
    parser.add_argument("--threads", type=threads, default=d.threads, help="torch CPU threads (default 1)")
    parser.set_defaults(func=run)
