"""The suites' sentences (robot_tests/resources/kws.resource) against a firmware that misbehaves on cue.

tests/firmware/defect.c boots like the project firmware and acts on the first sample of each PDM
block: it faults, stores to flash, reads an unmodelled register or reports a keyword. A suite of
the resource's own keywords runs on the Unicorn backend under plain robot: the negative wait
passes only on a quiet stream, every wait fails at once on a fault, and a flash store or an
unmodelled register fails with the address and the pc in the message.

The project's own suite (robot_tests/firmware_variant.robot through robot_tests/run.py) fails the
same way on the real int8 firmware built with one line added to its model's invoke function: a
store to flash, or a read of POWER.RESETREAS. Needs a BUILD (KWS_ROBOT_BUILD, as
tests/test_robot_wrong_variant.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("robot")

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE_DIR = Path(__file__).parent / "firmware"
BLOCK = 320
CUE_BLOCK = 10  # 200 ms after the start of the PDM stream
CUES = {"quiet": 0, "fault": 1, "flash": 2, "register": 3, "keyword": 4}
BUILD = os.environ.get("KWS_ROBOT_BUILD")
SCORES = "Scores Should Equal The TFLM Reference"
#: One statement put first in the generated kws_model_invoke (the firmware times its model at boot).
DEFECTS = {
    "flash-store": "*(volatile uint32_t *)0x000FF000u = 0u;",
    "unmodelled-register": "(void)*(volatile uint32_t *)0x40000400u;",
}

SUITE = """\
*** Settings ***
Resource            ${KWS_RESOURCES}/kws.resource
Suite Setup         Setup
Suite Teardown      Teardown
Test Setup          Reset Emulation
Test Teardown       Test Teardown

*** Test Cases ***
Quiet Stream Passes The Negative Wait
    Boot The Firmware With Audio    ${AUDIO}/quiet.s16le
    No Heard Line Should Come Within    1
    The Emulator Should Not Have Warned

A Keyword Fails The Negative Wait
    Boot The Firmware With Audio    ${AUDIO}/keyword.s16le
    No Heard Line Should Come Within    1

A Fault Fails The Negative Wait
    Boot The Firmware With Audio    ${AUDIO}/fault.s16le
    No Heard Line Should Come Within    1

A Fault Fails A Wait At Once
    Boot The Firmware With Audio    ${AUDIO}/fault.s16le
    Wait For Firmware Line    ^heard    5

A Flash Store Fails
    Boot The Firmware With Audio    ${AUDIO}/flash.s16le
    No Heard Line Should Come Within    1

An Unmodelled Register Fails
    Boot The Firmware With Audio    ${AUDIO}/register.s16le
    Wait For Firmware Line    ^heard    5
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from robot.api import ExecutionResult

    root = tmp_path_factory.mktemp("defect-build")
    subprocess.run(["make", "-s", "-C", str(FIRMWARE_DIR), f"OUT={root / 'elf'}"], check=True)
    (root / "fw").mkdir()
    (root / "fw" / "kws.elf").write_bytes((root / "elf" / "defect.elf").read_bytes())
    variant = {"name": "defect", "dtype": "int8", "kernels": "none", "model": "none.tflite", "dir": "fw"}
    (root / "variants.json").write_text(json.dumps({"data": str(root), "variants": [variant]}))
    audio = root / "audio"
    audio.mkdir()
    for name, cue in CUES.items():
        pcm = np.zeros(2 * 16000, np.int16)
        pcm[CUE_BLOCK * BLOCK :: BLOCK] = cue
        (audio / f"{name}.s16le").write_bytes(pcm.astype("<i2").tobytes())
    (root / "defect.robot").write_text(SUITE)
    resources = ROOT / "robot_tests" / "resources"
    command = [sys.executable, "-m", "robot", "--pythonpath", str(ROOT / "robot_tests"), "--outputdir", str(root)]
    for name, value in {
        "BUILD": root,
        "VARIANT": "defect",
        "KWS_RESOURCES": resources,
        "RENODEKEYWORDS": resources / "unicorn.resource",
        "AUDIO": audio,
    }.items():
        command += ["--variable", f"{name}:{value}"]
    subprocess.run([*command, str(root / "defect.robot")], capture_output=True, text=True, check=False, cwd=root)
    result = ExecutionResult(str(root / "output.xml"))
    return {test.name: test for test in result.suite.tests}


