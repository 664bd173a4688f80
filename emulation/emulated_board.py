"""The Unicorn backend behind a pseudo-terminal: a board that pyserial, the serial link and the
board suite drive exactly as they drive an nRF52840-DK, without hardware.

``flash`` and ``reset`` stand in for pyocd's: a fresh machine boots the ELF. The machine runs in
a thread, in slices of virtual time kept no further ahead of the wall clock than real time
(as on silicon; when emulation is slower, virtual time lags). Host bytes enter UARTE0's wire between
slices and reach the firmware at the baud rate; while some are still on the wire (a clip written
at once) the board runs on without waiting for the wall clock, and its clock then jumps ahead by
the lead: the host only waits, and the firmware sees every byte at its wire time all the same.
Lines leave on the pseudo-terminal as they are printed. The microphone hears
silence (zeros on the PDM, as Renode's PDM without an input file).
"""

from __future__ import annotations

import errno
import os
import pty
import select
import threading
import time
import tty
from pathlib import Path

from emulation.errors import EmulationFault
from emulation.unicorn_backend import Machine

SLICE_S = 0.02  # virtual seconds per run: host bytes wait at most this long (1.28 M instructions)
OUT_LIMIT = 1 << 20  # bytes kept for a host that does not read; older output is dropped, as a UART would


class EmulatedBoard:
    """One emulated nRF52840 on a pseudo-terminal (``port_name``); close() when done."""

    def __init__(self) -> None:
        self._master, self._slave = pty.openpty()  # our slave fd keeps the master readable when no host is open
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.port_name = os.ttyname(self._slave)
        self._lock = threading.Lock()
        self._elf: Path | None = None
        self._machine: Machine | None = None
        self._fault: str | None = None
        self._sent = 0
        self._started = 0.0
        self._out = bytearray()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="emulated-board", daemon=True)
        self._thread.start()

    # --- what pyocd does to a board ---

    def flash(self, elf: Path) -> None:
        """Program ``elf``, then reset: it runs from reset."""
        if not Path(elf).is_file():
            raise FileNotFoundError(f"{elf}: no such ELF to flash")
        self._elf = Path(elf)
        self.reset()

    def reset(self) -> None:
        """A fresh machine boots the programmed ELF (RAM is not kept, as after a power cycle)."""
        if self._elf is None:
            raise RuntimeError("the emulated board has no firmware: flash one first")
        machine = Machine(self._elf)
        with self._lock:
            if self._machine is not None:
                self._machine.close()
            self._machine, self._fault, self._sent = machine, None, 0
            self._started = time.monotonic()

    def emulator_warnings(self) -> list[str]:
        """What the machine warned about since the last flash or reset (it runs in strict mode:
        refused accesses stop it, the rest are warnings)."""
        with self._lock:
            return list(self._machine.warnings) if self._machine is not None else []

    def describe(self) -> str:
        """What went wrong on the board side, for the host's timeout messages ('' when nothing)."""
        with self._lock:
            if self._fault is not None:
                return f"the emulated board stopped: {self._fault}"
            if self._machine is None:
                return "the emulated board has no firmware"
            return ""

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=5)
        with self._lock:
            if self._machine is not None:
                self._machine.close()
                self._machine = None
        for fd in (self._master, self._slave):
            os.close(fd)

    # --- the board's life ---

    def _loop(self) -> None:
        while not self._closing.is_set():
            with self._lock:
                machine = self._machine if self._fault is None else None
                ahead = machine.virtual_s - (time.monotonic() - self._started) if machine is not None else SLICE_S
                if machine is not None and machine.uarte.rx_pending:
                    ahead = 0.0  # host bytes on the wire: run on (see the module docstring)
            pending = [self._master] if self._out else []
            readable, writable, _ = select.select([self._master], pending, [], max(0.0, min(ahead, SLICE_S)))
            if readable:
                data = self._read_host()
                if data and machine is not None:
                    with self._lock:
                        if machine is self._machine:
                            machine.write_uart(data)
            if writable:
                self._flush()
            if machine is not None and ahead <= 0:
                self._run_slice(machine)

    def _read_host(self) -> bytes:
        try:
            return os.read(self._master, 4096)
        except OSError as exc:  # EIO: no host has the port open (cannot happen while we hold the slave)
            if exc.errno not in (errno.EIO, errno.EAGAIN):
                raise
            return b""

    def _run_slice(self, machine: Machine) -> None:
        with self._lock:
            if machine is not self._machine:
                return
            wire_busy = machine.uarte.rx_pending > 0
            try:
                machine.run(max_seconds_virtual=SLICE_S)
            except EmulationFault as fault:
                self._fault = str(fault)
            except Exception as exc:  # a halted CPU etc.: the board stops, and the host is told why
                self._fault = f"{type(exc).__name__}: {exc}"
            new = machine.lines[self._sent :]
            self._sent = len(machine.lines)
            lead = machine.virtual_s - (time.monotonic() - self._started)
            if wire_busy and lead > 0:
                self._started -= lead
        if new:
            self._out += "".join(line + "\r\n" for line in new).encode("latin-1")
            del self._out[: max(0, len(self._out) - OUT_LIMIT)]
            self._flush()

    def _flush(self) -> None:
        try:
            written = os.write(self._master, self._out)
        except BlockingIOError:
            return
        del self._out[:written]
