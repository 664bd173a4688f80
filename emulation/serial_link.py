"""The host side of the firmware's UART protocol (contract 5) over a serial port.

Works on any pyserial-like port (``read(n)`` honouring the port's timeout, ``write``,
``reset_input_buffer``): a board's J-Link virtual COM port, or the emulated board's
pseudo-terminal (emulation/emulated_board.py).

The firmware receives commands one byte per EasyDMA transfer and re-arms the receiver in
software (uarte.c: Renode models no SHORTS), so bytes that arrive while it computes are held only
by the UARTE's 5-byte RX FIFO; more are lost (the firmware then answers ``error
reason=rx-overrun``). Two rules follow, both configurable:

- Commands in stream mode are read between PDM blocks, after each inference (up to ~150 ms for
  the float32 model): they are sent with a pause after every byte (``byte_gap_s``) and retried,
  slower, when no ``ok`` comes back. Only commands that may safely run twice are retried.
- ``clip uart`` audio: the firmware takes it in double-buffered 64-byte transfers and keeps up
  with the wire, so ``chunk_gap_s=None`` sends it at once. A number sends it in 64-byte chunks,
  each followed by its time on the wire plus that pause: a margin kept for hardware.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from emulation.errors import EmulationError
from emulation.protocol import parse_line

CHUNK_BYTES = 64  # 32 s16le samples: what the firmware reads per EasyDMA round (app/clip.c)
BITS_PER_BYTE = 10  # 8N1: start bit, 8 data bits, stop bit
RETRY_SLOWDOWN = 10  # a retried command goes out this many times slower
IDEMPOTENT = ("mode clip", "mode stream")


class SerialPort(Protocol):
    """The part of pyserial's ``Serial`` the link uses."""

    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes) -> int | None: ...
    def reset_input_buffer(self) -> None: ...


class LinkTimeout(EmulationError):
    """The firmware did not print the expected line in time."""


@dataclass
class Received:
    """One line from the firmware and the host's monotonic clock when it was complete."""

    text: str
    at: float


