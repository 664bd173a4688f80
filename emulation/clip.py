"""Classify one 1 s clip on the firmware in an emulator, fed through the PDM microphone.

The firmware classifies the first second of PDM audio after reset (in stream mode its first full
window, in clip mode its boot clip) and prints a ``result`` line (firmware/README.md). So a clip
is fed exactly as Renode feeds audio, ``sysbus.pdm SetInputFile`` of raw s16le samples, and the
run stops at that line: in the Unicorn backend through its PDM model, in Renode through
SetInputFile itself. No memory slot and no host-side write into the firmware's RAM are involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emulation.errors import EmulationError, StopReason
from emulation.protocol import parse_line

BACKENDS = ("unicorn", "renode")


@dataclass
class ClipRun:
    """The ``result`` line's fields, everything printed, instructions executed from reset and the
    modelled Cortex-M4 cycles (None for a backend without a cycle model)."""

    result: dict[str, str]
    lines: list[str]
    instructions: int
    cycles: int | None = None


def run_clip(
    elf: str | Path,
    pcm: bytes,
    backend: str = "unicorn",
    max_seconds_virtual: float = 30.0,
    cycle_model: bool = True,
    strict: bool = True,
) -> ClipRun:
    """Boot ``elf`` with ``pcm`` (s16le, 16 kHz mono) on its PDM and return the firmware's ``result``.

    Samples past the end of ``pcm`` read as zeros, as in Renode; a 1 s clip is the whole window.
    ``cycle_model`` (Unicorn): DWT and time follow modelled cycles, else executed instructions.
    ``strict``: the Unicorn backend's strict mode (unicorn_backend); Renode has its own rules.
    """
    if backend == "unicorn":
        from emulation.unicorn_backend import Machine

        machine = Machine(elf, pcm, cycle_model=cycle_model, strict=strict)
        run = machine.run(until_line=r"^result ", max_seconds_virtual=max_seconds_virtual)
    elif backend == "renode":
        from emulation.renode_backend import RenodeMachine, find_renode

        find_renode()  # fail fast, before any work, when Renode is absent
        run = RenodeMachine(elf, pcm).run(until_line=r"^result ", max_seconds_virtual=max_seconds_virtual)
    else:
        raise ValueError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if run.stop_reason != StopReason.LINE:
        tail = " | ".join(run.lines[-3:]) or "nothing printed"
        raise EmulationError(f"{elf}: no result line after {run.virtual_s:.3f} virtual s ({run.stop_reason}): {tail}")
    return ClipRun(parse_line(run.lines[-1])[1], run.lines, run.instructions, run.cycles)
