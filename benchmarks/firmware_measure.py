"""What the compression benchmarks measure of one model: built into the Cortex-M4 firmware, its
generated constant arrays from the ELF's symbols, flash and RAM, and one inference's modelled
cycles on a fixed noise clip in the Unicorn backend (DWT = the cycle model)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from model import config


def noise_clip() -> bytes:
    """The clip every firmware classifies: seeded noise, so the runs are comparable."""
    rng = np.random.default_rng(0)
    return rng.normal(0, 3000, config.CLIP_SAMPLES).clip(-32768, 32767).astype("<i2").tobytes()


def elf_bytes(elf: Path) -> dict[str, int]:
    """``weights``: the filter symbols (``op<N>_weights``, and ``op<N>_bitmap`` of a sparse layer);
    ``constants``: every generated ``op<N>_...`` array."""
    from elftools.elf.elffile import ELFFile

    sizes = {"weights": 0, "constants": 0}
    with elf.open("rb") as handle:
        for symbol in ELFFile(handle).get_section_by_name(".symtab").iter_symbols():
            if re.fullmatch(r"op\d+_\w+", symbol.name) and symbol["st_info"]["type"] == "STT_OBJECT":
                sizes["constants"] += symbol["st_size"]
                sizes["weights"] += symbol["st_size"] if symbol.name.endswith(("_weights", "_bitmap")) else 0
    return sizes


def measure(flatbuffer: bytes, out: Path, pcm: bytes, weights: str = "auto") -> dict[str, int]:
    """Build ``flatbuffer`` into ``out`` (``kws firmware build --weights``) and run ``pcm`` once."""
    from emulation.clip import run_clip
    from model.deploy.firmware import build

    out.mkdir(parents=True)
    tflite = out / "model.tflite"
    tflite.write_bytes(flatbuffer)
    size = build(tflite, out / "fw", variant="bench", kernels="cortex_m4", weights=weights)
    run = run_clip(out / "fw" / "kws.elf", pcm)
    return {
        **elf_bytes(out / "fw" / "kws.elf"),
        "flash": size["flash_bytes"],
        "ram": size["ram_bytes"],
        "inference": int(run.result["inf"]),
    }
