"""The board's configuration, its pyocd command lines (run against a stand-in pyocd), and what
run.py --backend board says when no board, or a bad one, is configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulation.board import EMULATED, NOT_CONFIGURED, BoardConfig, BoardError, PyocdFlasher, open_board

RUN = Path(__file__).resolve().parent.parent / "robot_tests" / "run.py"

#: Stands in for pyocd: appends its arguments to $FAKE_PYOCD_LOG, fails like pyocd when told to.
FAKE_PYOCD = """\
import os, sys
with open(os.environ["FAKE_PYOCD_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if os.environ.get("FAKE_PYOCD_FAIL"):
    print("0001234 I Target type is nrf52840 [board]", file=sys.stderr)
    print("0001240 C No connected debug probes [__main__]", file=sys.stderr)
    sys.exit(1)
"""


def test_no_board_without_a_port() -> None:
    assert BoardConfig.from_env({}) is None
    assert BoardConfig.from_env({"KWS_BOARD_PORT": "  "}) is None


def test_config_from_the_environment() -> None:
    board = BoardConfig.from_env(
        {
            "KWS_BOARD_PORT": "/dev/ttyACM0",
            "KWS_BOARD_PROBE": "000683",
            "KWS_BOARD_PYOCD": "/opt/pyocd/bin/pyocd --no-config",
            "KWS_BOARD_CHUNK_GAP_MS": "5",
        }
    )
    assert board == BoardConfig(
        port="/dev/ttyACM0",
        probe="000683",
        pyocd=("/opt/pyocd/bin/pyocd", "--no-config"),
        chunk_gap_s=0.005,
    )
    assert not board.emulated and BoardConfig(port=EMULATED).emulated


@pytest.mark.parametrize("value", ["fast", "-1", "2000"])
def test_a_bad_gap_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(BoardError, match=rf"^KWS_BOARD_BYTE_GAP_MS='{value}': expected milliseconds"):
        BoardConfig.from_env({"KWS_BOARD_PORT": "/dev/ttyACM0", "KWS_BOARD_BYTE_GAP_MS": value})


def test_pyocd_command_lines() -> None:
    flasher = PyocdFlasher(BoardConfig(port="/dev/ttyACM0", probe="000683", pyocd=("pyocd",)))
    assert flasher.command("load", "--format", "elf", "kws.elf") == [
        *("pyocd", "load", "--target", "nrf52840", "-W", "--uid", "000683", "--format", "elf", "kws.elf"),
    ]
    assert PyocdFlasher(BoardConfig(port="p", pyocd=("pyocd",))).command("reset") == [
        *("pyocd", "reset", "--target", "nrf52840", "-W"),
    ]


@pytest.fixture
def fake_pyocd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[BoardConfig, Path]:
    script = tmp_path / "pyocd.py"
    script.write_text(FAKE_PYOCD)
    log = tmp_path / "pyocd.log"
    monkeypatch.setenv("FAKE_PYOCD_LOG", str(log))
    return BoardConfig(port="/dev/ttyACM0", pyocd=(sys.executable, str(script))), log


def test_flash_and_reset_run_pyocd(fake_pyocd: tuple[BoardConfig, Path], tmp_path: Path) -> None:
    board, log = fake_pyocd
    flasher = PyocdFlasher(board)
    flasher.flash(tmp_path / "kws.elf")
    flasher.reset()
    assert log.read_text().splitlines() == [
        f"load --target nrf52840 -W --format elf {tmp_path / 'kws.elf'}",
        "reset --target nrf52840 -W",
    ]


def test_pyocd_failure_gives_its_last_line(fake_pyocd: tuple[BoardConfig, Path], monkeypatch) -> None:
    monkeypatch.setenv("FAKE_PYOCD_FAIL", "1")
    with pytest.raises(BoardError, match=r"^pyocd reset failed \(exit 1\): 0001240 C No connected debug probes"):
        PyocdFlasher(fake_pyocd[0]).reset()


def test_missing_pyocd_is_named(tmp_path: Path) -> None:
    board = BoardConfig(port="/dev/ttyACM0", pyocd=(str(tmp_path / "no-pyocd"),))
    with pytest.raises(BoardError, match=r"no-pyocd: not found \(install pyocd, or set KWS_BOARD_PYOCD\)"):
        PyocdFlasher(board).flash(tmp_path / "kws.elf")


def test_a_port_that_will_not_open_is_named(tmp_path: Path) -> None:
    pytest.importorskip("serial")
    with pytest.raises(BoardError, match=rf"^{tmp_path / 'ttyACM9'}: cannot open the board's serial port"):
        open_board(BoardConfig(port=str(tmp_path / "ttyACM9")), 115200)


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KWS_BOARD_")}
    return subprocess.run(
        [sys.executable, str(RUN), "--backend", "board", *args],
        env=clean | env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_run_skips_without_a_board_and_says_why(tmp_path: Path) -> None:
    proc = run("--skip-without-board", "--build", str(tmp_path / "no-build"))
    assert (proc.returncode, proc.stdout.strip()) == (0, f"robot (board): skipped: {NOT_CONFIGURED}")


def test_run_without_a_board_is_an_error_unless_told_to_skip(tmp_path: Path) -> None:
    proc = run("--build", str(tmp_path / "no-build"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"run.py: --backend board: {NOT_CONFIGURED}"


def test_run_refuses_a_bad_board_setting(tmp_path: Path) -> None:
    proc = run("--build", str(tmp_path), KWS_BOARD_PORT="/dev/ttyACM0", KWS_BOARD_CHUNK_GAP_MS="soon")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "run.py: KWS_BOARD_CHUNK_GAP_MS='soon': expected milliseconds between 0 and 1000"
