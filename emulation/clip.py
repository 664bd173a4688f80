"""Classify one 1 s clip on the firmware in an emulator.

The clip goes into ``kws_clip_feed``, the firmware's ``.noinit`` clip slot (magic "KWS1", then
16,000 s16le samples) before the core starts; the firmware classifies it right after ``boot``
and prints a ``result`` line (firmware/README.md). Startup never touches ``.noinit``, so the
same feeding works in the Unicorn backend (a memory write) and in Renode (``sysbus LoadBinary``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from emulation.errors import EmulationError, StopReason
from emulation.protocol import parse_line

CLIP_FEED_SYMBOL = "kws_clip_feed"
CLIP_FEED_MAGIC = 0x3153574B  # "KWS1" little-endian
BACKENDS = ("unicorn", "renode")


@dataclass
class ClipRun:
    """The ``result`` line's fields, everything printed, and instructions executed from reset."""

    result: dict[str, str]
    lines: list[str]
    instructions: int


def clip_feed(pcm: bytes) -> bytes:
    """The bytes of ``kws_clip_feed`` for a clip of s16le samples."""
    return struct.pack("<II", CLIP_FEED_MAGIC, 0) + pcm


def run_clip(elf: str | Path, pcm: bytes, backend: str = "unicorn", max_seconds_virtual: float = 30.0) -> ClipRun:
    """Boot ``elf`` with the clip in its feed slot and return the firmware's ``result``."""
    if backend == "unicorn":
        from emulation.unicorn_backend import Machine

        machine = Machine(elf)
        machine.dma_write(machine.symbol(CLIP_FEED_SYMBOL), clip_feed(pcm))
        run = machine.run(until_line=r"^result ", max_seconds_virtual=max_seconds_virtual)
    elif backend == "renode":
        from emulation.elf import FirmwareImage
        from emulation.renode_backend import RenodeMachine, find_renode

        find_renode()  # fail fast, before any work, when Renode is absent
        address = FirmwareImage(elf).symbols[CLIP_FEED_SYMBOL]
        machine = RenodeMachine(elf, preload=[(address, clip_feed(pcm))])
        run = machine.run(until_line=r"^result ", max_seconds_virtual=max_seconds_virtual)
    else:
        raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if run.stop_reason != StopReason.LINE:
        tail = " | ".join(run.lines[-3:]) or "nothing printed"
        raise EmulationError(f"{elf}: no result line after {run.virtual_s:.3f} virtual s ({run.stop_reason}): {tail}")
    return ClipRun(result=parse_line(run.lines[-1])[1], lines=run.lines, instructions=run.instructions)
