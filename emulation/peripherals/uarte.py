"""UARTE0 at 0x40002000 with EasyDMA, timed at its BAUDRATE as on the nRF52840 (8N1: 10 bits a byte).

TX: STARTTX raises TXSTARTED at once; the TXD.MAXCNT bytes at TXD.PTR (read when the task starts)
then leave one per byte time, each raising TXDRDY and reaching the host at the instant its stop bit
ends; ENDTX follows the last byte, TXD.AMOUNT counts the bytes sent. STOPTX lets the byte on the
wire finish, then raises ENDTX (if not yet) and TXSTOPPED. The legacy TXD register (0x51C) does not
exist with EasyDMA: an unhandled write, nothing printed.

RX: host bytes travel at the same rate (one after the other from the moment the host writes them).
While the receiver runs (STARTRX until STOPRX) a byte that completes goes to RXD.PTR + AMOUNT if the
buffer has room (RXDRDY; ENDRX when AMOUNT reaches RXD.MAXCNT, then the ENDRX_STARTRX/ENDRX_STOPRX
shortcuts), else into the RX FIFO (RX_FIFO_BYTES), whose bytes the next STARTRX moves into its
buffer first. A byte that finds the FIFO full overwrites its newest byte ("previous data is lost"),
sets ERRORSRC.OVERRUN (write 1 to clear) and EVENTS_ERROR. With the receiver stopped bytes are not
received at all. RXD.PTR/MAXCNT are latched at STARTRX, as the chip's double-buffered registers.

Bytes are timed exactly, but the model brings the state up to date lazily: at every access to a
UARTE register, and at the instants an event register would go from 0 to 1 (the first byte's
RXDRDY/TXDRDY, the byte that fills the RX buffer or overflows the FIFO, ENDTX, and each newline
sent, so the host sees a line when its last byte has left). So registers read exactly as on the
chip and polling skip-ahead stays exact, while a clip costs a few hundred events, not 32,000.
Deviation: a received byte reaches RAM at the next of those moments rather than at its stop bit;
firmware may read an RX buffer only after ENDRX anyway (the product specification's rule).

Renode 1.15.1's model differs (renode-nrf52840.md): TX is instant, RX queues without limit and
there are no SHORTS; the firmware is written to work on both.
"""

from __future__ import annotations

import math
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
SHORTS = 0x200
ERRORSRC = 0x480
ENABLE = 0x500
BAUDRATE = 0x524
RXD_PTR = 0x534
RXD_MAXCNT = 0x538
RXD_AMOUNT = 0x53C
TXD_PTR = 0x544
TXD_MAXCNT = 0x548
TXD_AMOUNT = 0x54C
ENABLE_UARTE = 8
SHORT_ENDRX_STARTRX = 1 << 5
SHORT_ENDRX_STOPRX = 1 << 6
ERRORSRC_OVERRUN = 1 << 0
BITS_PER_BYTE = 10  # start bit, 8 data bits, stop bit (CONFIG: no parity, one stop bit)
# Bytes the receiver holds when no EasyDMA buffer has room: Nordic's own drivers (nrfx_uarte,
# Zephyr's uart_nrfx_uarte) size their flush buffer UARTE_HW_RX_FIFO_SIZE = 5 for it.
RX_FIFO_BYTES = 5

