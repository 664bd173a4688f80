"""NVMC at 0x4001E000: CONFIG.WEN decides whether a store to flash programs it.

As on the nRF52840 (product specification, NVMC): with CONFIG.WEN = 1 (Wen) a full 32-bit word
written to a word-aligned flash address is programmed, and programming only clears bits (an
erased bit is 1; nothing but an erase sets it again); a byte or half-word store is a HardFault.
With WEN = 0 (Ren, the reset value) flash is read-only. The machine applies this to CPU stores
(unicorn_backend); this model holds CONFIG and answers READY/READYNEXT with 1: the NVMC is never
busy, since the time a write takes (tWRITE, the CPU halted meanwhile) is not modelled, which the
machine says with a warning on the first programmed word. Erasing (ERASEPAGE, ERASEALL, ...) is
not modelled: those registers are unhandled (an error in strict mode). ICACHECNF is stored.
"""

from __future__ import annotations

from emulation.peripherals.base import Peripheral

READY = 0x400
READYNEXT = 0x408
CONFIG = 0x504
ICACHECNF = 0x540
WEN_MASK = 0x3
WEN_WRITE = 1


class Nvmc(Peripheral):
    name = "nvmc"
    base = 0x4001E000
    resets = {CONFIG: 0, ICACHECNF: 0}  # noqa: RUF012
    read_only = (READY, READYNEXT)

    @property
    def write_enabled(self) -> bool:
        """CONFIG.WEN = Wen: stores to flash program it."""
        return self.regs[CONFIG] & WEN_MASK == WEN_WRITE

    def read(self, offset: int) -> int:
        if offset in self.read_only:
            return 1  # ready: no operation in progress
        return super().read(offset)

    def write(self, offset: int, value: int) -> None:
        if offset in self.read_only:
            self.unhandled_write(offset, value)
        else:
            super().write(offset, value)
