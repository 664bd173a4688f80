"""An nRF52840-DK on the desk: flashed with pyocd, talked to over its J-Link VCOM with pyserial.

Configured by environment variables (tox passes ``KWS_*`` through):

- ``KWS_BOARD_PORT``: the serial port of the board's J-Link virtual COM port (``/dev/ttyACM0``),
  or ``emulated`` for a dry run on the Unicorn backend behind a pseudo-terminal. Unset: no board.
- ``KWS_BOARD_PROBE``: pyocd's probe unique ID (``pyocd list``); unset, pyocd takes the only one.
- ``KWS_BOARD_TARGET``: pyocd's target type (default ``nrf52840``).
- ``KWS_BOARD_PYOCD``: the pyocd command (default ``python -m pyocd`` of this interpreter).
- ``KWS_BOARD_BYTE_GAP_MS``, ``KWS_BOARD_CHUNK_GAP_MS``: UART pacing of a real board (default 20
  and 2; emulation/serial_link.py says why). The emulated board paces commands the same way
  and sends clips at once.

The nRF52840-DK's on-board debugger is a J-Link: pyocd drives it through SEGGER's J-Link
software (``libjlinkarm``), which must be installed on the host.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from emulation.errors import EmulationError
from emulation.serial_link import FirmwareLink

EMULATED = "emulated"
NOT_CONFIGURED = (
    "no board configured: set KWS_BOARD_PORT to the nRF52840-DK's J-Link VCOM (e.g. /dev/ttyACM0), "
    f"or to {EMULATED!r} for a dry run on the Unicorn backend"
)
BOOT_TIMEOUT_S = 5.0  # reset to `boot` line: the firmware times one inference first (float32: ~0.2 s)
PYOCD_TIMEOUT_S = 120.0


class BoardError(EmulationError):
    """The board cannot be used as configured (bad setting, no probe, port will not open...)."""


@dataclass(frozen=True)
class BoardConfig:
    """Where the board is and how to talk to it (see the module docstring)."""

    port: str
    probe: str | None = None
    target: str = "nrf52840"
    pyocd: tuple[str, ...] = (sys.executable, "-m", "pyocd")
    byte_gap_s: float = 0.02
    chunk_gap_s: float = 0.002

    @property
    def emulated(self) -> bool:
        return self.port == EMULATED

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> BoardConfig | None:
        """The configured board, or None when KWS_BOARD_PORT is unset; BoardError on a bad value."""
        port = env.get("KWS_BOARD_PORT", "").strip()
        if not port:
            return None
        gaps = {}
        for name, attr in (("KWS_BOARD_BYTE_GAP_MS", "byte_gap_s"), ("KWS_BOARD_CHUNK_GAP_MS", "chunk_gap_s")):
            text = env.get(name)
            if text is None:
                continue
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if not 0 <= value <= 1000:
                raise BoardError(f"{name}={text!r}: expected milliseconds between 0 and 1000")
            gaps[attr] = value / 1000
        pyocd = tuple(shlex.split(env["KWS_BOARD_PYOCD"])) if env.get("KWS_BOARD_PYOCD") else cls.pyocd
        if not pyocd:
            raise BoardError("KWS_BOARD_PYOCD is empty: give the pyocd command, or unset it")
        return cls(
            port=port,
            probe=env.get("KWS_BOARD_PROBE") or None,
            target=env.get("KWS_BOARD_TARGET") or cls.target,
            pyocd=pyocd,
            **gaps,
        )


class Flasher(Protocol):
    """Programs the board and resets it; after either the firmware runs from reset."""

    def flash(self, elf: Path) -> None: ...
    def reset(self) -> None: ...
    def emulator_warnings(self) -> list[str] | None:
        """What an emulated board's emulator warned about since the last flash or reset; None for silicon."""
        ...


class PyocdFlasher:
    """pyocd's command line: ``load`` (programs, then resets and runs) and ``reset``."""

    def __init__(self, config: BoardConfig) -> None:
        self.config = config

    def command(self, verb: str, *args: str) -> list[str]:
        """A pyocd command line; ``-W``: fail at once when no probe is connected (pyocd waits otherwise)."""
        probe = ["--uid", self.config.probe] if self.config.probe else []
        return [*self.config.pyocd, verb, "--target", self.config.target, "-W", *probe, *args]

    def _run(self, verb: str, *args: str) -> None:
        command = self.command(verb, *args)
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=PYOCD_TIMEOUT_S, check=False)
        except FileNotFoundError:
            raise BoardError(f"{command[0]}: not found (install pyocd, or set KWS_BOARD_PYOCD)") from None
        except subprocess.TimeoutExpired:
            raise BoardError(f"pyocd {verb} did not finish within {PYOCD_TIMEOUT_S:g} s") from None
        if proc.returncode != 0:
            said = [line for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
            raise BoardError(f"pyocd {verb} failed (exit {proc.returncode}): {said[-1] if said else 'no output'}")

    def flash(self, elf: Path) -> None:
        self._run("load", "--format", "elf", str(elf))

    def reset(self) -> None:
        self._run("reset")

    def emulator_warnings(self) -> None:
        return None  # silicon: no emulator


class Board:
    """A flasher and the firmware's serial link: what the board keywords drive."""

    def __init__(self, link: FirmwareLink, flasher: Flasher, close: tuple[Callable[[], None], ...] = ()) -> None:
        self.link = link
        self.flasher = flasher
        self._close = close

    def flash(self, elf: Path) -> str:
        """Program ``elf`` and return the ``boot`` line it prints from reset."""
        self.link.forget()
        self.flasher.flash(Path(elf))
        return self.link.wait_for(r"^boot ", BOOT_TIMEOUT_S, "boot line after flashing")

    def reset(self) -> str:
        """Reset the board and return its ``boot`` line."""
        self.link.forget()
        self.flasher.reset()
        return self.link.wait_for(r"^boot ", BOOT_TIMEOUT_S, "boot line after a reset")

    def emulator_warnings(self) -> list[str] | None:
        """The emulator's warnings since the last flash or reset (an emulated board), or None (silicon)."""
        return self.flasher.emulator_warnings()

    def close(self) -> None:
        for close in self._close:
            close()


def open_board(config: BoardConfig, baud: int) -> Board:
    """Open the configured board's serial port (and, for ``emulated``, start the emulated board)."""
    import serial

    if config.emulated:
        from emulation.emulated_board import EmulatedBoard

        emulated = EmulatedBoard()
        port = serial.Serial(emulated.port_name, baud, timeout=0.1)
        # commands paced as on a DK (its UARTE loses bytes as the chip does); clips at wire speed
        link = FirmwareLink(port, "emulated board", baud, pace=True, chunk_gap_s=None, describe=emulated.describe)
        return Board(link, emulated, close=(port.close, emulated.close))
    try:
        port = serial.Serial(config.port, baud, timeout=0.1)
    except (serial.SerialException, ValueError) as exc:
        raise BoardError(f"{config.port}: cannot open the board's serial port: {exc}") from None
    link = FirmwareLink(port, config.port, baud, True, config.byte_gap_s, config.chunk_gap_s)
    return Board(link, PyocdFlasher(config), close=(port.close,))
