"""The emulated board: the real int8 firmware in the Unicorn backend behind a pseudo-terminal,
driven through pyserial by the same client a physical nRF52840-DK gets (emulation/board.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_emulation_firmware as firmware_tests

from emulation.board import EMULATED, Board, BoardConfig, open_board
from emulation.clip import run_clip
from emulation.emulated_board import EmulatedBoard
from emulation.protocol import parse_line
from emulation.serial_link import LinkTimeout
from model import config

pytest.importorskip("serial")


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return firmware_tests.build(tmp_path_factory, "int8", "cortex_m4")


@pytest.fixture(scope="module")
def board(elf: Path):
    board = open_board(BoardConfig(port=EMULATED), config.UART_BAUD)
    yield board
    board.close()


@pytest.fixture(scope="module")
def boot(board: Board, elf: Path) -> str:
    return board.flash(elf)


def test_flashing_boots_the_firmware(boot: str) -> None:
    record, fields = parse_line(boot)
    assert record == "boot"
    assert (fields["variant"], fields["kernels"], fields["mode"]) == ("int8-cortex_m4", "cortex_m4", "stream")


def test_clips_over_the_uart_equal_clips_through_the_pdm(board: Board, elf: Path, boot: str) -> None:
    """Edge cases (silence, clipping, 1 LSB, short clips...) sent as `clip uart` over the
    pseudo-terminal give the model input (checksum) and scores of the same clip on the PDM."""
    board.link.command("mode clip")
    for name, pcm in firmware_tests.corpus_clips():
        data = pcm.astype("<i2").tobytes()
        over_uart = parse_line(board.link.classify(data))[1]
        through_pdm = run_clip(elf, data).result
        for key in ("checksum", "scores", "label"):
            assert over_uart[key] == through_pdm[key], f"{name}: {key}"


def test_profile_and_unknown_commands(board: Board, boot: str) -> None:
    stages = board.link.profile()
    assert {"inf", "stack"} <= stages.keys()
    assert 0 < int(stages["stack"]["peak"]) <= int(stages["stack"]["reserve"])
    with pytest.raises(LinkTimeout, match=r"it said: error reason=unknown-command"):
        board.link.command("mode dance", timeout_s=1)


def test_reset_boots_again_and_streams(board: Board, boot: str) -> None:
    assert board.reset() == boot
    board.link.wait_for(r"^profile stage=inf ", 10, "profile line of the stream")
    board.link.command("mode clip")


def test_emulator_warnings_since_the_last_reset(board: Board, boot: str) -> None:
    """The real firmware streams without an emulator warning; one the machine logs is listed
    until the next reset (the board suites' `The Emulator Should Not Have Warned`)."""
    assert board.reset() == boot
    board.link.wait_for(r"^profile stage=inf ", 10, "profile line of the stream")
    assert board.emulator_warnings() == []
    emulated = board.flasher
    with emulated._lock:
        emulated._machine.warn("pdm: wrong PDMCLKCTRL value 0x1, using the default clock")
    assert board.emulator_warnings() == ["pdm: wrong PDMCLKCTRL value 0x1, using the default clock"]
    board.reset()
    assert board.emulator_warnings() == []


def test_a_board_without_firmware_says_so() -> None:
    emulated = EmulatedBoard()
    try:
        assert emulated.describe() == "the emulated board has no firmware"
        with pytest.raises(RuntimeError, match="flash one first"):
            emulated.reset()
    finally:
        emulated.close()
