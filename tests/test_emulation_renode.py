"""Renode backend: script generation and the unavailable error (Renode is not installable here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulation import BackendUnavailable
from emulation.renode_backend import PLATFORM, RENODE_DIR, RenodeMachine, generate_script, parse_instructions


def test_generated_script(tmp_path: Path) -> None:
    elf, log, pcm = tmp_path / "kws.elf", tmp_path / "uart.txt", tmp_path / "a.s16le"
    lines = generate_script(elf, log, 2.5, pcm).splitlines()
    assert lines == [
        'mach create "kws"',
        f"machine LoadPlatformDescription @{PLATFORM.resolve()}",
        "cpu PerformanceInMips 64",
        f"sysbus LoadELF @{elf.resolve()}",
        f"sysbus.uart0 CreateFileBackend @{log.resolve()} true",
        f"sysbus.pdm SetInputFile @{pcm.resolve()}",
        'emulation RunFor "2.500000"',
        'echo "KWS_EXECUTED_INSTRUCTIONS"',
        "cpu ExecutedInstructions",
        "quit",
    ]
    assert not any("SetInputFile" in line for line in generate_script(elf, log, 1.0).splitlines())


def test_platform_overlay_and_resc() -> None:
    repl = PLATFORM.read_text()
    assert 'using "platforms/cpus/nrf52840.repl"' in repl
    assert "dwt: Miscellaneous.DWT @ sysbus 0xE0001000" in repl and "frequency: 64000000" in repl
    resc = (RENODE_DIR / "kws.resc").read_text()
    for needle in (
        "mach create",
        "LoadPlatformDescription",
        "cpu PerformanceInMips 64",
        "sysbus LoadELF",
        "showAnalyzer sysbus.uart0",
        "sysbus.pdm SetInputFile",
    ):
        assert needle in resc


def test_parse_instructions() -> None:
    output = "(kws) echo\nKWS_EXECUTED_INSTRUCTIONS\n(kws) cpu ExecutedInstructions\n123456\n"
    assert parse_instructions(output) == 123456


def test_unavailable_without_renode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RENODE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackendUnavailable, match=r"Renode is not installed \(renode not on PATH\)"):
        RenodeMachine(tmp_path / "kws.elf")
