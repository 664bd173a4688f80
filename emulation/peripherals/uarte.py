"""UARTE0 at 0x40002000 with EasyDMA, as Renode's NRF52840_UART(easyDMA: true).

TX: STARTTX sends TXD.MAXCNT bytes from TXD.PTR at once and sets TXSTARTED, TXSTOPPED, ENDTX and
TXDRDY; TXD.AMOUNT = MAXCNT. The legacy TXD register (0x51C) does not exist with EasyDMA: an
unhandled write, nothing printed.
RX: host bytes wait in a FIFO and are DMA-written to RXD.PTR + n while ENABLE = 8, STARTRX was
issued and ENDRX is clear; RXDRDY per byte, ENDRX when AMOUNT reaches RXD.MAXCNT.
Deviation: Renode drops bytes that arrive before the first STARTRX. Here a run stops the machine
right at the line the host waits for, before the firmware can arm its receiver, so bytes wait in
the FIFO as if typed just after the prompt.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from emulation.peripherals.base import Host, Peripheral

TASKS_STARTRX = 0x000
TASKS_STOPRX = 0x004
TASKS_STARTTX = 0x008
TASKS_STOPTX = 0x00C
EVENTS_RXDRDY = 0x108
EVENTS_ENDRX = 0x110
EVENTS_TXDRDY = 0x11C
EVENTS_ENDTX = 0x120
EVENTS_ERROR = 0x124
EVENTS_RXTO = 0x144
EVENTS_RXSTARTED = 0x14C
EVENTS_TXSTARTED = 0x150
EVENTS_TXSTOPPED = 0x158
ENABLE = 0x500
RXD_PTR = 0x534
RXD_MAXCNT = 0x538
RXD_AMOUNT = 0x53C
TXD_PTR = 0x544
TXD_MAXCNT = 0x548
TXD_AMOUNT = 0x54C
ENABLE_UARTE = 8


class Uarte(Peripheral):
    name = "uart0"
    base = 0x40002000
    resets = {  # noqa: RUF012
        EVENTS_RXDRDY: 0,
        EVENTS_ENDRX: 0,
        EVENTS_TXDRDY: 0,
        EVENTS_ENDTX: 0,
        EVENTS_ERROR: 0,
        EVENTS_RXTO: 0,
        EVENTS_RXSTARTED: 0,
        EVENTS_TXSTARTED: 0,
        EVENTS_TXSTOPPED: 0,
        0x300: 0,  # INTEN
        0x304: 0,  # INTENSET
        0x308: 0,  # INTENCLR
        ENABLE: 0,
        0x508: 0xFFFFFFFF,  # PSEL.RTS
        0x50C: 0xFFFFFFFF,  # PSEL.TXD
        0x510: 0xFFFFFFFF,  # PSEL.CTS
        0x514: 0xFFFFFFFF,  # PSEL.RXD
        0x524: 0x04000000,  # BAUDRATE
        RXD_PTR: 0,
        RXD_MAXCNT: 0,
        TXD_PTR: 0,
        TXD_MAXCNT: 0,
        0x56C: 0,  # CONFIG
    }
    read_only = (RXD_AMOUNT, TXD_AMOUNT)

    def __init__(self, host: Host, on_tx: Callable[[bytes], None]) -> None:
        super().__init__(host)
        self._on_tx = on_tx
        self.rx_fifo: deque[int] = deque()
        self.rx_started = False
        self.rx_amount = 0
        self.tx_amount = 0

    def read(self, offset: int) -> int:
        if offset == RXD_AMOUNT:
            return self.rx_amount
        if offset == TXD_AMOUNT:
            return self.tx_amount
        return super().read(offset)

    def write(self, offset: int, value: int) -> None:
        if offset in (RXD_MAXCNT, TXD_MAXCNT):
            value &= 0xFFFF
        if offset == TASKS_STARTTX:
            if value & 1:
                self._start_tx()
        elif offset == TASKS_STOPTX:
            if value & 1:
                self.regs[EVENTS_TXSTOPPED] = 1
        elif offset == TASKS_STARTRX:
            if value & 1:
                self.regs[EVENTS_RXSTARTED] = 1
                self.rx_amount = 0
                self.rx_started = True
                self.deliver()
        elif offset == TASKS_STOPRX:
            if value & 1:
                if self.rx_amount < self.regs[RXD_MAXCNT]:
                    self.regs[EVENTS_ENDRX] = 1
                self.regs[EVENTS_RXTO] = 1
                self.rx_started = False
        elif offset in self.read_only:
            self.unhandled_write(offset, value)
        else:
            super().write(offset, value)
            if offset in (EVENTS_ENDRX, ENABLE):
                self.deliver()

    def _start_tx(self) -> None:
        for event in (EVENTS_TXSTARTED, EVENTS_TXSTOPPED, EVENTS_ENDTX, EVENTS_TXDRDY):
            self.regs[event] = 1
        count = self.regs[TXD_MAXCNT]
        if count:
            self._on_tx(self.host.dma_read(self.regs[TXD_PTR], count))
            self.tx_amount = count

    def feed(self, data: bytes) -> None:
        """Bytes typed by the host."""
        self.rx_fifo.extend(data)
        self.deliver()

    def deliver(self) -> None:
        while (
            self.rx_fifo
            and self.rx_started
            and self.regs[ENABLE] == ENABLE_UARTE
            and not self.regs[EVENTS_ENDRX]
            and self.rx_amount < self.regs[RXD_MAXCNT]
        ):
            self.host.dma_write(self.regs[RXD_PTR] + self.rx_amount, bytes([self.rx_fifo.popleft()]))
            self.rx_amount += 1
            self.regs[EVENTS_RXDRDY] = 1
            if self.rx_amount == self.regs[RXD_MAXCNT]:
                self.regs[EVENTS_ENDRX] = 1
