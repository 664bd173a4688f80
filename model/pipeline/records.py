"""The pipeline's stage records: which stages exist, which firmware variants they build, and
``OUT/.stages/<stage>.json``, each finished stage's input key and what it measured. The stages
(:mod:`model.pipeline.stages`) write them; the report (:mod:`model.pipeline.report`) reads them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model import config
from model.atomic import atomic_write_text
from model.errors import BadInput

STAGES = ("corpus", "features", "train", "compress", "export", "firmware", "emulate", "streams", "robot", "report")


@dataclass(frozen=True)
class Variant:
    name: str
    dtype: str  # "int8" or "float32": the model's activations (input, output)
    kernels: str  # firmware kernel set
    model: str = ""  # the exported model it runs, OUT/models/<model>.tflite (default: dtype)
    weights: str = ""  # the weights' type when it differs from dtype ("int4": TFLite INT4 filters)
    listed: bool = True  # in variants.json, with a Robot suite (else built for its measurements only)
    checkpoint: str = ""  # the compressed model it is exported from (OUT/compress/models/...), else run/model.pt
    channels: int = 0  # a channel-pruned model's conv channels (its cycle budget scales with them), else 0
    nonzero_weights: int = 0  # a magnitude-pruned model's nonzero weights (its cycle budget scales with them)

    @property
    def model_path(self) -> str:
        return f"models/{self.model or self.dtype}.tflite"


VARIANTS = (
    Variant("int8", "int8", "cortex_m4"),
    Variant("int8-ref", "int8", "reference"),
    Variant("float32", "float32", "reference"),
    Variant("int4", "int8", "cortex_m4", "int4", "int4"),  # int8 activations, int4 weights (TFLite INT4)
)


#: Repeats of the batch-1 forward pass timed for the CPU latency (``kws profile``).
LATENCY_REPEATS = 200


def say(stage: str, message: str) -> None:
    print(f"[{stage}] {message}", flush=True)


def file_digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


#: What a build does not read: documentation and Python's bytecode caches (written when a module is
#: first imported, so counting them would make a second run rebuild what the first built).
NOT_SOURCES = {".md", ".pyc"}


def sources_digest(roots: tuple[Path, ...]) -> str:
    """Digest of every source file under ``roots`` (files or directories), names included."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file() and path.suffix not in NOT_SOURCES and "__pycache__" not in path.parts:
                name = path.relative_to(config.ROOT) if path.is_relative_to(config.ROOT) else path
                digest.update(name.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


# -- stage records ---------------------------------------------------------------------------


def read_record(out: Path, stage: str) -> dict | None:
    marker = out / ".stages" / f"{stage}.json"
    return json.loads(marker.read_text()) if marker.exists() else None


def cached(out: Path, stage: str, key: Any) -> dict | None:
    """The stage's recorded info if it finished with the same input key, else None."""
    record = read_record(out, stage)
    if record is not None and record.get("status") == "done" and record.get("key") == key:
        return record["info"]
    return None


def write_record(out: Path, stage: str, key: Any, info: dict, status: str = "done") -> dict:
    record = {"stage": stage, "status": status, "key": key, "info": info}
    atomic_write_text(out / ".stages" / f"{stage}.json", json.dumps(record, indent=2) + "\n")
    return info


def refuse_changed(out: Path, stage: str, key: Any, what: Path) -> None:
    """A finished stage whose outputs cannot be redone in place (corpus, training) with other inputs."""
    record = read_record(out, stage)
    if record is not None and record.get("key") != key:
        changes = ", ".join(_changes(record.get("key") or {}, key))
        raise BadInput(what, f"was made with other settings ({changes}); use another --out")


def _changes(old: dict, new: dict, prefix: str = "") -> list[str]:
    """``name old → new`` for every setting that differs, nested dictionaries flattened."""
    found = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if isinstance(a, dict) and isinstance(b, dict):
            found += _changes(a, b, f"{prefix}{name}.")
        elif a != b:
            found.append(f"{prefix}{name} {a} → {b}")
    return found


def cached_info(out: Path, stage: str) -> dict:
    record = read_record(out, stage)
    if record is None:
        raise BadInput(out, f"stage {stage} has not run yet")
    return record["info"]


def problems(out: Path) -> list[str]:
    """What keeps the run from being a clean pass: failed suites, firmware that disagrees with tflite_micro."""
    found = []
    robot = read_record(out, "robot")
    if robot is not None and robot["status"] == "failed":
        found.append(f"Robot suites failed: {robot['info']['summary']}")
    emulate = read_record(out, "emulate")
    for name, summary in ((emulate or {}).get("info", {}).get("variants", {})).items():
        if summary["matches_tflite_micro"] != summary["clips"]:
            found.append(f"{name}: {summary['clips'] - summary['matches_tflite_micro']} clips differ from tflite_micro")
    return found
