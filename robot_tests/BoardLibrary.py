"""Keywords that drive one nRF52840-DK: flash it, reset it, send it commands and clips over the UART.

The board is the one the environment names (emulation/board.py: KWS_BOARD_PORT and friends);
``KWS_BOARD_PORT=emulated`` puts the Unicorn backend behind a pseudo-terminal instead, so the
board suites can be tried without hardware. What the answers must be is KwsLibrary's business.
"""

from __future__ import annotations

from pathlib import Path

from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn
from robot.utils import DotDict

from emulation.board import NOT_CONFIGURED, Board, BoardConfig, BoardError, open_board
from emulation.protocol import parse_line
from emulation.serial_link import LinkTimeout
from model import config


@library(scope="SUITE", auto_keywords=False)
class BoardLibrary:
    """One board for the suite: opened in Suite Setup, closed in Suite Teardown."""

    def __init__(self) -> None:
        self._board: Board | None = None

    def _open(self) -> Board:
        if self._board is None:
            raise AssertionError("the board is not open (Suite Setup: Open The Board)")
        return self._board

    @keyword
    def open_the_board(self) -> None:
        """Opens the configured board's serial port; skips the suite when no board is configured."""
        try:
            board_config = BoardConfig.from_env()
        except BoardError as exc:
            raise AssertionError(str(exc)) from None
        if board_config is None:
            BuiltIn().skip(NOT_CONFIGURED)
        try:
            self._board = open_board(board_config, config.UART_BAUD)
        except BoardError as exc:
            raise AssertionError(str(exc)) from None
        logger.info(f"board on {board_config.port}" + (f", probe {board_config.probe}" if board_config.probe else ""))

    @keyword
    def close_the_board(self) -> None:
        """Closes the serial port (and stops the emulated board)."""
        if self._board is not None:
            self._board.close()
            self._board = None

    @keyword
    def flash_the_board_with(self, elf: str) -> str:
        """Programs ``elf`` (pyocd load) and returns the boot line it prints from reset."""
        return self._call(lambda board: board.flash(Path(elf)))

    @keyword
    def reset_the_board(self) -> str:
        """Resets the board (pyocd reset) and returns its boot line."""
        return self._call(lambda board: board.reset())

    @keyword("Switch The Firmware To ${mode} Mode")
    def switch_mode(self, mode: str) -> str:
        """``mode clip`` or ``mode stream``; returns the ok line."""
        return self._call(lambda board: board.link.command(f"mode {mode.lower()}"))

    @keyword
    def classify_over_the_uart(self, clip: DotDict) -> str:
        """The result line for ``clip.file`` (s16le) sent with ``clip uart``, in clip mode."""
        pcm = Path(clip.file).read_bytes()
        return self._call(lambda board: board.link.classify(pcm))

    @keyword
    def line_from_the_board(self, pattern: str, timeout: float) -> str:
        """The next line from the board matching ``pattern`` (regex search) within ``timeout`` s."""
        return self._call(lambda board: board.link.wait_for(pattern, float(timeout)))

    @keyword
    def the_emulator_should_not_have_warned(self) -> None:
        """On the emulated board, no emulator warning since the last flash or reset (as the
        emulator suites assert); on silicon there is no emulator and nothing to check."""
        warnings = self._open().emulator_warnings()
        if warnings is None:
            logger.info("a board, not an emulator: no emulator warnings to check")
        elif warnings:
            listed = "\n".join(f"  {w}" for w in warnings)
            raise AssertionError(f"{len(warnings)} emulator warnings on the emulated board:\n{listed}")

    @keyword
    def log_cycles_next_to_the_emulated_budget(self, budget: DotDict, boot: str, *lines: str) -> None:
        """Logs each stage's worst case in the board's DWT cycles next to its budget in modelled
        cycles (resources/budgets.py): how far silicon departs from the emulator's cycle model."""
        stride = int(parse_line(boot)[1].get("stride", 1))
        for line in lines:
            fields = parse_line(line)[1]
            stage, worst = fields["stage"], int(fields["max"])
            per = stride if stage == "pre" else 1
            logger.info(
                f"{stage}: worst {worst:,} cycles on the board, budget {budget[stage] * per:,} modelled "
                f"cycles ({worst / (budget[stage] * per):.2f}x)"
            )

    def _call(self, action):
        board = self._open()
        try:
            return action(board)
        except (BoardError, LinkTimeout) as exc:
            raise AssertionError(str(exc)) from None
