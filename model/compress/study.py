"""``kws compress``: how much of TinyConv's accuracy survives quantization and pruning.

From a trained checkpoint, each variant is measured on the test split (per class) next to its
size, side by side in one run:

- ``ptq``: post-training quantization of the weights at each ``--bits`` (model.fake_quant:
  TFLite's int8 scheme at b bits), activations at ``--activation-bits`` (default 8, what the
  int8 kernels compute; ``same`` quantizes them at b bits too; ranges calibrated on the clean
  training features);
- ``qat``: the same after ``--finetune-steps`` of quantization-aware training through it;
- ``prune``: unstructured magnitude pruning at each ``--sparsity`` (model.prune; the same share
  of conv and of fc weights, or ranked together with ``--prune-scope global``), and ``prune+ft``
  fine-tuned with the mask held;
- ``channels``: structured pruning to each ``--channels`` (a smaller TinyConv; filters ranked by
  ``--norm``, L1 by default, or L2 or L-infinity), and ``channels+ft`` fine-tuned.

Fine-tuning uses the training recipe's batches (augmented pool, same seed) with Adam at ``--lr``.
Sizes: ``weight_bytes`` stores weights at the variant's bits (32 for float) and biases as
int32 / float32; unstructured pruning keeps its zeros in dense storage, so only
``nonzero_weights`` falls. Outputs (atomic): OUT/compress.json, OUT/report.md, OUT/compress.png,
and OUT/models/<variant>.pt, a checkpoint of every variant whose weights changed (QAT, pruned,
fewer channels), which ``kws export`` and ``kws firmware build`` take like any other.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from model import config
from model.atomic import atomic_write_bytes, atomic_write_text
from model.compress import NORMS
from model.errors import BadInput
from model.options import float_range, int_range, list_of, non_negative_int, positive_float, positive_int, threads
from model.train.batches import TrainData

#: The methods that fine-tune (QAT trains through the fake quantization).
FINE_TUNED = ("qat", "prune+ft", "channels+ft")


@dataclass
class CompressConfig:
    bits: list[int] = field(default_factory=lambda: [8, 6, 4, 3, 2])
    sparsity: list[float] = field(default_factory=lambda: [0.5, 0.75, 0.9])
    channels: list[int] = field(default_factory=lambda: [6, 4, 2])
    finetune_steps: int = 1000
    lr: float = 1e-4
    prune_scope: str = "layer"
    activation_bits: int | None = 8  # None: the same as the weights
    norm: str = "l1"  # the filter norm that ranks channels (model.compress.prune.NORMS)

    def check(self, model_channels: int) -> None:
        """ValueError naming the first setting that cannot be applied to a model of ``model_channels``."""
        if any(b not in range(2, 9) for b in self.bits):
            raise ValueError(f"--bits must be between 2 and 8, not {self.bits}")
        if self.activation_bits is not None and self.activation_bits not in range(2, 9):
            raise ValueError(f"--activation-bits must be between 2 and 8 or 'same', not {self.activation_bits}")
        if any(not 0 < s < 1 for s in self.sparsity):
            raise ValueError(f"--sparsity values are fractions in (0, 1), not {self.sparsity}")
        if any(not 1 <= c < model_channels for c in self.channels):
            raise ValueError(f"--channels must be between 1 and {model_channels - 1} (the model has {model_channels})")
        if self.finetune_steps < 0 or self.lr <= 0:
            raise ValueError("--finetune-steps must be 0 or more and --lr positive")
        from model.compress.prune import SCOPES

        if self.prune_scope not in SCOPES:
            raise ValueError(f"--prune-scope is one of {', '.join(SCOPES)}, not {self.prune_scope!r}")
        if self.norm not in NORMS:
            raise ValueError(f"--norm is one of {', '.join(NORMS)}, not {self.norm!r}")


def _storage(model, bits: int) -> dict[str, int]:
    """Weights (and their nonzeros), biases, stored bytes at ``bits`` and MACs of a TinyConv."""
    from model.train.size import model_size

    weights = model.conv.weight.numel() + model.fc.weight.numel()
    nonzero = int((model.conv.weight != 0).sum() + (model.fc.weight != 0).sum())
    biases = model.conv.bias.numel() + model.fc.bias.numel()
    return {
        "channels": model.channels,
        "params": weights + biases,
        "nonzero_weights": nonzero,
        "weight_bytes": math.ceil(weights * bits / 8) + 4 * biases,
        "macs": model_size(model)["macs"]["total"],
    }


def _metrics(module, split) -> dict[str, Any]:
    """Per-class and total accuracy of ``module`` on one split of a ``TrainData``."""
    from model.train.evaluate import confusion_matrix, predict, split_metrics

    return split_metrics(confusion_matrix(split.labels, predict(module, split.features)))


def finetune(module, params, data: TrainData, train_cfg, steps: int, lr: float, masks=None, progress=True) -> None:
    """``steps`` of Adam on ``params`` through ``module``'s forward, on the training recipe's
    batches; ``masks`` (pruning) are re-applied after every step."""
    import torch
    import torch.nn.functional as F
    from tqdm import tqdm

    from model.compress.prune import apply_masks
    from model.train.training import sample_batch

    torch.manual_seed(train_cfg.seed)  # dropout
    optimizer = torch.optim.Adam(params.parameters(), lr=lr)
    module.train()
    for step in tqdm(range(steps), desc="fine-tune", leave=False, disable=not progress):
        x, y = sample_batch(data, train_cfg, step)
        loss = F.cross_entropy(module(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if masks is not None:
            apply_masks(params, masks)
    module.eval()


def variant_name(row: dict[str, Any]) -> str:
    """``qat-4``, ``prune+ft-0.75``, ``channels-2``...: how a variant is named in files."""
    return row["method"] if row["setting"] is None else f"{row['method']}-{row['setting']:g}"


def plan(cfg: CompressConfig) -> list[tuple[str, float | None]]:
    """The variants ``cfg`` asks for, as (method, setting), in the order they are measured and reported."""
    steps: list[tuple[str, float | None]] = [("float", None)]
    steps += [(m, b) for b in cfg.bits for m in ("ptq", "qat")]
    steps += [(m, s) for s in cfg.sparsity for m in ("prune", "prune+ft")]
    steps += [(m, c) for c in cfg.channels for m in ("channels", "channels+ft")]
    return steps


def compress_variant(
    model,
    method: str,
    setting: float | None,
    data: TrainData,
    train_cfg,
    cfg: CompressConfig,
    ranges,
    progress: bool = True,
    splits: tuple[str, ...] = ("test",),
):
    """One variant of ``plan(cfg)``: its row (sizes and per-class accuracy on each of ``splits``) and its
    float model (a copy: ``model`` is left as it was). ``ranges``: ``fake_quant.calibrate`` of ``model``."""
    from model.compress.fake_quant import FakeQuantTinyConv
    from model.compress.prune import apply_masks, magnitude_masks, prune_channels

    steps = cfg.finetune_steps
    variant = copy.deepcopy(model)
    bits, activation_bits, masks, module = 32, 32, None, variant
    if method in ("ptq", "qat"):
        bits = int(setting)
        activation_bits = cfg.activation_bits or bits
        module = FakeQuantTinyConv(variant, bits, ranges, activation_bits)
        if method == "qat":
            finetune(module, variant, data, train_cfg, steps, cfg.lr, progress=progress)
    elif method.startswith("prune"):
        masks = magnitude_masks(variant, float(setting), cfg.prune_scope)
        apply_masks(variant, masks)
        if method == "prune+ft":
            finetune(variant, variant, data, train_cfg, steps, cfg.lr, masks, progress)
    elif method.startswith("channels"):
        variant = module = prune_channels(variant, int(setting), cfg.norm)
        if method == "channels+ft":
            finetune(variant, variant, data, train_cfg, steps, cfg.lr, progress=progress)
    row = {
        "method": method,
        "setting": setting,
        "bits": bits,
        "activation_bits": activation_bits,
        "finetune_steps": steps if method in FINE_TUNED else 0,
        **_storage(variant, bits),
        **{split: _metrics(module, getattr(data, split)) for split in splits},
    }
    return row, variant


def study(
    model, data: TrainData, train_cfg, cfg: CompressConfig, progress: bool = True, keep: dict | None = None
) -> list[dict[str, Any]]:
    """One row per variant (see the module docstring), the float model first. ``keep`` (a dict)
    receives the float weights of every variant that changed them (not float, not ptq), by name."""
    from tqdm import tqdm

    from model.compress.fake_quant import calibrate

    cfg.check(model.channels)
    model.eval()
    ranges = calibrate(model, data.train.features)
    rows = []
    for method, setting in tqdm(plan(cfg), desc="compress", disable=not progress):
        row, variant = compress_variant(model, method, setting, data, train_cfg, cfg, ranges, progress)
        rows.append(row)
        if keep is not None and method not in ("float", "ptq"):
            keep[variant_name(row)] = variant
    return rows


def markdown(rows: list[dict[str, Any]], checkpoint: Path) -> str:
    """The report: one table row per variant, per-class test accuracy included."""
    head = "| method | setting | bits | act. bits | channels | params | nonzero weights | weight bytes | MACs | test |"
    head += "".join(f" {label} |" for label in config.LABELS)
    lines = [
        f"# Compression of {checkpoint}",
        "",
        f"Test split: {rows[0]['test']['total']['samples']} clips. Weight bytes: weights at the variant's "
        "bits, biases 4 bytes; unstructured pruning keeps its zeros (dense storage).",
        "",
        head,
        "|" + " --- |" * 5 + " ---: |" * (5 + len(config.LABELS)),
    ]
    for r in rows:
        classes = "".join(f" {r['test']['per_class'][label]['accuracy']:.3f} |" for label in config.LABELS)
        setting = "" if r["setting"] is None else f"{r['setting']:g}"
        lines.append(
            f"| {r['method']} | {setting} | {r['bits']} | {r['activation_bits']} | {r['channels']} | {r['params']:,} | "
            f"{r['nonzero_weights']:,} | {r['weight_bytes']:,} | {r['macs']:,} | "
            f"{r['test']['total']['accuracy']:.3f} |{classes}"
        )
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]]) -> bytes:
    """Test accuracy against bits, sparsity and channels, with and without fine-tuning."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.figures import png_bytes

    baseline = rows[0]["test"]["total"]["accuracy"]
    panels = (
        ("weight bits", ("ptq", "qat")),
        ("sparsity (share of weights zeroed)", ("prune", "prune+ft")),
        ("conv channels kept", ("channels", "channels+ft")),
    )
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
    for ax, (xlabel, methods) in zip(axes, panels, strict=True):
        for method, style in zip(methods, ("o--", "s-"), strict=True):
            points = [(r["setting"], r["test"]["total"]["accuracy"]) for r in rows if r["method"] == method]
            if points:
                xs, ys = zip(*sorted(points), strict=True)
                ax.plot(xs, ys, style, label=method)
        ax.axhline(baseline, color="grey", linestyle=":", label="float")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("test accuracy")
    fig.tight_layout()
    png = png_bytes(fig)
    plt.close(fig)
    return png


