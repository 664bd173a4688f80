"""System control space at 0xE000E000: CPACR and DEMCR are stored; writing CPACR with CP10/CP11
access granted makes the FPU usable (before that an FPU instruction is a NOCP UsageFault, as in Renode)."""

from __future__ import annotations

from collections.abc import Callable

from emulation.peripherals.base import Host, Peripheral

CPACR = 0xD88
DEMCR = 0xDFC
CPUID = 0xD00


class SystemControl(Peripheral):
    name = "scs"
    base = 0xE000E000
    resets = {CPACR: 0, DEMCR: 0}  # noqa: RUF012

    def __init__(self, host: Host, set_fpu_enabled: Callable[[bool], None]) -> None:
        super().__init__(host)
        self._set_fpu_enabled = set_fpu_enabled

    def read(self, offset: int) -> int:
        if offset == CPUID:
            return 0x410FC241  # Cortex-M4 r0p1, as on the nRF52840
        return super().read(offset)

    def write(self, offset: int, value: int) -> None:
        super().write(offset, value)
        if offset == CPACR:
            cp10, cp11 = (value >> 20) & 3, (value >> 22) & 3
            # Firmware runs privileged: 0b01 (privileged only) and 0b11 (full) both grant access.
            self._set_fpu_enabled(cp10 in (1, 3) and cp11 in (1, 3))
