"""The Robot suites can fail: firmware built wrong on purpose turns the right test red.

Two variants of a real BUILD's int8 model, each built into firmware with one deliberate defect,
listed in a BUILD of their own whose variants.json names the correct model as theirs:

- ``table-off-by-one``: the generated uint16 -> int8 input table gives every value one too high
  (below 127): the firmware's model input differs, so its checksum must not match the host's.
- ``weights-perturbed``: the fully connected weights of one class negated in the .tflite: same
  input, different scores.

Both must pass the fit test and fail "Scores Should Equal The TFLM Reference" with the reason.
Needs a BUILD (KWS_ROBOT_BUILD, which tox's robot env sets after preparing one).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROBOT_TESTS = Path(__file__).resolve().parent.parent / "robot_tests"
BUILD = os.environ.get("KWS_ROBOT_BUILD")
FIT = "Flash And RAM Should Fit The nRF52840"
SCORES = "Scores Should Equal The TFLM Reference"

pytestmark = pytest.mark.skipif(
    not BUILD or not (Path(BUILD) / "variants.json").is_file(),
    reason="needs a BUILD with variants.json in KWS_ROBOT_BUILD (tox -e robot prepares one and sets it)",
)


def table_off_by_one(model_dir: Path) -> None:
    source = model_dir / "kws_model.c"
    text = source.read_text()
    match = re.search(r"(kws_model_input_table\[\d+\][^=]*= \{)([^}]*)(\})", text)
    assert match is not None, "generated input table not found"
    values = [int(v) for v in match.group(2).replace("\n", " ").split(",") if v.strip()]
    shifted = ", ".join(str(min(v + 1, 127)) for v in values)
    source.write_text(text[: match.start(2)] + shifted + text[match.end(2) :])


def perturbed_weights(tflite: Path, out: Path) -> Path:
    """A copy of ``tflite`` whose fully connected weights of the first class are negated (found by their bytes)."""
    from model.deploy.tflite_reader import read_model

    model, flatbuffer = read_model(tflite)
    weights = next(t for t in model.tensors if t.data is not None and t.dtype == "int8" and t.shape[0] == 4)
    offset = flatbuffer.find(weights.data.tobytes())
    assert offset >= 0 and flatbuffer.count(weights.data.tobytes()) == 1
    row = weights.data[0].reshape(-1)
    negated = (-np.maximum(row.astype(np.int16), -127)).astype(np.int8).tobytes()
    data = bytearray(flatbuffer)
    data[offset : offset + len(negated)] = negated
    out.write_bytes(bytes(data))
    return out


@pytest.fixture(scope="module")
def wrong_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from model.deploy.firmware import build as build_firmware
    from model.deploy.firmware import generate_sources, make_firmware, size_report

    source = json.loads((Path(BUILD) / "variants.json").read_text())
    int8 = next(v for v in source["variants"] if v["dtype"] == "int8" and v["kernels"] == "cortex_m4")
    root = tmp_path_factory.mktemp("wrong-build")
    (root / "models").mkdir()
    model = shutil.copy(Path(BUILD) / int8["model"], root / "models" / "int8.tflite")

    table = root / "firmware" / "table-off-by-one"
    generate_sources(Path(model), table / "model")
    table_off_by_one(table / "model")
    make_firmware(table / "model", table, variant="table-off-by-one", kernels="cortex_m4", model_name="int8")
    (table / "size.json").write_text(json.dumps(size_report(table / "kws.elf")))

    perturbed = perturbed_weights(Path(model), root / "perturbed.tflite")
    build_firmware(perturbed, root / "firmware" / "weights-perturbed", variant="weights-perturbed", kernels="cortex_m4")

    variants = [
        dict(name=name, dtype="int8", kernels="cortex_m4", model="models/int8.tflite", dir=f"firmware/{name}")
        for name in ("table-off-by-one", "weights-perturbed")
    ]
    (root / "variants.json").write_text(json.dumps({"data": source["data"], "variants": variants}))
    return root


def test_suites_go_red_in_the_reference_test(wrong_build: Path) -> None:
    from robot.api import ExecutionResult

    command = [sys.executable, str(ROBOT_TESTS / "run.py"), "--build", str(wrong_build)]
    command += ["--test", FIT, "--test", SCORES, "--variable", "CLIPS_PER_CLASS:2"]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    assert run.returncode != 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 failed" in run.stdout.splitlines()[-1]

    result = ExecutionResult(str(wrong_build / "robot" / "output.xml"))
    tests = {(suite.name, test.name): test for suite in result.suite.suites for test in suite.tests}
    assert tests[("Table-Off-By-One", FIT)].status == tests[("Weights-Perturbed", FIT)].status == "PASS"
    table, weights = tests[("Table-Off-By-One", SCORES)], tests[("Weights-Perturbed", SCORES)]
    assert table.status == weights.status == "FAIL"
    assert "model input checksum" in table.message
    assert "firmware scores" in weights.message and "checksum" not in weights.message


def test_board_suites_go_red_on_the_emulated_board(wrong_build: Path) -> None:
    """The board suites judge with the same keywords: on the emulated board they go red too."""
    from robot.api import ExecutionResult

    command = [sys.executable, str(ROBOT_TESTS / "run.py"), "--build", str(wrong_build), "--backend", "board"]
    command += ["--test", FIT, "--test", SCORES, "--variable", "CLIPS_PER_CLASS:2"]
    env = os.environ | {"KWS_BOARD_PORT": "emulated"}
    run = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert run.returncode != 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 failed" in run.stdout.splitlines()[-1]

    result = ExecutionResult(str(wrong_build / "robot-board" / "output.xml"))
    tests = {(suite.name, test.name): test for suite in result.suite.suites for test in suite.tests}
    assert tests[("Table-Off-By-One", SCORES)].status == tests[("Weights-Perturbed", SCORES)].status == "FAIL"
    assert "model input checksum" in tests[("Table-Off-By-One", SCORES)].message
    assert "firmware scores" in tests[("Weights-Perturbed", SCORES)].message
