"""Acceptance point 1 of issue 12: the host engine (C frontend + generated model + the firmware's
recognizer) and the firmware in emulation (the stream through its PDM) print identical heard lines
(label, score, time) on the same 60 s stream made by ``kws stream make`` from a trained BUILD's test
split. Needs a trained model (an untrained one hears one class throughout, which proves nothing):
the BUILD in KWS_ROBOT_BUILD, as tests/test_robot_strict.py (tox -e robot prepares it and sets it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from model import cli
from model.data.audio import read_wav
from model.stream.engine import HostEngine
from model.stream.firmware import firmware_heard

BUILD = os.environ.get("KWS_ROBOT_BUILD")
SECONDS = 60


@pytest.fixture(scope="module")
def build() -> dict:
    if not BUILD or not (Path(BUILD) / "variants.json").is_file():
        pytest.skip("needs a BUILD with variants.json in KWS_ROBOT_BUILD (tox -e robot prepares one and sets it)")
    listing = json.loads((Path(BUILD) / "variants.json").read_text())
    int8 = next(v for v in listing["variants"] if v["name"] == "int8")
    return {"data": listing["data"], "model": Path(BUILD) / int8["model"], "elf": Path(BUILD) / int8["dir"] / "kws.elf"}


def test_host_and_firmware_hear_the_same(build: dict, tmp_path: Path) -> None:
    args = ["stream", "make", "--data", build["data"], "--out", str(tmp_path), "--snr", "10", "--free-minutes", "0"]
    assert cli.main([*args, "--max-keywords", "14"]) == 0
    (spec,) = json.loads((tmp_path / "streams.json").read_text())["streams"]
    pcm = read_wav(tmp_path / spec["file"])[: SECONDS * 16000]
    firmware = firmware_heard(build["elf"], pcm)
    assert firmware.boot["stride"] == "1" and firmware.dropped == 0
    host = HostEngine(build["model"]).heard(pcm)
    keywords = [h for h in host if h.label in ("yes", "no")]
    assert len(keywords) >= 3, f"too few keywords heard for the comparison to mean anything: {host}"
    assert host[-1].t_ms > SECONDS * 1000 - 10_000
    assert list(firmware.heard) == host
    assert HostEngine(build["model"], engine="tflm").heard(pcm) == host


def test_table4_gives_a_label_per_word_and_trial(build: dict, capsys) -> None:
    import shutil

    if any(shutil.which(tool) is None for tool in ("sox", "espeak-ng", "flite", "festival")):
        pytest.skip("table4's speakers come from every voice source: needs sox, espeak-ng, flite and festival")
    args = ["stream", "table4", "--data", build["data"], "--model", str(build["model"]), "--json"]
    assert cli.main(args) == 0
    table = json.loads(capsys.readouterr().out)
    assert len(table["trials"]) == 3 and len({t["speaker"] for t in table["trials"]}) == 3
    for trial in table["trials"]:
        assert len(trial["detected"]) == 10 and set(trial["detected"]) <= {"yes", "no", "-"}
    assert sum(t["detected"][0] == "yes" for t in table["trials"]) >= 1, "no trial hears its first yes"
