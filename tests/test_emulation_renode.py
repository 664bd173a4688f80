"""Renode backend: the monitor script as text (always), and a cross-check of the real firmware in
Renode against the Unicorn backend, run only where `renode` and `renode-test` are on PATH (Renode
1.15.1 built from source, README "Renode"); CI has no Renode and skips it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emulation import BackendUnavailable
from emulation.protocol import parse_line
from emulation.renode_backend import (
    PLATFORM,
    QUANTUM_S,
    RENODE_DIR,
    RenodeMachine,
    generate_script,
    parse_instructions,
    renode_env,
)

HAVE_RENODE = shutil.which("renode") is not None and shutil.which("renode-test") is not None
NEEDS_RENODE = pytest.mark.skipif(
    not HAVE_RENODE, reason="renode and renode-test are not on PATH (Renode is not installed)"
)
QUANTUM_CYCLES = round(QUANTUM_S * 64_000_000)


def test_generated_script(tmp_path: Path) -> None:
    elf, log, pcm = tmp_path / "kws.elf", tmp_path / "uart.txt", tmp_path / "a.s16le"
    lines = generate_script(elf, log, 2.5, pcm).splitlines()
    assert lines == [
        'mach create "kws"',
        f"machine LoadPlatformDescription @{PLATFORM.resolve()}",
        "sysbus.cpu PerformanceInMips 64",
        'emulation SetGlobalQuantum "0.000010"',
        f"sysbus LoadELF @{elf.resolve()}",
        f"sysbus.uart0 CreateFileBackend @{log.resolve()} true",
        f"sysbus.pdm SetInputFile @{pcm.resolve()}",
        'emulation RunFor "2.500000"',
        'echo "KWS_EXECUTED_INSTRUCTIONS"',
        "sysbus.cpu ExecutedInstructions",
        "quit",
    ]
    assert not any("SetInputFile" in line for line in generate_script(elf, log, 1.0).splitlines())


def test_stop_hook_in_script(tmp_path: Path) -> None:
    """The line hook is one IronPython line that reads the pattern file and writes the stop file
    through a partial file (so the backend never reads half a number)."""
    pattern, stop = tmp_path / "pattern.txt", tmp_path / "stop.txt"
    script = generate_script(tmp_path / "kws.elf", tmp_path / "u.txt", 1.0, stop_hook=(pattern, stop))
    (hook,) = [line for line in script.splitlines() if "AddLineHook" in line]
    assert hook.startswith('sysbus.uart0 AddLineHook "" "') and hook.endswith('"')
    assert hook.count('"') == 4  # the Python inside uses single quotes only
    for needle in (str(pattern), str(stop), str(stop.with_suffix(".partial")), "ExecutedInstructions"):
        assert needle in hook
    assert script.index("AddLineHook") < script.index("RunFor")


def test_platform_overlay_and_resc() -> None:
    repl = PLATFORM.read_text()
    assert 'using "platforms/cpus/nrf52840.repl"' in repl
    assert "dwt: Miscellaneous.DWT @ sysbus 0xE0001000" in repl and "frequency: 64000000" in repl
    assert "init:" in repl and "ApplySVD" not in repl.split("sysbus:")[1]  # no download at load
    resc = (RENODE_DIR / "kws.resc").read_text()
    for needle in (
        "mach create",
        "LoadPlatformDescription",
        "sysbus.cpu PerformanceInMips 64",
        "emulation SetGlobalQuantum",
        "sysbus LoadELF",
        "showAnalyzer sysbus.uart0",
        "sysbus.pdm SetInputFile",
    ):
        assert needle in resc


def test_parse_instructions() -> None:
    output = "(kws) echo\nKWS_EXECUTED_INSTRUCTIONS\n(kws) sysbus.cpu ExecutedInstructions\n123456\n"
    assert parse_instructions(output) == 123456
    assert parse_instructions("KWS_EXECUTED_INSTRUCTIONS\n0x0000000000C35000\n") == 12_800_000  # Renode 1.15.1


def test_private_tmpdir(tmp_path: Path) -> None:
    env = renode_env(tmp_path)
    assert env["TMPDIR"] == str(tmp_path / "renode-tmp") and Path(env["TMPDIR"]).is_dir()


def test_unavailable_without_renode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RENODE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackendUnavailable, match=r"Renode is not installed \(renode not on PATH\)"):
        RenodeMachine(tmp_path / "kws.elf")


# --- cross-check: the real int8 firmware in Renode and in the Unicorn backend ---

#: Two edge cases of tests/test_frontend.py's corpus: a peak of -32768 (the window's lane-wise
#: extremes, where Renode 1.15.1's SSUB16 GE flags differed) and speech-like audio.
CROSS_CHECK_CLIPS = ("alternating extremes", "speech-like 2 s")


def _fields(lines: list[str], record: str) -> dict[str, str]:
    (line,) = [line for line in lines if line.startswith(record + " ")]
    return parse_line(line)[1]


def _assert_dwt_close(renode: int, unicorn: int, intervals: int) -> None:
    """Renode's CYCCNT moves in whole quanta: a figure summed over `intervals` timed intervals is a
    multiple of the quantum's cycles and within one quantum per interval of the exact count."""
    assert renode % QUANTUM_CYCLES == 0
    assert abs(renode - unicorn) < QUANTUM_CYCLES * intervals


