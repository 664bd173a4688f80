"""One trial: train → compress → export → firmware → emulate the validation split → metrics.

Every step is the project's own function (``model.train.training.train``, ``model.compress``,
``model.deploy.export.export_tflite``, ``model.deploy.firmware.build``, ``emulation.clip.run_clip``);
this module only chains them. A trial that cannot be completed (a pruning that does not fit the
model, firmware that does not fit the chip, an emulator fault) returns ``status: failed`` with the
reason instead of raising, so the sweep goes on.

The trial works in a temporary directory of the worker it runs on and reads its data from the
``shared`` dictionary (Ray's object store on a cluster): it assumes no shared filesystem. Its
artifacts (checkpoint, .tflite, ELF) travel back in the result, base64-encoded.
"""

from __future__ import annotations

import base64
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from model import config
from model.errors import BadInput

#: Modelled cycles of one 20 ms PDM block at stride 1 (the int8 firmware's pace).
BLOCK_CYCLES = config.CPU_HZ * config.STEP_MS // 1000
ARTIFACTS = {"model.pt": "run/model.pt", "model.tflite": "model.tflite", "kws.elf": "firmware/kws.elf"}
Report = Callable[[dict[str, Any]], None]


def train_config(trial: dict[str, Any], pool: int):
    from model.train.training import TrainConfig

    steps = trial["steps"]
    return TrainConfig(
        steps=[steps],
        lr=[trial["lr"]],
        batch_size=trial["batch_size"],
        channels=trial["channels"],
        eval_every=min(trial["eval_every"], steps),
        seed=trial["seed"],
        pool=pool,
        threads=1,
    )


def compress(model, data, cfg, trial: dict[str, Any]):
    """The trained model pruned to ``prune_channels``, then to ``sparsity``, then quantization-aware
    fine-tuned to ``bits`` with its weights left on the b-bit grid; each step fine-tuned."""
    from model.compress.fake_quant import FakeQuantTinyConv, calibrate, fake_quant_weight
    from model.compress.prune import apply_masks, magnitude_masks, prune_channels
    from model.compress.study import finetune

    steps, lr = trial["finetune_steps"], trial["lr"] / 10
    if trial["prune_channels"]:
        model = prune_channels(model, trial["prune_channels"])
        finetune(model, model, data, cfg, steps, lr, progress=False)
    masks = None
    if trial["sparsity"] > 0:
        masks = magnitude_masks(model, trial["sparsity"])
        apply_masks(model, masks)
        finetune(model, model, data, cfg, steps, lr, masks, progress=False)
    if trial["bits"] < 8:
        quantized = FakeQuantTinyConv(model, trial["bits"], calibrate(model, data.train.features))
        finetune(quantized, model, data, cfg, steps, lr, masks, progress=False)
        for layer in (model.conv, model.fc):
            layer.weight.data = fake_quant_weight(layer.weight.data, trial["bits"])
    model.eval()
    return model


def emulate(elf: Path, clips: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy and median stage cycles of the firmware on the validation clips (Unicorn backend,
    strict, cycle model on); the real-time margin is estimated for the stream's 20 ms block as
    1 - (pre / frames + inf + post) / block, ``pre`` being the frontend over the whole clip."""
    from emulation.clip import run_clip

    runs = [run_clip(elf, clip.astype("<i2").tobytes()) for clip in clips]
    predicted = np.array([config.LABELS.index(run.result["label"]) for run in runs])
    stage = {key: statistics.median(int(run.result[key]) for run in runs) for key in ("pre", "inf", "post")}
    per_block = stage["pre"] / config.NUM_FRAMES + stage["inf"] + stage["post"]
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "clips": len(runs),
        "inference_cycles": stage["inf"],
        "preprocess_cycles": stage["pre"],
        "postprocess_cycles": stage["post"],
        "realtime_margin": 1 - per_block / BLOCK_CYCLES,
    }


def build_and_measure(model, data, work: Path, shared: dict[str, Any]) -> dict[str, Any]:
    """Export int8, build the cortex_m4 firmware, emulate: the trial's chip metrics."""
    from model.atomic import atomic_write_bytes
    from model.deploy.export import export_tflite
    from model.deploy.firmware import build

    tflite = work / "model.tflite"
    atomic_write_bytes(tflite, export_tflite(model, data.train.features))
    size = build(tflite, work / "firmware", variant="int8", kernels="cortex_m4")
    metrics = {
        "flash_bytes": size["flash_bytes"],
        "ram_bytes": size["ram_bytes"],
        "tflite_bytes": tflite.stat().st_size,
    }
    return metrics | emulate(work / "firmware" / "kws.elf", shared["clips"], shared["labels"])


def fits(metrics: dict[str, Any], chip: dict[str, Any]) -> bool:
    return (
        metrics["flash_bytes"] <= chip["flash_bytes"]
        and metrics["ram_bytes"] <= chip["ram_bytes"]
        and metrics["realtime_margin"] >= chip["realtime_margin"]
    )


def _steps(trial: dict[str, Any], shared: dict[str, Any], work: Path, report: Report) -> dict[str, Any]:
    import torch

    from model.train.evaluate import predict
    from model.train.tinyconv import load_checkpoint, save_checkpoint
    from model.train.training import train

    if trial["prune_channels"] >= trial["channels"]:  # before the training it would waste
        raise ValueError(f"prune_channels {trial['prune_channels']} must be below channels {trial['channels']}")
    data = shared["data"]
    torch.set_num_threads(1)
    cfg = train_config(trial, data.pool.shape[0])
    train(data, work / "run", cfg, progress=False)
    model, payload = load_checkpoint(work / "run" / "model.pt")
    model = compress(model, data, cfg, trial)
    validation = float(np.mean(predict(model, data.validation.features) == data.validation.labels))
    save_checkpoint(
        work / "run" / "model.pt", model, payload["train_config"], step=payload["step"], validation_accuracy=validation
    )
    report({"validation_accuracy": validation, "stage": "trained"})
    return {"validation_accuracy": validation, **build_and_measure(model, data, work, shared)}


def run_trial(trial: dict[str, Any], shared: dict[str, Any], report: Report) -> dict[str, Any]:
    """The trial's record: ``status`` ok (with ``metrics``, ``fits`` and ``artifacts``) or failed
    (with ``reason``); ``report`` receives the float validation accuracy after training (the rung
    an adaptive scheduler may stop the trial at)."""
    from emulation.errors import EmulationError

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kws-trial-") as tmp:
        work = Path(tmp)
        try:
            metrics = _steps(trial, shared, work, report)
        except (BadInput, EmulationError, ValueError) as exc:
            return {"status": "failed", "reason": str(exc).strip().splitlines()[0], "seconds": _since(start)}
        artifacts = {name: base64.b64encode((work / rel).read_bytes()).decode() for name, rel in ARTIFACTS.items()}
    record = {"status": "ok", "metrics": metrics, "fits": fits(metrics, shared["chip"]), "artifacts": artifacts}
    return record | {"seconds": _since(start)}


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 2)
