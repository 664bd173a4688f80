"""The board suite of the int8 variant, on the emulated board (KWS_BOARD_PORT=emulated): what
``tox -e board`` runs on an nRF52840-DK, here through pyserial and a pseudo-terminal. Needs a
BUILD (KWS_ROBOT_BUILD, which tox's robot env sets after preparing one).

5 clips per class, not the suite's 20: this checks the board path (bit-exactness on 20 per class
is the emulated suites' job), and a clip costs 1-1.5 s of host time (2.8 s on the emulated wire).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROBOT_TESTS = Path(__file__).resolve().parent.parent / "robot_tests"
BUILD = os.environ.get("KWS_ROBOT_BUILD")

pytestmark = pytest.mark.skipif(
    not BUILD or not (Path(BUILD) / "variants.json").is_file(),
    reason="needs a BUILD with variants.json in KWS_ROBOT_BUILD (tox -e robot prepares one and sets it)",
)


def test_board_suite_passes_on_the_emulated_board(tmp_path: Path) -> None:
    from robot.api import ExecutionResult

    command = [sys.executable, str(ROBOT_TESTS / "run.py"), "--backend", "board", "--build", str(BUILD)]
    command += ["--variant", "int8", "--out", str(tmp_path), "--variable", "CLIPS_PER_CLASS:5"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KWS_BOARD_")} | {"KWS_BOARD_PORT": "emulated"}
    run = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]

    result = ExecutionResult(str(tmp_path / "output.xml"))
    (suite,) = result.suite.suites
    assert suite.name == "Int8"
    assert {test.name: test.status for test in suite.tests} == {
        "Flash And RAM Should Fit The nRF52840": "PASS",
        "Firmware Should Boot As The Variant": "PASS",
        "Scores Should Equal The TFLM Reference": "PASS",
        "Stages Should Fit One Block While Streaming": "PASS",
    }
