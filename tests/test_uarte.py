"""UARTE0's time on the wire (emulation/peripherals/uarte.py), on the peripheral itself and in the
machine: TX events after n x 10 / baud, RX at the wire's pace, the RX FIFO's overrun in ERRORSRC,
the ENDRX_STARTRX shortcut, the BAUDRATE table."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import test_emulation_unicorn as unicorn_tests

from emulation.peripherals import uarte as u
from emulation.unicorn_backend import CPU_HZ, Machine

BAUD_115200 = 0x01D60000  # the UARTE table's value: 115108 bit/s
RAM = 0x20000000
firmware = unicorn_tests.firmware  # the test firmwares (session fixture)


class Host:
    """The machine as the peripheral sees it: a clock the test moves, RAM, warnings, schedule."""

    def __init__(self) -> None:
        self.t = 0
        self.ram = bytearray(4096)
        self.warnings: list[str] = []
        self.scheduled: list[int] = []

    def now(self) -> int:
        return self.t

    def dma_read(self, address: int, size: int) -> bytes:
        return bytes(self.ram[address - RAM : address - RAM + size])

    def dma_write(self, address: int, data: bytes) -> None:
        self.ram[address - RAM : address - RAM + len(data)] = data

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def schedule(self, at: int) -> None:
        self.scheduled.append(at)


def byte_end(start: int, k: int, rate: int = 115108) -> int:
    """The independent computation: k bytes of 10 bits at `rate`, in CPU cycles, rounded up."""
    return start + math.ceil(k * 10 * CPU_HZ / rate)


def uarte(host: Host, sent: list[tuple[bytes, int]] | None = None) -> u.Uarte:
    port = u.Uarte(host, lambda data, at: (sent if sent is not None else []).append((data, at)), CPU_HZ)
    port.write(u.BAUDRATE, BAUD_115200)
    port.write(u.ENABLE, u.ENABLE_UARTE)
    return port


def run_until(host: Host, port: u.Uarte, t: int) -> None:
    """Let virtual time reach `t`, firing the peripheral at every instant it asked for, as the machine does."""
    while (at := port.next_fire) is not None and at <= t:
        host.t = max(host.t, at)
        port.fire()
    host.t = t


@pytest.mark.parametrize("n", [1, 7, 200])
def test_tx_ends_after_n_byte_times(n: int) -> None:
    host, sent = Host(), []
    port = uarte(host, sent)
    host.ram[:n] = bytes(range(n))
    host.t = 1000
    port.write(u.TXD_PTR, RAM)
    port.write(u.TXD_MAXCNT, n)
    port.write(u.TASKS_STARTTX, 1)
    assert port.read(u.EVENTS_TXSTARTED) == 1 and port.read(u.EVENTS_ENDTX) == 0
    run_until(host, port, byte_end(1000, n) - 1)
    assert port.read(u.EVENTS_ENDTX) == 0 and port.read(u.TXD_AMOUNT) == n - 1
    run_until(host, port, byte_end(1000, n))
    assert port.read(u.EVENTS_ENDTX) == 1 and port.read(u.TXD_AMOUNT) == n
    assert port.read(u.EVENTS_TXSTOPPED) == 0  # only STOPTX stops the transmitter
    assert b"".join(data for data, _ in sent) == bytes(range(n))
    assert [at for _, at in sent] == [byte_end(1000, k) for k in range(1, n + 1)]


def test_stoptx_lets_the_byte_on_the_wire_finish() -> None:
    host, sent = Host(), []
    port = uarte(host, sent)
    port.write(u.TXD_PTR, RAM)
    port.write(u.TXD_MAXCNT, 10)
    port.write(u.TASKS_STARTTX, 1)
    host.t = byte_end(0, 2) + 1  # two bytes out, the third on the wire
    port.write(u.TASKS_STOPTX, 1)
    assert port.read(u.EVENTS_TXSTOPPED) == 0
    run_until(host, port, byte_end(0, 10))
    assert (port.read(u.EVENTS_ENDTX), port.read(u.EVENTS_TXSTOPPED), port.read(u.TXD_AMOUNT)) == (1, 1, 3)
    assert len(sent) == 3 and sent[-1][1] == byte_end(0, 3)


def arm(port: u.Uarte, offset: int, maxcnt: int) -> None:
    port.write(u.RXD_PTR, RAM + offset)
    port.write(u.RXD_MAXCNT, maxcnt)
    port.write(u.EVENTS_ENDRX, 0)
    port.write(u.TASKS_STARTRX, 1)


def test_rx_bytes_arrive_at_the_wire_pace() -> None:
    host = Host()
    port = uarte(host)
    arm(port, 0, 4)
    host.t = 500
    port.feed(b"abcd")
    assert port.next_fire == byte_end(500, 1)  # RXDRDY of the first byte
    run_until(host, port, byte_end(500, 4) - 1)
    assert port.read(u.EVENTS_ENDRX) == 0 and port.read(u.RXD_AMOUNT) == 3
    run_until(host, port, byte_end(500, 4))
    assert port.read(u.EVENTS_ENDRX) == 1 and bytes(host.ram[:4]) == b"abcd"
    port.feed(b"e")  # written later: it starts when written, not back to back with the earlier ones
    assert port.rx_pending == 1 and port._wire[0][0] == byte_end(host.t, 1)


def test_bytes_without_a_buffer_fill_the_fifo_then_overrun() -> None:
    host = Host()
    port = uarte(host)
    arm(port, 0, 1)
    data = bytes(range(1, 1 + 1 + u.RX_FIFO_BYTES + 2))  # 1 to RAM, 5 to the FIFO, 2 overruns
    port.feed(data)
    run_until(host, port, byte_end(0, 1 + u.RX_FIFO_BYTES))
    assert port.read(u.EVENTS_ERROR) == 0 and port.read(u.ERRORSRC) == 0
    run_until(host, port, byte_end(0, len(data)))
    assert port.read(u.EVENTS_ERROR) == 1 and port.read(u.ERRORSRC) == u.ERRORSRC_OVERRUN
    assert port.overruns == 2
    port.write(u.ERRORSRC, u.ERRORSRC_OVERRUN)  # write 1 to clear
    assert port.read(u.ERRORSRC) == 0
    arm(port, 16, 16)  # the FIFO moves into the new buffer first; its newest byte was overwritten
    assert port.read(u.RXD_AMOUNT) == u.RX_FIFO_BYTES
    assert bytes(host.ram[16 : 16 + u.RX_FIFO_BYTES]) == bytes([2, 3, 4, 5, data[-1]])


def test_a_stopped_receiver_ignores_the_line() -> None:
    host = Host()
    port = uarte(host)
    port.feed(b"xy")
    run_until(host, port, byte_end(0, 2))
    arm(port, 0, 2)
    assert port.read(u.RXD_AMOUNT) == 0 and port.overruns == 0 and port.rx_pending == 0


def test_endrx_startrx_shortcut_restarts_at_the_latched_pointer() -> None:
    host = Host()
    port = uarte(host)
    port.write(u.SHORTS, u.SHORT_ENDRX_STARTRX)
    arm(port, 0, 2)
    port.write(u.RXD_PTR, RAM + 8)  # double-buffered: the next STARTRX (the short's) takes them
    port.write(u.RXD_MAXCNT, 4)
    port.feed(b"12345")
    run_until(host, port, byte_end(0, 5))
    assert port.read(u.RXD_AMOUNT) == 3 and port.overruns == 0  # a register access brings RAM up to date
    assert bytes(host.ram[:2]) == b"12" and bytes(host.ram[8:11]) == b"345"


def test_baudrate_table_and_unknown_values() -> None:
    host = Host()
    port = uarte(host)
    assert port._byte_end(0, 1) == byte_end(0, 1)
    port.write(u.BAUDRATE, 0x10000000)
    assert port._byte_end(0, 100) == 100 * 10 * CPU_HZ // 1_000_000
    port.write(u.BAUDRATE, 0x01D7E000)  # the legacy UART's 115200 value
    assert port._byte_end(0, 1) == math.ceil(10 * CPU_HZ / round(0x01D7E000 * 16e6 / 2**32))
    assert any("0x01D7E000 is not in the UARTE table" in w for w in host.warnings)


def test_machine_lines_are_seen_when_their_last_byte_left(firmware: Path) -> None:
    """The self-test firmware (BAUDRATE left at its reset value, 250000) echoes a line: the echo
    cannot come before the input and the reply have crossed the wire, and skip-ahead changes nothing."""
    runs = []
    for skip in (True, False):
        m = Machine(firmware / "selftest.elf", skip_ahead=skip)
        m.run(until_line="^ready$")
        fed_at = m.instructions
        m.write_uart(b"eHello\n")
        result = m.run(until_line="^echo=", max_instructions=5_000_000)
        runs.append((result.lines, result.line_times, result.instructions))
        m.close()
    assert runs[0] == runs[1]
    (_, (echo_t,), _) = runs[0]
    wire = len(b"eHello\n") + len(b"echo=Hello\n")
    assert echo_t * CPU_HZ >= fed_at + wire * 10 * CPU_HZ / 250_000