@NEEDS_RENODE
@pytest.mark.parametrize("name", CROSS_CHECK_CLIPS)
def test_renode_agrees_with_unicorn(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Boot and result lines of one clip: everything equal but the DWT figures, which differ by
    less than a quantum per timed interval (49 frame pushes in `pre`)."""
    from test_emulation_firmware import build, corpus_clips

    from emulation.clip import run_clip

    elf = build(tmp_path_factory, "int8", "cortex_m4")
    pcm = dict(corpus_clips())[name].astype("<i2").tobytes()
    unicorn, renode = run_clip(elf, pcm, "unicorn", cycle_model=False), run_clip(elf, pcm, "renode")
    for key in ("scores", "label", "checksum"):
        assert renode.result[key] == unicorn.result[key]
    boot_r, boot_u = _fields(renode.lines, "boot"), _fields(unicorn.lines, "boot")
    assert {k: v for k, v in boot_r.items() if k != "boot_inf"} == {k: v for k, v in boot_u.items() if k != "boot_inf"}
    _assert_dwt_close(int(boot_r["boot_inf"]), int(boot_u["boot_inf"]), 1)
    _assert_dwt_close(int(renode.result["inf"]), int(unicorn.result["inf"]), 1)
    _assert_dwt_close(int(renode.result["post"]), int(unicorn.result["post"]), 1)
    _assert_dwt_close(int(renode.result["pre"]), int(unicorn.result["pre"]), 49)


def test_run_py_gives_renode_test_its_python_path_and_tmpdir(tmp_path: Path) -> None:
    """robot_tests/run.py --backend renode: renode-test gets PYTHONPATH (robot_tests/ and the
    repository, for KwsLibrary.py), a private TMPDIR under the results, and --fixture for --test.
    A stand-in renode-test records what it was given (RENODE_TEST names it)."""
    import json
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    build = tmp_path / "build"
    build.mkdir()
    variant = {"name": "int8", "dtype": "int8", "kernels": "cortex_m4", "model": "m.tflite", "dir": "fw"}
    (build / "variants.json").write_text(json.dumps({"data": str(tmp_path), "variants": [variant]}))
    record = tmp_path / "record.json"
    fake = tmp_path / "renode-test"
    fake.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'env': dict(os.environ)}}, open({str(record)!r}, 'w'))\n"
    )
    fake.chmod(0o755)
    out = tmp_path / "out"
    env = {**os.environ, "RENODE_TEST": str(fake)}
    command = [sys.executable, str(repo / "robot_tests/run.py"), "--build", str(build), "--backend", "renode"]
    subprocess.run([*command, "--out", str(out), "--test", "Stage Cycles"], env=env, check=False, capture_output=True)
    seen = json.loads(record.read_text())
    assert seen["env"]["TMPDIR"] == str(out / "renode-tmp") and (out / "renode-tmp").is_dir()
    assert seen["env"]["PYTHONPATH"].split(os.pathsep)[:2] == [str(repo / "robot_tests"), str(repo)]
    assert seen["argv"][seen["argv"].index("--fixture") + 1] == "Stage Cycles"
    assert seen["argv"][-1] == str(out / "suites" / "int8.robot")
