"""CLOCK at 0x40000000: the clocks start at once (HFCLKSTARTED/LFCLKSTARTED set on the task)."""

from __future__ import annotations

from emulation.peripherals.base import Peripheral

TASKS_HFCLKSTART = 0x000
TASKS_LFCLKSTART = 0x008
EVENTS_HFCLKSTARTED = 0x100
EVENTS_LFCLKSTARTED = 0x104


class Clock(Peripheral):
    name = "clock"
    base = 0x40000000
    resets = {  # noqa: RUF012
        EVENTS_HFCLKSTARTED: 0,
        EVENTS_LFCLKSTARTED: 0,
        0x304: 0,  # INTENSET
        0x308: 0,  # INTENCLR
        0x408: 0,  # HFCLKRUN
        0x40C: 0,  # HFCLKSTAT
        0x414: 0,  # LFCLKRUN
        0x418: 0,  # LFCLKSTAT
        0x518: 0,  # LFCLKSRC
    }

    def write(self, offset: int, value: int) -> None:
        if offset == TASKS_HFCLKSTART:
            if value & 1:
                self.regs[EVENTS_HFCLKSTARTED] = 1
                self.regs[0x40C] = 0x10001  # running, source Xtal
        elif offset == TASKS_LFCLKSTART:
            if value & 1:
                self.regs[EVENTS_LFCLKSTARTED] = 1
                self.regs[0x418] = 0x10000 | (self.regs[0x518] & 3)
        else:
            super().write(offset, value)