def fault_time(message: str) -> float:
    match = re.search(r"after \d+ instructions(?:, \d+ modelled cycles)? \(([\d.]+) s virtual\)", message)
    assert match is not None, message
    return float(match.group(1))


def test_negative_wait_passes_only_on_its_timeout(results: dict) -> None:
    assert results["Quiet Stream Passes The Negative Wait"].status == "PASS"
    keyword = results["A Keyword Fails The Negative Wait"]
    assert keyword.status == "FAIL" and "unexpected line" in keyword.message and "heard label=yes" in keyword.message


def test_faults_fail_waits_at_once(results: dict) -> None:
    for name in ("A Fault Fails The Negative Wait", "A Fault Fails A Wait At Once"):
        test = results[name]
        assert test.status == "FAIL", name
        assert "firmware fault: undefined instruction" in test.message and "PC=0x" in test.message
        assert fault_time(test.message) < 0.25  # the cue block, not the end of the wait


def test_strict_mode_names_address_and_pc(results: dict) -> None:
    flash, register = results["A Flash Store Fails"], results["An Unmodelled Register Fails"]
    assert flash.status == register.status == "FAIL"
    assert re.search(r"strict mode: 4-byte store to flash at 0x000F0000 .* at PC=0x[0-9A-F]{8} \(\w+\)", flash.message)
    assert re.search(r"strict mode: clock: unhandled read .*0x40000400.* at PC=0x[0-9A-F]{8} \(\w+\)", register.message)
    assert fault_time(flash.message) < 0.25 and fault_time(register.message) < 0.25


@pytest.fixture(scope="module")
def defect_variants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not BUILD or not (Path(BUILD) / "variants.json").is_file():
        pytest.skip("needs a BUILD with variants.json in KWS_ROBOT_BUILD (tox -e robot prepares one and sets it)")
    from model.deploy.firmware import generate_sources, make_firmware, size_report

    source = json.loads((Path(BUILD) / "variants.json").read_text())
    int8 = next(v for v in source["variants"] if v["dtype"] == "int8" and v["kernels"] == "cortex_m4")
    root = tmp_path_factory.mktemp("strict-build")
    (root / "models").mkdir()
    model = root / "models" / "int8.tflite"
    model.write_bytes((Path(BUILD) / int8["model"]).read_bytes())
    variants = []
    for name, statement in DEFECTS.items():
        out = root / "firmware" / name
        generate_sources(model, out / "model")
        c = out / "model" / "kws_model.c"
        text = c.read_text()
        invoke = re.search(r"int kws_model_invoke\([^)]*\)\n\{\n", text)
        assert invoke is not None, "generated kws_model_invoke not found"
        c.write_text(text[: invoke.end()] + f"    {statement}\n" + text[invoke.end() :])
        make_firmware(out / "model", out, variant=name, kernels="cortex_m4", model_name="int8")
        (out / "size.json").write_text(json.dumps(size_report(out / "kws.elf")))
        variants.append(
            dict(name=name, dtype="int8", kernels="cortex_m4", model="models/int8.tflite", dir=f"firmware/{name}")
        )
    (root / "variants.json").write_text(json.dumps({"data": source["data"], "variants": variants}))
    return root


def test_project_suite_fails_with_address_and_pc(defect_variants: Path) -> None:
    from robot.api import ExecutionResult

    command = [sys.executable, str(ROOT / "robot_tests" / "run.py"), "--build", str(defect_variants)]
    command += ["--test", SCORES, "--variable", "CLIPS_PER_CLASS:1"]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    assert run.returncode != 0, run.stdout[-3000:] + run.stderr[-2000:]
    result = ExecutionResult(str(defect_variants / "robot" / "output.xml"))
    tests = {suite.name: test for suite in result.suite.suites for test in suite.tests}
    flash, register = tests["Flash-Store"], tests["Unmodelled-Register"]
    assert flash.status == register.status == "FAIL"
    pc = r"at PC=0x[0-9A-F]{8} \(kws_model_invoke\)"
    assert re.search(rf"strict mode: 4-byte store to flash at 0x000FF000 .*{pc}", flash.message), flash.message
    assert re.search(rf"strict mode: clock: unhandled read .*\(0x40000400\).*{pc}", register.message), register.message
