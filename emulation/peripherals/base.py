"""What a peripheral model is, and what it may ask of the machine."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("emulation")


class Host(Protocol):
    """The machine as seen by peripherals: memory for DMA, virtual time, diagnostics."""

    def now(self) -> int:
        """Virtual time in CPU cycles: modelled Cortex-M4 cycles, or instructions (one per cycle)."""
        ...

    def dma_read(self, address: int, size: int) -> bytes: ...

    def dma_write(self, address: int, data: bytes) -> None: ...

    def warn(self, message: str) -> None: ...

    def refuse(self, message: str, otherwise: str) -> None:
        """An access the chip refuses or the emulator does not model: an error in strict mode
        (raises; the run stops there as at a fault), else a warning ending in `otherwise`."""
        ...

    def schedule(self, at: int) -> None:
        """Make sure the machine regains control when the clock reaches `at` cycles."""
        ...


class Peripheral:
    """A block of 32-bit registers. Registers listed in `resets` are plain storage; subclasses
    handle the others in `read`/`write` and fall back to `unhandled_*` for the rest: the registers
    a model implements are exactly those that never reach `unhandled_*`. An unhandled access is
    refused (Host.refuse): an error in strict mode, otherwise a warning and 0, as Renode does for
    registers its model does not implement."""

    name = "peripheral"
    base = 0
    size = 0x1000
    resets: dict[int, int] = {}  # noqa: RUF012 -- read-only per-class table

    def __init__(self, host: Host) -> None:
        self.host = host
        self.regs = dict(self.resets)

    def read(self, offset: int) -> int:
        if offset in self.regs:
            return self.regs[offset]
        return self.unhandled_read(offset)

    def write(self, offset: int, value: int) -> None:
        if offset in self.regs:
            self.regs[offset] = value
        else:
            self.unhandled_write(offset, value)

    def unhandled_read(self, offset: int) -> int:
        self.host.refuse(
            f"{self.name}: unhandled read from offset 0x{offset:X} (0x{self.base + offset:08X}), "
            "a register the emulator does not model",
            "reads 0",
        )
        return 0

    def unhandled_write(self, offset: int, value: int) -> None:
        self.host.refuse(
            f"{self.name}: unhandled write of 0x{value:X} to offset 0x{offset:X} (0x{self.base + offset:08X}), "
            "a register the emulator does not model",
            "ignored",
        )

    def is_event(self, offset: int) -> bool:
        """nRF52 EVENTS_* registers live at 0x100..0x17C: polling them is what skip-ahead looks for."""
        return 0x100 <= offset < 0x180 and self.base >= 0x40000000 and self.base < 0x50000000
