"""GPIO P0 (0x50000000) and P1 (0x50000300), as Renode's nRF52840 GPIO: plain pin state.

Both ports share one 4 KiB page, so one model serves both. OUT/DIR have set and clear
aliases; IN reads the output level of pins configured as outputs (nothing drives inputs here);
PIN_CNF registers are storage with their reset value (input buffer disconnected).
"""

from __future__ import annotations

from emulation.peripherals.base import Peripheral

PORT_OFFSETS = (0x000, 0x300)  # P0, P1 within the page
OUT, OUTSET, OUTCLR, IN, DIR, DIRSET, DIRCLR = 0x504, 0x508, 0x50C, 0x510, 0x514, 0x518, 0x51C
LATCH, DETECTMODE = 0x520, 0x524
PIN_CNF = 0x700
PIN_CNF_RESET = 0x00000002
#: P0 registers sit at 0x504..0x77C of the page, P1 registers (base 0x300) at 0x804..0xA7C.
P1_FIRST_REGISTER = 0x800


class Gpio(Peripheral):
    name = "gpio"
    base = 0x50000000
    resets = {  # noqa: RUF012
        port + reg: value
        for port in PORT_OFFSETS
        for reg, value in [(OUT, 0), (DIR, 0), (LATCH, 0), (DETECTMODE, 0)]
        + [(PIN_CNF + 4 * pin, PIN_CNF_RESET) for pin in range(32)]
    }

    def read(self, offset: int) -> int:
        port = PORT_OFFSETS[1] if offset >= P1_FIRST_REGISTER else PORT_OFFSETS[0]
        reg = offset - port
        if reg in (OUTSET, OUTCLR):
            return self.regs[port + OUT]
        if reg in (DIRSET, DIRCLR):
            return self.regs[port + DIR]
        if reg == IN:
            return self.regs[port + OUT] & self.regs[port + DIR]
        return super().read(offset)

    def write(self, offset: int, value: int) -> None:
        port = PORT_OFFSETS[1] if offset >= P1_FIRST_REGISTER else PORT_OFFSETS[0]
        reg = offset - port
        if reg == OUTSET:
            self.regs[port + OUT] |= value
        elif reg == OUTCLR:
            self.regs[port + OUT] &= ~value & 0xFFFFFFFF
        elif reg == DIRSET:
            self.regs[port + DIR] |= value
        elif reg == DIRCLR:
            self.regs[port + DIR] &= ~value & 0xFFFFFFFF
        else:
            super().write(offset, value)
