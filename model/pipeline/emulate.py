"""The pipeline's emulate stage for one firmware variant: every test clip, checked and timed.

Each clip boots the firmware in the emulator with the clip in its memory slot
(``emulation.clip.run_clip``, in strict mode). The ``result`` line is compared with the host by
``model.deploy.verify.check_result``, as ``kws verify --elf`` does: the checksum of the model input
equals the host frontend's, and the scores ``tflite_micro``'s (int8 bit for bit, float32 within
the float tolerance after the firmware's rounding).

Resumable: every finished clip is appended to a journal named after the ELF's digest, so an
interrupted stage continues with the next clip and a rebuilt ELF starts afresh. The complete
per-clip list is then written atomically to ``clips.json``.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from model import config
from model.atomic import atomic_write_text
from model.errors import BadInput

CYCLE_STAGES = ("preprocess", "inference", "postprocess")


def clip_name(example) -> str:
    return str(example.path) if example.path is not None else f"silence-{example.index}"


def _read_journal(path: Path) -> dict[str, dict]:
    """Records of a journal; a line cut short by an interruption is dropped (the clip reruns)."""
    records: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            records[record["clip"]] = record
    return records


def classify(elf: Path, pcm: np.ndarray, backend: str, reference) -> dict[str, Any]:
    """One clip on the firmware: contract 4's record plus whether it agrees with tflite_micro."""
    from emulation.clip import run_clip
    from emulation.errors import BackendUnavailable, EmulationError
    from model.deploy.emulate import clip_record
    from model.deploy.verify import check_result, expected_result

    expected = expected_result(reference, pcm)
    try:
        run = run_clip(elf, pcm.astype("<i2").tobytes(), backend, strict=True)
    except BackendUnavailable as exc:
        raise BadInput(None, f"--backend {backend}: {exc}") from None
    except EmulationError as exc:
        return {"error": str(exc).splitlines()[0], "matches_tflite_micro": False}
    record = clip_record(Path(""), run)
    del record["wav"]
    record["matches_tflite_micro"] = check_result(run.result, expected) is None
    return record


def stage_instructions(elf: Path, pcm: np.ndarray, backend: str) -> dict[str, int] | None:
    """Executed instructions per stage for one clip: the clip again without the cycle model, where the
    firmware's DWT counts instructions (None when the backend has no cycle model or the run fails)."""
    from emulation.clip import run_clip
    from emulation.errors import EmulationError
    from model.deploy.emulate import STAGES

    if backend != "unicorn":
        return None
    try:
        run = run_clip(elf, pcm.astype("<i2").tobytes(), backend, cycle_model=False)
    except EmulationError:
        return None
    return {stage: int(run.result[key]) for stage, key in STAGES.items()}


def summarise(records: list[dict], instructions: dict[str, int] | None = None) -> dict[str, Any]:
    """Per-class accuracy, agreement with tflite_micro and stage cycles (median, min, max; ms at CPU_HZ),
    with one clip's executed instructions per stage beside them when given."""
    from model.train.evaluate import split_metrics

    n = len(config.LABELS)
    confusion = np.zeros((n, n), dtype=np.int64)
    ok = [r for r in records if "error" not in r]
    for record in ok:
        confusion[config.LABELS.index(record["label_true"]), config.LABELS.index(record["label"])] += 1
    cycles = {}
    for stage in CYCLE_STAGES:
        values = [r["cycles"][stage] for r in ok]
        if values:
            median = statistics.median(values)
            cycles[stage] = {
                "median": median,
                "min": min(values),
                "max": max(values),
                "ms": 1000 * median / config.CPU_HZ,
            }
            if instructions is not None:
                cycles[stage]["instructions_first_clip"] = instructions[stage]
    return {
        "clips": len(records),
        "errors": len(records) - len(ok),
        "matches_tflite_micro": sum(bool(r["matches_tflite_micro"]) for r in records),
        "test": split_metrics(confusion),
        "cycles": cycles,
        "first_error": next((r["error"] for r in records if "error" in r), None),
    }


def emulate_variant(
    elf: Path, tflite: Path, dataset, examples: list, directory: Path, backend: str, progress: bool = True
) -> dict[str, Any]:
    """Run ``examples`` (of ``dataset``) on ``elf``; write ``directory/clips.json``; the summary."""
    from tqdm import tqdm

    from model.deploy.export import TFLMRunner
    from model.deploy.tflite_reader import read_model

    _, flatbuffer = read_model(tflite)
    reference = TFLMRunner(flatbuffer)
    digest = hashlib.sha256(elf.read_bytes() + flatbuffer + backend.encode()).hexdigest()[:16]
    directory.mkdir(parents=True, exist_ok=True)
    journal = directory / f"journal-{digest}.jsonl"
    for stale in directory.glob("journal-*.jsonl"):  # of an earlier ELF, model or backend
        if stale != journal:
            stale.unlink()
    done = _read_journal(journal)
    todo = [e for e in examples if clip_name(e) not in done]
    with journal.open("a") as handle, tqdm(
        total=len(examples), initial=len(examples) - len(todo), desc=f"[emulate] {elf.parent.name}", unit="clip",
        disable=not progress,
    ) as bar:  # fmt: skip
        for example in todo:
            record = {"clip": clip_name(example), "label_true": config.LABELS[example.label]}
            record |= classify(elf, dataset.load(example), backend, reference)
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            done[record["clip"]] = record
            bar.update()
    records = [done[clip_name(e)] for e in examples]
    atomic_write_text(directory / "clips.json", json.dumps(records, indent=1) + "\n")
    instructions = stage_instructions(elf, dataset.load(examples[0]), backend) if examples else None
    return summarise(records, instructions)
