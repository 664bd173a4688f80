"""The firmware engine: a stream through the emulated nRF52840's PDM microphone, its ``heard`` lines.

The firmware boots, paces itself (its boot line's ``stride``) and streams from the first PDM block
(firmware/app/stream.c); the Unicorn backend feeds the stream's samples from virtual time on, as
Renode's ``sysbus.pdm SetInputFile`` does, and the run ends when no further block can be filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import config
from model.stream.engine import Heard


@dataclass(frozen=True)
class FirmwareRun:
    """The boot line's fields, the heard lines, blocks the firmware counted as dropped, the run's
    virtual seconds and host wall seconds."""

    boot: dict[str, str]
    heard: tuple[Heard, ...]
    dropped: int
    virtual_s: float
    wall_s: float


def firmware_heard(elf: Path, pcm: np.ndarray, strict: bool = True) -> FirmwareRun:
    """Run ``elf`` on the int16 stream ``pcm`` to its end (EmulationError on a fault or when the
    stream does not reach its end within its length plus 10 virtual seconds of boot)."""
    import time

    from emulation.errors import EmulationError, StopReason
    from emulation.protocol import parse_line
    from emulation.unicorn_backend import Machine

    started = time.perf_counter()
    machine = Machine(elf, pcm.astype("<i2").tobytes(), on_pcm_end="stop", strict=strict)
    try:
        run = machine.run(max_seconds_virtual=pcm.size / config.SAMPLE_RATE + 10)
    finally:
        machine.close()
    if run.stop_reason != StopReason.PCM_END:
        raise EmulationError(f"{elf}: the stream did not reach its end ({run.stop_reason}): {run.lines[-3:]}")
    boot, heard, dropped = {}, [], 0
    for line in run.lines:
        kind, fields = parse_line(line)
        if kind == "boot":
            boot = fields
        elif kind == "heard":
            heard.append(Heard(fields["label"], int(fields["score"]), int(fields["t_ms"])))
            dropped = int(fields["dropped"])
    return FirmwareRun(boot, tuple(heard), dropped, run.virtual_s, time.perf_counter() - started)


def boot_stride(elf: Path) -> int:
    """The frames per PDM block ``elf`` paces itself to, from its boot line (one second of silence)."""
    from emulation.errors import EmulationError

    run = firmware_heard(elf, np.zeros(config.SAMPLE_RATE, dtype=np.int16))
    if "stride" not in run.boot:
        raise EmulationError(f"{elf}: no boot line with a stride")
    return int(run.boot["stride"])
