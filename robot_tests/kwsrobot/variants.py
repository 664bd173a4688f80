"""BUILD/variants.json (the pipeline's firmware stage writes it): which firmware variants were built, from what."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DTYPES = ("int8", "float32")


class BuildError(ValueError):
    """A BUILD directory that cannot be tested; the message names the file and the reason."""


@dataclass(frozen=True)
class Variant:
    name: str
    dtype: str
    kernels: str
    model: Path  # the .tflite it was built from
    dir: Path  # kws.elf, kws.map, size.json
    stream_thresholds: dict | None = None  # snr_db, min_hit_rate, max_wrong_label_rate, max_false_accepts_per_hour
    weights: str = ""  # the weights' type when it differs from dtype ("int4": TFLite INT4 filters)
    channels: int = 0  # a channel-pruned model's conv channels: its inference budget scales with them
    nonzero_weights: int = 0  # a magnitude-pruned model's nonzero weights: its inference budget scales with them

    @property
    def elf(self) -> Path:
        return self.dir / "kws.elf"

    @property
    def size_json(self) -> Path:
        return self.dir / "size.json"

    @property
    def budget_key(self) -> str:
        """What its stage cycles depend on: the arithmetic (the weights' type) and the kernels."""
        return f"{self.weights or self.dtype}/{self.kernels}"


@dataclass(frozen=True)
class Build:
    root: Path
    data: Path  # the dataset the models were trained on
    variants: tuple[Variant, ...]

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        known = ", ".join(v.name for v in self.variants)
        raise BuildError(f"{self.root / 'variants.json'}: no variant {name!r} (it lists {known})")


def read_build(root: str | Path) -> Build:
    """The BUILD's variants; BuildError when variants.json is missing or malformed."""
    root = Path(root).resolve()
    path = root / "variants.json"
    try:
        spec = json.loads(path.read_text())
    except FileNotFoundError:
        raise BuildError(f"{path}: no such file (make it with `kws pipeline --stop-after firmware`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BuildError(f"{path}: not readable JSON ({exc})") from None
    try:
        variants = tuple(
            Variant(
                name=str(v["name"]),
                dtype=str(v["dtype"]),
                kernels=str(v["kernels"]),
                model=root / v["model"],
                dir=root / v["dir"],
                stream_thresholds=v.get("stream_thresholds"),
                weights=str(v.get("weights", "")),
                channels=int(v.get("channels", 0)),
                nonzero_weights=int(v.get("nonzero_weights", 0)),
            )
            for v in spec["variants"]
        )
        data = Path(spec["data"])
    except (KeyError, TypeError) as exc:
        raise BuildError(
            f"{path}: expected {{'data': ..., 'variants': [{{name, dtype, kernels, model, dir}}]}} ({exc!r})"
        ) from None
    if not variants:
        raise BuildError(f"{path}: lists no variants")
    for v in variants:
        if v.dtype not in DTYPES:
            raise BuildError(f"{path}: variant {v.name!r} has dtype {v.dtype!r}, expected one of {', '.join(DTYPES)}")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise BuildError(f"{path}: variant names repeat ({', '.join(names)})")
    return Build(root=root, data=data, variants=variants)
