"""PDM at 0x4001D000 fed from s16le PCM on virtual time, as Renode's NRF52840_PDM.

Sample rate = PDMCLK / RATIO with integer division (PDMCLKCTRL 0x0A000000 = 32 MHz / 25 and
RATIO x80 give 16 kHz). After TASKS_START (with ENABLE set) a block fires every
1 / ((rate // MAXCNT) * channels) s: EVENTS_STARTED, MAXCNT samples DMA-written at the SAMPLE.PTR
current at that instant, EVENTS_END. TASKS_STOP only raises EVENTS_STOPPED.
When the input runs out Renode writes zeros; `on_end="stop"` asks the machine to stop instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from emulation.peripherals.base import Host, Peripheral

TASKS_START = 0x000
TASKS_STOP = 0x004
EVENTS_STARTED = 0x100
EVENTS_STOPPED = 0x104
EVENTS_END = 0x108
ENABLE = 0x500
PDMCLKCTRL = 0x504
MODE = 0x508
GAINL = 0x518
GAINR = 0x51C
RATIO = 0x520
SAMPLE_PTR = 0x560
SAMPLE_MAXCNT = 0x564

PDMCLK_HZ = {  # PDMCLKCTRL.FREQ → clock (32 MHz / divider), as Renode computes it
    0x08000000: 32_000_000 // 32,
    0x08400000: 32_000_000 // 31,
    0x08800000: 32_000_000 // 30,
    0x09800000: 32_000_000 // 26,
    0x0A000000: 32_000_000 // 25,
    0x0A800000: 32_000_000 // 24,
}


class Pdm(Peripheral):
    name = "pdm"
    base = 0x4001D000
    resets = {  # noqa: RUF012
        EVENTS_STARTED: 0,
        EVENTS_STOPPED: 0,
        EVENTS_END: 0,
        0x300: 0,  # INTEN
        0x304: 0,  # INTENSET
        0x308: 0,  # INTENCLR
        ENABLE: 0,
        PDMCLKCTRL: 0x08400000,
        MODE: 0,
        GAINL: 0x28,
        GAINR: 0x28,
        RATIO: 0,
        0x540: 0xFFFFFFFF,  # PSEL.CLK
        0x544: 0xFFFFFFFF,  # PSEL.DIN
        SAMPLE_PTR: 0,
        SAMPLE_MAXCNT: 0,
    }

    def __init__(self, host: Host, pcm: bytes | None, cpu_hz: int, on_end: str, stop: Callable[[], None]) -> None:
        super().__init__(host)
        if on_end not in ("zeros", "stop"):
            raise ValueError(f"on_end must be 'zeros' or 'stop', not {on_end!r}")
        self.pcm = pcm or b""
        self.pcm_pos = 0
        self.cpu_hz = cpu_hz
        self.on_end = on_end
        self._stop = stop
        self.next_fire: int | None = None  # instruction count of the next block
        self._started_at = 0
        self._fired = 0
        self._frequency = 0

    @property
    def channels(self) -> int:
        return 1 if self.regs[MODE] & 1 else 2

    @property
    def sample_rate(self) -> int:
        clock = PDMCLK_HZ.get(self.regs[PDMCLKCTRL], 32_000_000 // 31)
        return clock // (80 if self.regs[RATIO] & 1 else 64)

    def write(self, offset: int, value: int) -> None:
        if offset == TASKS_START:
            if value & 1:
                self._start()
        elif offset == TASKS_STOP:
            if value & 1:
                self.regs[EVENTS_STOPPED] = 1
        else:
            if offset == SAMPLE_MAXCNT:
                value &= 0x7FFF
            if offset == PDMCLKCTRL and value not in PDMCLK_HZ:
                self.host.warn(f"pdm: wrong PDMCLKCTRL value 0x{value:X}, using the default clock")
            super().write(offset, value)

    def _start(self) -> None:
        if not self.regs[ENABLE] & 1:
            self.host.warn("pdm: TASKS_START before ENABLE: not starting")
            return
        if self.channels == 2:
            self.host.warn("pdm: stereo mode needs left and right inputs: not starting (set MODE.OPERATION = 1)")
            return
        self.next_fire = None
        maxcnt = self.regs[SAMPLE_MAXCNT]
        if maxcnt == 0:
            self.regs[EVENTS_STARTED] = 1
            return
        self._frequency = (self.sample_rate // maxcnt) * self.channels
        if self._frequency == 0:
            self.host.warn(f"pdm: SAMPLE.MAXCNT {maxcnt} exceeds the sample rate: no blocks")
            return
        self._started_at = self.host.now()
        self._fired = 0
        self._schedule()

    def _schedule(self) -> None:
        # k-th block at start + k / frequency seconds, rounded up to a whole instruction, without drift
        k = self._fired + 1
        self.next_fire = self._started_at + math.ceil(k * self.cpu_hz / self._frequency)
        self.host.schedule(self.next_fire)

    def fire(self) -> None:
        """One block: called by the machine when virtual time reaches `next_fire`."""
        want = 2 * self.regs[SAMPLE_MAXCNT]
        chunk = self.pcm[self.pcm_pos : self.pcm_pos + want]
        if len(chunk) < want and self.on_end == "stop":
            self._stop()  # the block stays due: running on stops here again
            return
        self.pcm_pos += len(chunk)
        self.regs[EVENTS_STARTED] = 1
        self.host.dma_write(self.regs[SAMPLE_PTR], self._amplify(chunk) + bytes(want - len(chunk)))
        self.regs[EVENTS_END] = 1
        self._fired += 1
        self._schedule()

    def _amplify(self, chunk: bytes) -> bytes:
        gain_reg = self.regs[GAINL]
        if gain_reg > 80:
            gain_reg = 40
        gain_db = int((gain_reg - 40) / 2)  # C# integer division truncates toward zero
        if gain_db == 0:
            return chunk
        samples = np.frombuffer(chunk, dtype="<i2").astype(np.float64) * 10 ** (gain_db / 20)
        return np.clip(np.trunc(samples), -32768, 32767).astype("<i2").tobytes()
