"""Results and errors shared by the emulation backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class StopReason(StrEnum):
    """Why a run returned."""

    LINE = "line"  # a UART line matched `until_line`
    BUDGET = "budget"  # the instruction budget (or virtual-time limit) was reached
    PCM_END = "pcm_end"  # the PDM input ran out and the machine was told to stop then
    STOPPED = "stopped"  # Machine.stop() was called
    FAULT = "fault"  # the firmware faulted (EmulationFault carries the details)


@dataclass
class RunResult:
    """What a run produced. `lines` accumulate over the machine's life; `line_times` are virtual seconds.
    `cycles`: modelled Cortex-M4 cycles so far, None for a backend without a cycle model (Renode)."""

    lines: list[str]
    instructions: int
    virtual_s: float
    stop_reason: StopReason
    line_times: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cycles: int | None = None


class EmulationError(RuntimeError):
    """Base class of the emulation package's errors."""


class InvalidFirmware(EmulationError, ValueError):
    """The file is not a firmware image the emulators can run (message: ``path: reason``)."""


class BackendUnavailable(EmulationError):
    """The requested backend cannot run on this machine."""


class EmulationFault(EmulationError):
    """The firmware faulted; `result` holds what it printed and executed up to the fault."""

    def __init__(self, message: str, result: RunResult, pc: int, registers: dict[str, int]) -> None:
        super().__init__(message)
        self.result = result
        self.pc = pc
        self.registers = registers


class StrictModeError(EmulationFault):
    """Strict mode refused an access the chip refuses or the emulator does not model (a store to
    flash, EasyDMA outside data RAM, an unmodelled peripheral register): the run stops as at a fault."""
