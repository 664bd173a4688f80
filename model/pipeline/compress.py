"""The pipeline's compress stage: ``kws compress``'s study on the pipeline's own model, split and
corpus, and which of its variants become firmware.

Every variant is computed from OUT/run/model.pt on ``Job.train_data`` (the split and features the
model was trained and exported with) by ``model.compress.study.compress_variant``, measured per
class on the train, validation and test splits; structured variants also get their CPU latency
(``kws profile``). Changed weights are saved as OUT/compress/models/<name>.pt.

Grid (``--compress-grid``; ``--compress-bits``, ``--compress-sparsity``, ``--compress-channels``,
``--compress-steps`` and ``--compress-norm`` override a part of it):

  fast  bits 8,4,2; sparsity 0.5,0.9; channel fractions 0.5,0.75; 200 fine-tuning steps (make test)
  demo  bits 8,6,4,3,2; sparsity 0.25,0.5,0.75,0.9; fractions 0.1 ... 0.9; 500 steps (default)
  full  bits 8,6,4,3,2; sparsity 0.1 ... 0.9; fractions 0.1 ... 0.9; 1000 steps (the study's grid)

Structured pruning takes fractions of the conv channels, as the study's thresholds: a fraction f
of C channels removes round(f * C) of them (Python's rounding, half to even), so 0.1 ... 0.9 of 8
channels keep 7, 6, 6, 5, 4, 3, 2, 2, 1. Fractions that keep the same count share one model; a
fraction that would remove no channel or all of them is refused.

Resumable: each finished variant is appended to OUT/compress/journal-<key>.jsonl (its checkpoint
written first), so an interrupted stage continues with the next variant.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from model.errors import BadInput
from model.pipeline.records import LATENCY_REPEATS, Variant, cached, file_digest, read_record, say, write_record

STEP_FRACTIONS = tuple(round(0.1 * i, 1) for i in range(1, 10))
SPLITS = ("train", "validation", "test")
#: Test clips emulated on a firmware built only for its measurements (Table 5), not for a Robot suite.
MEASURE_CLIPS = 3


@dataclass(frozen=True)
class Grid:
    bits: tuple[int, ...]
    sparsity: tuple[float, ...]
    channel_fractions: tuple[float, ...]
    finetune_steps: int
    norm: str = "l1"
    lr: float = 1e-4


GRIDS = {
    "fast": Grid((8, 4, 2), (0.5, 0.9), (0.5, 0.75), 200),
    "demo": Grid((8, 6, 4, 3, 2), (0.25, 0.5, 0.75, 0.9), STEP_FRACTIONS, 500),
    "full": Grid((8, 6, 4, 3, 2), STEP_FRACTIONS, STEP_FRACTIONS, 1000),
}


def make_grid(name: str, **overrides: Any) -> Grid:
    """``GRIDS[name]`` with the given fields replaced (None: keep the grid's)."""
    given = {field: tuple(v) if isinstance(v, list) else v for field, v in overrides.items() if v is not None}
    return replace(GRIDS[name], **given)


def channel_levels(grid: Grid, channels: int, what: Path | None = None) -> dict[int, list[float]]:
    """Channels kept -> the fractions that keep them; BadInput for a fraction that removes none or all."""
    levels: dict[int, list[float]] = {}
    for fraction in grid.channel_fractions:
        keep = channels - round(fraction * channels)
        if not 1 <= keep < channels:
            outcome = "no channel" if keep == channels else "every channel"
            raise BadInput(what, f"--compress-channels {fraction:g} removes {outcome} of {channels}")
        levels.setdefault(keep, []).append(fraction)
    return dict(sorted(levels.items(), reverse=True))


def study_config(grid: Grid, channels: int, what: Path | None = None):
    from model.compress.study import CompressConfig

    levels = channel_levels(grid, channels, what)
    cfg = CompressConfig(
        list(grid.bits), list(grid.sparsity), list(levels), grid.finetune_steps, grid.lr, norm=grid.norm
    )
    try:
        cfg.check(channels)
    except ValueError as exc:
        raise BadInput(what, str(exc)) from None
    return cfg


def variant_name(method: str, setting: float | None) -> str:
    """File and suite names without ``+`` or ``.``: ``qat-4``, ``prune-ft-75``, ``channels-ft-2``."""
    if setting is None:
        return method
    value = round(100 * setting) if method.startswith("prune") else int(setting)
    return f"{method.replace('+', '-')}-{value}"


def deployment(method: str, setting: float | None) -> tuple[str | None, str]:
    """The weights' type of the firmware a variant becomes ("int8", "int4"), or None and the reason."""
    if method == "float":
        return None, "the trained model: the int8, int8-ref and float32 variants"
    if method in ("ptq", "qat"):
        bits = int(setting)
        if method == "ptq" and bits in (8, 4):
            return None, f"the {'int8' if bits == 8 else 'int4'} variant (the converter's quantization of the model)"
        if bits in (8, 4):
            return f"int{bits}", ""
        return None, f"no {bits}-bit kernel: the firmware stores weights as int8 or int4"
    if method.startswith("prune"):
        return "int8", "int8, the fc weights sparse where that takes fewer bytes (kws firmware build --weights auto)"
    return "int8", ""


def _journal(folder: Path, key: dict) -> tuple[Path, dict[str, dict]]:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    journal = folder / f"journal-{digest}.jsonl"
    done: dict[str, dict] = {}
    for stale in folder.glob("journal-*.jsonl"):  # of an earlier model, corpus or grid
        if stale != journal:
            stale.unlink()
    if journal.exists():
        for line in journal.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # cut short by an interruption: the variant reruns
                continue
            done[row["name"]] = row
    return journal, done


def _measure(job, model, method: str, setting, cfg, ranges, levels) -> dict:
    """One variant's row, its checkpoint saved when its weights changed."""
    from model.compress.study import compress_variant
    from model.train.size import model_size
    from model.train.tinyconv import save_checkpoint

    row, variant = compress_variant(
        model, method, setting, job.train_data, job.train_config, cfg, ranges, job.progress, SPLITS
    )
    name = variant_name(method, setting)
    size = model_size(variant)
    row |= {"name": name, "flops": size["flops"]["total"], "neurons": variant.channels * _conv_positions()}
    row["weights"], row["note"] = deployment(method, setting)
    if method not in ("float", "ptq"):
        path = job.out / "compress" / "models" / f"{name}.pt"
        extra = {"method": method, "setting": setting}
        save_checkpoint(path, variant, asdict(job.train_config) | {"channels": variant.channels}, **extra)
        row["checkpoint"] = path.relative_to(job.out).as_posix()
    if method in ("float", "channels", "channels+ft"):
        from model.train.profile import profile_model

        row["latency_us"] = profile_model(variant, "cpu", repeats=LATENCY_REPEATS, ops=False)["latency_us"]
        row["fractions"] = levels.get(variant.channels, [])
    return row


def _conv_positions() -> int:
    from model.train.tinyconv import conv_output_shape

    out_t, out_f = conv_output_shape()
    return out_t * out_f


def load_model(job):
    """OUT/run/model.pt, refused when it is not the shape the train stage made."""
    from model.train.tinyconv import load_checkpoint

    checkpoint = job.out / "run" / "model.pt"
    model, _ = load_checkpoint(checkpoint)
    if model.channels != job.train_config.channels:
        raise BadInput(
            checkpoint,
            f"has {model.channels} conv channels where the training made {job.train_config.channels}: "
            "not this run's checkpoint",
        )
    return model


def compress_stage(job) -> dict:
    checkpoint = job.out / "run" / "model.pt"
    grid = job.compress_grid
    key = {
        "checkpoint": file_digest(checkpoint),
        "features": job.keys["features"],
        "grid": asdict(grid),
        "train": job.train_config.key(),
    }
    key = json.loads(json.dumps(key))  # as the record keeps it: tuples become lists
    job.keys["compress"] = key
    info = cached(job.out, "compress", key)
    if info is not None:
        say("compress", f"cached ({len(info['rows'])} variants)")
        return info
    import torch

    from model.compress.fake_quant import calibrate
    from model.compress.study import plan

    model = load_model(job)
    cfg = study_config(grid, model.channels, checkpoint)
    levels = channel_levels(grid, model.channels)
    todo = plan(cfg)
    folder = job.out / "compress"
    folder.mkdir(parents=True, exist_ok=True)
    journal, done = _journal(folder, key)
    torch.set_num_threads(job.train_config.threads)
    ranges = calibrate(model, job.train_data.train.features)
    start = time.perf_counter()
    say("compress", f"{len(todo)} variants ({len(done)} done before), {grid.finetune_steps} fine-tuning steps each")
    with journal.open("a") as handle:
        for method, setting in todo:
            name = variant_name(method, setting)
            if name in done:
                continue
            row = _measure(job, model, method, setting, cfg, ranges, levels)
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            done[name] = row
            accuracy = row["test"]["total"]["accuracy"]
            say("compress", f"{name}: test accuracy {accuracy:.4f}, {row['params']:,} parameters")
    rows = [done[variant_name(m, s)] for m, s in todo]
    info = {"grid": key["grid"], "channels": model.channels, "rows": rows}
    info["seconds"] = round(time.perf_counter() - start, 1)
    return write_record(job.out, "compress", key, info)


def compressed_variants(out: Path, all_variants: bool) -> list[Variant]:
    """Firmware variants made from the compress stage's models: the Robot ones (``listed``: every
    deployable one with ``all_variants``, else QAT 8-bit and fine-tuned channel pruning at about a
    half and a quarter of the channels) and, for Table 5, every fine-tuned channel-pruned level."""
    record = read_record(out, "compress")
    if record is None or record["status"] != "done":
        return []
    rows = [r for r in record["info"]["rows"] if r.get("weights")]
    channels = record["info"]["channels"]
    pruned = sorted({r["channels"] for r in rows if r["method"] == "channels+ft"})
    picks = {min(pruned, key=lambda c: (abs(c - channels * share), c)) for share in (0.5, 0.25)} if pruned else set()
    variants = []
    for row in rows:
        listed = all_variants or (row["method"], row["setting"]) == ("qat", 8)
        listed = listed or (row["method"] == "channels+ft" and row["channels"] in picks)
        if listed or row["method"] == "channels+ft":
            weights = row["weights"] if row["weights"] != "int8" else ""
            # What its inference budget scales with: conv channels, or nonzero weights (the fc may be sparse).
            channels = row["channels"] if row["method"].startswith("channels") else 0
            nonzero = row["nonzero_weights"] if row["method"].startswith("prune") else 0
            name, checkpoint = row["name"], row["checkpoint"]
            variants.append(Variant(name, "int8", "cortex_m4", name, weights, listed, checkpoint, channels, nonzero))
    return variants
