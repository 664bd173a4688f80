"""DWT at 0xE0001000 as Renode's Miscellaneous.DWT at 64 MHz: CYCCNT counts virtual cycles.

CYCCNT advances with the machine's clock while CTRL.CYCCNTENA (bit 0) is set: modelled Cortex-M4
cycles under the cycle model, else executed instructions (Renode's PerformanceInMips 64: one
instruction per cycle). A read returns the clock before the reading instruction.
"""

from __future__ import annotations

from emulation.peripherals.base import Host, Peripheral

CTRL = 0x000
CYCCNT = 0x004


class Dwt(Peripheral):
    name = "dwt"
    base = 0xE0001000

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.ctrl = 0
        self._value = 0  # CYCCNT at instruction count `_mark`
        self._mark = 0

    @property
    def enabled(self) -> bool:
        return bool(self.ctrl & 1)

    def cyccnt(self) -> int:
        if self.enabled:
            return (self._value + self.host.now() - self._mark) & 0xFFFFFFFF
        return self._value

    def read(self, offset: int) -> int:
        if offset == CTRL:
            return self.ctrl
        if offset == CYCCNT:
            return self.cyccnt()
        return self.unhandled_read(offset)

    def write(self, offset: int, value: int) -> None:
        if offset == CTRL:
            self._value = self.cyccnt()
            self._mark = self.host.now()
            self.ctrl = value
        elif offset == CYCCNT:
            self._value = value & 0xFFFFFFFF
            self._mark = self.host.now()
        else:
            self.unhandled_write(offset, value)
