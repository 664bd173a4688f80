"""A model that hears no keyword of the suite's stream: its stream test is skipped with the reason,
but only after the firmware has heard nothing either; a firmware that hears what its model does not
still fails.

Two variants of a real BUILD's int8 model share one deaf model (its last layer zeroed, so no
class is ever sure): ``deaf`` runs firmware built from it, ``hearing`` firmware built from the
original model. Needs a BUILD (KWS_ROBOT_BUILD, which tox's robot env sets).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROBOT_TESTS = Path(__file__).resolve().parent.parent / "robot_tests"
BUILD = os.environ.get("KWS_ROBOT_BUILD")
STREAM = "Stream Should Be Heard As The Host Engine Hears It"

pytestmark = pytest.mark.skipif(
    not BUILD or not (Path(BUILD) / "variants.json").is_file(),
    reason="needs a BUILD with variants.json in KWS_ROBOT_BUILD (tox -e robot prepares one and sets it)",
)


def deaf_model(tflite: Path, out: Path) -> Path:
    """A copy of ``tflite`` whose fully connected layer has zero weights and bias: every class
    scores a quarter, always, so the recognizer's average never reaches its threshold."""
    from model.deploy.tflite_reader import read_model

    model, flatbuffer = read_model(tflite)
    data = bytearray(flatbuffer)
    for dtype, shape in (("int8", (4, 4000)), ("int32", (4,))):
        tensor = next(t for t in model.tensors if t.data is not None and (t.dtype, tuple(t.shape)) == (dtype, shape))
        raw = tensor.data.tobytes()
        offset = flatbuffer.find(raw)
        assert offset >= 0 and flatbuffer.count(raw) == 1
        data[offset : offset + len(raw)] = bytes(len(raw))
    out.write_bytes(bytes(data))
    return out


@pytest.fixture(scope="module")
def deaf_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from model.deploy.firmware import build as build_firmware

    source = json.loads((Path(BUILD) / "variants.json").read_text())
    int8 = next(v for v in source["variants"] if v["dtype"] == "int8" and v["kernels"] == "cortex_m4")
    root = tmp_path_factory.mktemp("deaf-build")
    (root / "models").mkdir()
    original = shutil.copy(Path(BUILD) / int8["model"], root / "models" / "int8.tflite")
    deaf = deaf_model(Path(original), root / "models" / "deaf.tflite")
    build_firmware(deaf, root / "firmware" / "deaf", variant="deaf", kernels="cortex_m4")
    build_firmware(Path(original), root / "firmware" / "hearing", variant="hearing", kernels="cortex_m4")
    variants = [
        dict(name=name, dtype="int8", kernels="cortex_m4", model="models/deaf.tflite", dir=f"firmware/{name}")
        for name in ("deaf", "hearing")
    ]
    (root / "variants.json").write_text(json.dumps({"data": source["data"], "variants": variants}))
    return root


def test_a_deaf_model_skips_only_when_the_firmware_hears_nothing_too(deaf_build: Path) -> None:
    from robot.api import ExecutionResult

    command = [sys.executable, str(ROBOT_TESTS / "run.py"), "--build", str(deaf_build), "--test", STREAM]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    assert run.returncode != 0, run.stdout[-3000:] + run.stderr[-2000:]

    result = ExecutionResult(str(deaf_build / "robot" / "output.xml"))
    tests = {(suite.name, test.name): test for suite in result.suite.suites for test in suite.tests}
    deaf, hearing = tests[("Deaf", STREAM)], tests[("Hearing", STREAM)]
    assert deaf.status == "SKIP" and "neither does the firmware" in deaf.message, deaf.message
    assert hearing.status == "FAIL" and "heard" in hearing.message, hearing.message