@dataclass
class FirmwareLink:
    """Lines in, commands and clip audio out, for one firmware on one serial port.

    ``name`` says where the port leads, for error messages. ``pace``: pause as the module
    docstring says (a real UART, or the emulated board, whose UARTE is as strict); without it
    bytes go out at once (a scripted port in tests). ``describe``
    (optional) adds what the other side knows when a wait times out (the emulated board's fault).
    """

    port: SerialPort
    name: str
    baud: int
    pace: bool = True
    byte_gap_s: float = 0.02
    chunk_gap_s: float | None = 0.002
    describe: Callable[[], str] | None = None
    received: list[Received] = field(default_factory=list, init=False)
    _cursor: int = field(default=0, init=False)
    _partial: bytearray = field(default_factory=bytearray, init=False)

    # --- reading ---

    def forget(self) -> None:
        """Drop what the port holds and what was not yet looked at (before a reset)."""
        self.port.reset_input_buffer()
        self._partial.clear()
        self._cursor = len(self.received)

    def _read_more(self, deadline: float) -> None:
        """Read what arrives before ``deadline`` until at least one more line is complete."""
        while time.monotonic() < deadline:
            self.port.timeout = max(0.001, min(0.1, deadline - time.monotonic()))
            data = self.port.read(4096)
            if not data:
                continue
            self._partial += data
            if b"\n" in self._partial:
                *complete, rest = self._partial.split(b"\n")
                self._partial = bytearray(rest)
                now = time.monotonic()
                self.received += [Received(raw.decode("latin-1").rstrip("\r"), now) for raw in complete]
                return

    def next_line(self, timeout_s: float) -> str | None:
        """The next line not looked at yet, or None after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while self._cursor == len(self.received):
            if time.monotonic() >= deadline:
                return None
            self._read_more(deadline)
        line = self.received[self._cursor].text
        self._cursor += 1
        return line

    def wait_for(self, pattern: str | re.Pattern[str], timeout_s: float, what: str | None = None) -> str:
        """The next line matching ``pattern`` (regex search); LinkTimeout after ``timeout_s``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        while (line := self.next_line(max(0.0, deadline - time.monotonic()))) is not None:
            if regex.search(line):
                return line
        raise LinkTimeout(self._timeout_message(what or f"a line matching {regex.pattern!r}", timeout_s))

    def _timeout_message(self, what: str, timeout_s: float) -> str:
        tail = " | ".join(r.text for r in self.received[-3:]) or "nothing received"
        other_side = self.describe() if self.describe is not None else ""
        extra = f"; {other_side}" if other_side else ""
        return f"{self.name}: no {what} within {timeout_s:g} s (last lines: {tail}){extra}"

    # --- writing ---

    def _send_paced(self, data: bytes, gap_s: float) -> None:
        if not self.pace:
            self.port.write(data)
            return
        for i in range(len(data)):
            self.port.write(data[i : i + 1])
            time.sleep(gap_s)

    def command(self, text: str, timeout_s: float = 3.0) -> str:
        """Send a command and return the firmware's ``ok`` line (``profile``: its last line).

        ``error`` lines name the reason; commands that may run twice are retried once, slower.
        """
        words = text.split()
        if text == "profile":
            expect = r"^profile stage=stack "
        else:
            expect = rf"^ok cmd={re.escape(words[0])}" + (rf" arg={re.escape(words[1])}\b" if len(words) > 1 else "")
        attempts = (self.byte_gap_s, self.byte_gap_s * RETRY_SLOWDOWN) if text in IDEMPOTENT else (self.byte_gap_s,)
        errors: list[str] = []
        for gap in attempts:
            # a leading CR ends whatever partial line an earlier attempt left behind
            self._send_paced(b"\r" + text.encode() + b"\r", gap)
            deadline = time.monotonic() + timeout_s
            while (line := self.next_line(max(0.0, deadline - time.monotonic()))) is not None:
                if re.search(expect, line):
                    return line
                if line.startswith("error "):
                    errors.append(line)
        said = f" (it said: {' | '.join(errors)})" if errors else ""
        raise LinkTimeout(self._timeout_message(f"reply to {text!r}{said}", timeout_s))

    def classify(self, pcm: bytes, timeout_s: float = 30.0) -> str:
        """The ``result`` line for one clip sent over the UART (``clip uart``), in clip mode."""
        self.command("clip uart")
        if self.pace and self.chunk_gap_s is not None:
            chunk_s = CHUNK_BYTES * BITS_PER_BYTE / self.baud + self.chunk_gap_s
            start = time.monotonic()
            for n, offset in enumerate(range(0, len(pcm), CHUNK_BYTES)):
                self.port.write(pcm[offset : offset + CHUNK_BYTES])
                # against the clock, so that sleeping late does not add up
                time.sleep(max(0.0, start + (n + 1) * chunk_s - time.monotonic()))
        else:
            self.port.write(pcm)
        try:
            line = self.wait_for(r"^(result|error) ", timeout_s, "result line")
        except LinkTimeout as exc:
            raise LinkTimeout(
                f"{exc} -- if bytes were lost on the way (error reason=rx-overrun), pause between audio "
                f"chunks (KWS_BOARD_CHUNK_GAP_MS, now {self._chunk_gap_text()})"
            ) from None
        if line.startswith("error "):
            raise LinkTimeout(f"{self.name}: the clip was not classified: {line}")
        return line

    def _chunk_gap_text(self) -> str:
        return "unpaced" if self.chunk_gap_s is None or not self.pace else f"{self.chunk_gap_s * 1000:g} ms"

    def profile(self, timeout_s: float = 3.0) -> dict[str, dict[str, str]]:
        """The ``profile`` command's report: fields by stage (pre, inf, post, stack)."""
        self.command("profile", timeout_s)
        stages = {}
        for received in reversed(self.received[: self._cursor]):
            try:
                record, fields = parse_line(received.text)
            except ValueError:
                break
            if record != "profile" or fields.get("stage") in stages:
                break
            stages[fields["stage"]] = fields
        return dict(reversed(stages.items()))