# BAUDRATE register values of the nRF52840 product specification's UARTE table -> the actual rate
# it gives (bits/s), which is what the wire runs at.
BAUD_RATES = {
    0x0004F000: 1205,
    0x0009D000: 2396,
    0x0013B000: 4808,
    0x00275000: 9598,
    0x003AF000: 14401,
    0x004EA000: 19208,
    0x0075C000: 28777,
    0x00800000: 31250,
    0x009D0000: 38369,
    0x00E50000: 55944,
    0x00EB0000: 57554,
    0x013A9000: 76923,
    0x01D60000: 115108,
    0x03B00000: 231884,
    0x04000000: 250000,
    0x07400000: 457143,
    0x0F000000: 941176,
    0x10000000: 1000000,
}


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
        SHORTS: 0,
        0x300: 0,  # INTEN
        0x304: 0,  # INTENSET
        0x308: 0,  # INTENCLR
        ENABLE: 0,
        0x508: 0xFFFFFFFF,  # PSEL.RTS
        0x50C: 0xFFFFFFFF,  # PSEL.TXD
        0x510: 0xFFFFFFFF,  # PSEL.CTS
        0x514: 0xFFFFFFFF,  # PSEL.RXD
        BAUDRATE: 0x04000000,
        RXD_PTR: 0,
        RXD_MAXCNT: 0,
        TXD_PTR: 0,
        TXD_MAXCNT: 0,
        0x56C: 0,  # CONFIG
    }
    read_only = (RXD_AMOUNT, TXD_AMOUNT)

    def __init__(self, host: Host, on_tx: Callable[[bytes, int], None], cpu_hz: int) -> None:
        super().__init__(host)
        self._on_tx = on_tx  # (byte, virtual time in CPU cycles its stop bit ended)
        self.cpu_hz = cpu_hz
        self.errorsrc = 0
        # TX: the transfer's bytes, how many have left, the instant the first started
        self._tx = b""
        self._tx_start = 0
        self._tx_sent = 0
        self._tx_stopping = False
        self.tx_amount = 0
        # RX: host bytes on the wire (arrival time, byte), the receiver's state
        self._wire: deque[tuple[int, int]] = deque()
        self.rx_fifo: deque[int] = deque()
        self.rx_running = False
        self._rx_ptr = 0
        self._rx_maxcnt = 0
        self.rx_amount = 0
        self.overruns = 0

    # --- time ---

    def _rate(self) -> int:
        value = self.regs[BAUDRATE]
        rate = BAUD_RATES.get(value)
        if rate is None:
            rate = max(1, round(value * 16_000_000 / 2**32))
            self.host.warn(
                f"uart0: BAUDRATE 0x{value:08X} is not in the UARTE table of the nRF52840 product "
                f"specification: timed at {rate} bit/s (value x 16 MHz / 2^32)"
            )
        return rate

    def _byte_end(self, start: int, k: int) -> int:
        """End of the k-th byte (1-based) of a transfer started at `start`, without drift."""
        return start + math.ceil(k * BITS_PER_BYTE * self.cpu_hz / self._rate())

    @property
    def next_fire(self) -> int | None:
        """The next instant an event register goes from 0 to 1 (module docstring), or None."""
        times = [t for t in (self._tx_next_event(), self._rx_next_event()) if t is not None]
        return min(times) if times else None

    def _tx_next_event(self) -> int | None:
        if self._tx_sent == len(self._tx):
            return None
        if self.regs[EVENTS_TXDRDY]:
            newline = self._tx.find(b"\n", self._tx_sent)
            last = newline if newline >= 0 else len(self._tx) - 1
        else:
            last = self._tx_sent
        return self._byte_end(self._tx_start, last + 1)

    def _rx_next_event(self) -> int | None:
        if not self._wire or not self.rx_running:
            return None  # bytes a stopped receiver ignores change nothing the firmware can see
        room = self._rx_maxcnt - self.rx_amount
        candidates = [RX_FIFO_BYTES - len(self.rx_fifo) + room] if not self.regs[EVENTS_ERROR] else []
        if not self.regs[EVENTS_RXDRDY]:
            candidates.append(0)
        if room > 0 and not self.regs[EVENTS_ENDRX]:
            candidates.append(room - 1)
        index = min(candidates, default=len(self._wire))
        return self._wire[index][0] if index < len(self._wire) else None

    def fire(self) -> None:
        """Called by the machine when virtual time reaches `next_fire`."""
        self._catch_up()
        self._reschedule()

    def _catch_up(self) -> None:
        """Complete every byte whose stop bit has ended by now, in order."""
        now = self.host.now()
        while self._tx_sent < len(self._tx) and self._byte_end(self._tx_start, self._tx_sent + 1) <= now:
            self._send_byte()
        due = bytearray()
        while self._wire and self._wire[0][0] <= now:
            due.append(self._wire.popleft()[1])
        if due:
            self._receive(bytes(due))

    def _reschedule(self) -> None:
        at = self.next_fire
        if at is not None:
            self.host.schedule(at)

    # --- registers ---

    def read(self, offset: int) -> int:
        self._catch_up()
        if offset == RXD_AMOUNT:
            return self.rx_amount
        if offset == TXD_AMOUNT:
            return self.tx_amount
        if offset == ERRORSRC:
            return self.errorsrc
        return super().read(offset)

    def write(self, offset: int, value: int) -> None:
        self._catch_up()
        tasks = {TASKS_STARTTX: self._start_tx, TASKS_STOPTX: self._stop_tx}
        tasks |= {TASKS_STARTRX: self._start_rx, TASKS_STOPRX: self._stop_rx}
        if offset in tasks:
            if value & 1:
                tasks[offset]()
        elif offset == ERRORSRC:
            self.errorsrc &= ~value
        elif offset in self.read_only:
            self.unhandled_write(offset, value)
        else:
            if offset in (RXD_MAXCNT, TXD_MAXCNT):
                value &= 0xFFFF
            if offset == SHORTS and value & ~(SHORT_ENDRX_STARTRX | SHORT_ENDRX_STOPRX):
                self.host.warn(f"uart0: SHORTS 0x{value:X} has bits the nRF52840's UARTE does not have")
            super().write(offset, value)
        self._reschedule()

    # --- transmitter ---

    def _start_tx(self) -> None:
        if self._tx_sent < len(self._tx):
            self.host.warn("uart0: STARTTX while a transmission is under way: ignored")
            return
        self.regs[EVENTS_TXSTARTED] = 1
        count = self.regs[TXD_MAXCNT]
        self._tx = self.host.dma_read(self.regs[TXD_PTR], count) if count else b""
        self._tx_start, self._tx_sent, self._tx_stopping = self.host.now(), 0, False
        self.tx_amount = 0
        if not count:
            self.regs[EVENTS_ENDTX] = 1

    def _stop_tx(self) -> None:
        if self._tx_sent == len(self._tx):
            self.regs[EVENTS_TXSTOPPED] = 1
            return
        # the byte on the wire finishes; the rest of the buffer is not sent
        self._tx = self._tx[: self._tx_sent + 1]
        self._tx_stopping = True

    def _send_byte(self) -> None:
        byte = self._tx[self._tx_sent : self._tx_sent + 1]
        self._tx_sent += 1
        self.tx_amount = self._tx_sent
        self.regs[EVENTS_TXDRDY] = 1
        self._on_tx(byte, self._byte_end(self._tx_start, self._tx_sent))
        if self._tx_sent == len(self._tx):
            self.regs[EVENTS_ENDTX] = 1
            if self._tx_stopping:
                self.regs[EVENTS_TXSTOPPED] = 1

    # --- receiver ---

    def feed(self, data: bytes) -> None:
        """Bytes the host writes now: they follow the bytes already on the wire, at the baud rate."""
        self._catch_up()
        now = self.host.now()
        start = max(now, self._wire[-1][0]) if self._wire else now
        self._wire.extend((self._byte_end(start, k + 1), byte) for k, byte in enumerate(data))
        self._reschedule()

    @property
    def rx_pending(self) -> int:
        """Host bytes written but not yet received (still on the wire)."""
        return len(self._wire)

    def _start_rx(self) -> None:
        self.regs[EVENTS_RXSTARTED] = 1
        self.rx_running = True
        self._rx_ptr, self._rx_maxcnt, self.rx_amount = self.regs[RXD_PTR], self.regs[RXD_MAXCNT], 0
        while self.rx_fifo and self.rx_amount < self._rx_maxcnt:
            self._store(bytes([self.rx_fifo.popleft()]))

    def _stop_rx(self) -> None:
        if self.rx_running and self.rx_amount < self._rx_maxcnt:
            self.regs[EVENTS_ENDRX] = 1
            self._rx_maxcnt = self.rx_amount  # the buffer is closed
        self.rx_running = False
        self.regs[EVENTS_RXTO] = 1

    def _receive(self, data: bytes) -> None:
        """Bytes completed on the line, in order: into the buffer while it has room, then the FIFO."""
        while data and self.rx_running and self.regs[ENABLE] == ENABLE_UARTE:  # else not sampled
            self.regs[EVENTS_RXDRDY] = 1
            room = self._rx_maxcnt - self.rx_amount
            if room > 0:
                self._store(data[:room])
                data = data[room:]
                continue
            if len(self.rx_fifo) < RX_FIFO_BYTES:
                self.rx_fifo.append(data[0])
            else:
                self.rx_fifo[-1] = data[0]
                self.errorsrc |= ERRORSRC_OVERRUN
                self.regs[EVENTS_ERROR] = 1
                self.overruns += 1
            data = data[1:]

    def _store(self, data: bytes) -> None:
        self.host.dma_write(self._rx_ptr + self.rx_amount, data)
        self.rx_amount += len(data)
        if self.rx_amount == self._rx_maxcnt:
            self.regs[EVENTS_ENDRX] = 1
            shorts = self.regs[SHORTS]
            if shorts & SHORT_ENDRX_STARTRX:
                self._start_rx()
            if shorts & SHORT_ENDRX_STOPRX:
                self._stop_rx()