def _activation_bits(text: str) -> int | None:
    if text == "same":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of bits or 'same', not {text!r}") from None


def run(args: argparse.Namespace) -> int:
    import torch

    from model.train.batches import DATA_SETTINGS, load_train_data
    from model.train.tinyconv import load_checkpoint, save_checkpoint
    from model.train.training import TrainConfig

    checkpoint, out = Path(args.checkpoint), Path(args.out)
    model, payload = load_checkpoint(checkpoint)
    cfg = CompressConfig(
        args.bits,
        args.sparsity,
        args.channels,
        args.finetune_steps,
        args.lr,
        args.prune_scope,
        args.activation_bits,
        args.norm,
    )
    try:
        cfg.check(model.channels)
    except ValueError as exc:
        raise BadInput(None, str(exc)) from None
    recorded = payload.get("train_config", {})
    train_cfg = TrainConfig(**{f.name: recorded[f.name] for f in fields(TrainConfig) if f.name in recorded})
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    settings = {key: getattr(train_cfg, key) for key in DATA_SETTINGS}
    cache = Path(args.cache) if args.cache else checkpoint.parent / "features"
    progress = not (args.json or args.no_progress)
    data = load_train_data(Path(args.data), cache, settings, train_cfg.pool, progress, **train_cfg.augmentation())
    variants: dict[str, Any] = {}
    rows = study(model, data, train_cfg, cfg, progress, keep=variants)
    out.mkdir(parents=True, exist_ok=True)
    for row in rows:
        name = variant_name(row)
        if name in variants:
            path = out / "models" / f"{name}.pt"
            path.parent.mkdir(exist_ok=True)
            extra = {"compressed_from": str(checkpoint), "method": row["method"], "setting": row["setting"]}
            save_checkpoint(path, variants[name], recorded | {"channels": variants[name].channels}, **extra)
            row["model"] = str(path.relative_to(out))
    result = {"checkpoint": str(checkpoint), "config": asdict(cfg), "variants": rows}
    atomic_write_text(out / "compress.json", json.dumps(result, indent=2) + "\n")
    atomic_write_text(out / "report.md", markdown(rows, checkpoint))
    atomic_write_bytes(out / "compress.png", plot(rows))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(markdown(rows, checkpoint))
        print(f"wrote {out / 'compress.json'}, {out / 'report.md'}, {out / 'compress.png'}, {out / 'models'}/")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    d = CompressConfig()
    parser = subparsers.add_parser(
        "compress",
        help="PTQ and QAT at 2-8 bits, unstructured and channel pruning, with and without fine-tuning",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--checkpoint", required=True, metavar="FILE", help="a model.pt written by kws train")
    parser.add_argument("--data", required=True, metavar="DIR", help="the dataset it was trained on")
    parser.add_argument("--out", required=True, metavar="DIR", help="where compress.json, report.md, compress.png go")
    parser.add_argument("--cache", metavar="DIR", help="feature cache (default: features/ next to the checkpoint)")
    parser.add_argument(
        "--bits", type=list_of(int_range(2, 8)), default=d.bits, help="PTQ/QAT weight bits (default 8,6,4,3,2)"
    )
    parser.add_argument(
        "--activation-bits",
        type=_activation_bits,
        default=d.activation_bits,
        metavar="N|same",
        help="PTQ/QAT activation bits, or 'same' as the weights (default 8)",
    )
    parser.add_argument(
        "--sparsity",
        type=list_of(float_range(0, 1, low_open=True, high_open=True), empty=True),
        default=d.sparsity,
        help='unstructured sparsities (default 0.5,0.75,0.9; "": none)',
    )
    parser.add_argument(
        "--prune-scope",
        default=d.prune_scope,
        metavar="layer|global",
        help="unstructured pruning: the same share of each layer, or conv and fc ranked together (default layer)",
    )
    parser.add_argument(
        "--channels",
        type=list_of(positive_int, empty=True),
        default=d.channels,
        help='channels kept (default 6,4,2; "": none)',
    )
    parser.add_argument(
        "--norm",
        choices=NORMS,
        default=d.norm,
        help=f"filter norm that ranks channels for --channels: l1, l2 or linf (default {d.norm})",
    )
    parser.add_argument(
        "--finetune-steps",
        type=non_negative_int,
        default=d.finetune_steps,
        help=f"QAT/fine-tuning steps ({d.finetune_steps})",
    )
    parser.add_argument("--lr", type=positive_float, default=d.lr, help=f"fine-tuning learning rate ({d.lr:g})")
    parser.add_argument("--threads", type=threads, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--json", action="store_true", help="print compress.json")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)
