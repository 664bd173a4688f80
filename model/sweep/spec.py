"""The sweep file (TOML): data, search space, search algorithm and the chip's constraints.

Every key is checked when the file is read, before any trial starts: an unknown key or an
impossible value is ``BadInput`` naming the file and the key (one line, exit 2). A combination of
individually valid values that cannot be built (pruning a model to more channels than it has) is
not refused here: that trial fails with its reason and the sweep goes on.

TinyConv's kernel (10x8) and stride (2x2) are fixed by the model class (model/train/tinyconv.py)
and by the firmware's code generator, so they are not in the search space.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model import config
from model.errors import BadInput

ALGORITHMS = ("grid", "random", "asha")

#: Search-space keys: (type, lowest, highest or None); every value of a list is checked.
SPACE: dict[str, tuple[type, float, float | None]] = {
    "channels": (int, 1, 256),  # TinyConv's conv channels
    "steps": (int, 1, None),  # training steps (one phase)
    "lr": (float, 1e-7, 1.0),
    "batch_size": (int, 1, 4096),
    "seed": (int, 0, 2**31 - 1),
    "bits": (int, 2, 8),  # weight bits (QAT to a b-bit grid, stored int8 by the firmware)
    "sparsity": (float, 0.0, 0.99),  # unstructured magnitude pruning (0: none)
    "prune_channels": (int, 0, 256),  # structured pruning to this many channels (0: none)
}
SPACE_DEFAULTS: dict[str, list] = {
    "channels": [8], "steps": [400], "lr": [0.002], "batch_size": [32], "seed": [0],
    "bits": [8], "sparsity": [0.0], "prune_channels": [0],
}  # fmt: skip
SECTIONS = {
    "data": {"per_word": (int, 1, 10_000), "seed": (int, 0, 2**31 - 1), "path": (str, 0, None),
             "validation_clips": (int, 0, None), "pool": (int, 1, 64)},
    "search": {"algorithm": (str, 0, None), "samples": (int, 1, 10_000), "seed": (int, 0, 2**31 - 1),
               "finetune_steps": (int, 0, None), "eval_every": (int, 1, None)},
    "chip": {"flash_bytes": (int, 1, config.FLASH_BYTES), "ram_bytes": (int, 1, config.RAM_BYTES),
             "realtime_margin": (float, 0.0, 0.99)},
}  # fmt: skip


@dataclass
class Sweep:
    path: Path
    space: dict[str, list] = field(default_factory=lambda: dict(SPACE_DEFAULTS))
    data: dict[str, Any] = field(default_factory=lambda: {"per_word": 24, "seed": 1, "validation_clips": 0, "pool": 2})
    search: dict[str, Any] = field(
        default_factory=lambda: {"algorithm": "grid", "samples": 8, "seed": 0, "finetune_steps": 100, "eval_every": 100}
    )
    chip: dict[str, Any] = field(
        default_factory=lambda: {
            "flash_bytes": config.FLASH_BYTES,
            "ram_bytes": config.RAM_BYTES,
            "realtime_margin": 0.25,
        }
    )

    def trials(self) -> list[dict[str, Any]]:
        """The trial configurations, each with its ``id`` (a digest of the settings): the whole grid,
        or ``samples`` draws for random and asha (seeded, so a rerun draws the same trials)."""
        keys = list(SPACE)
        grid = [dict(zip(keys, values, strict=True)) for values in itertools.product(*(self.space[k] for k in keys))]
        if self.search["algorithm"] != "grid":
            rng = np.random.default_rng(self.search["seed"])
            grid = [
                {k: self.space[k][int(rng.integers(len(self.space[k])))] for k in keys}
                for _ in range(self.search["samples"])
            ]
        shared = {"finetune_steps": self.search["finetune_steps"], "eval_every": self.search["eval_every"]}
        unique = {trial_id(t | shared): t | shared for t in grid}
        return [{"id": key, **value} for key, value in unique.items()]


def trial_id(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]


def _value(path: Path, key: str, value: Any, kind: type, low: float, high: float | None) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadInput(path, f"{key}: expected {'an integer' if kind is int else kind.__name__}, got {value!r}")
    if kind is not str and (value < low or (high is not None and value > high)):
        bound = f"at least {low}" if high is None else f"between {low} and {high}"
        raise BadInput(path, f"{key}: must be {bound}, got {value!r}")
    return value


def _section(path: Path, name: str, table: Any, rules: dict[str, tuple]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise BadInput(path, f"[{name}] must be a table")
    out = {}
    for key, value in table.items():
        if key not in rules:
            raise BadInput(path, f"unknown key {name}.{key} (known: {', '.join(rules)})")
        if name == "space":
            values = value if isinstance(value, list) else [value]
            if not values:
                raise BadInput(path, f"space.{key}: needs at least one value")
            out[key] = [_value(path, f"space.{key}", v, *rules[key]) for v in values]
        else:
            out[key] = _value(path, f"{name}.{key}", value, *rules[key])
    return out


def load(path: Path) -> Sweep:
    """The sweep of ``path``; BadInput naming the key for anything that cannot be run."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise BadInput(path, "no such sweep file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(path, f"not valid TOML: {exc}") from None
    sweep = Sweep(path)
    tables = {"space": SPACE, **SECTIONS}
    for name, table in document.items():
        if name not in tables:
            raise BadInput(path, f"unknown table [{name}] (known: {', '.join(tables)})")
        target = sweep.space if name == "space" else getattr(sweep, name)
        target.update(_section(path, name, table, tables[name]))
    if sweep.search["algorithm"] not in ALGORITHMS:
        raise BadInput(path, f"search.algorithm: one of {', '.join(ALGORITHMS)}, not {sweep.search['algorithm']!r}")
    if "path" in sweep.data and not Path(sweep.data["path"]).is_dir():
        raise BadInput(path, f"data.path: no such dataset directory {sweep.data['path']!r}")
    return sweep
