"""Renode's Robot keywords on the Unicorn backend (emulation.robot_keywords), on the test firmwares."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("robot")
from emulation.robot_keywords import UnicornRenodeKeywords, UnsupportedCommand, parse_platform, split_command
from emulation.unicorn_backend import CPU_HZ

FIRMWARE_DIR = Path(__file__).parent / "firmware"
OVERLAY = Path(__file__).resolve().parent.parent / "emulation" / "renode" / "nrf52840_kws.repl"
DWT_INLINE = '"""\ndwt: Miscellaneous.DWT @ sysbus 0xE0001000\n    frequency: 64000000\n"""'


@pytest.fixture(scope="module")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("firmware")
    subprocess.run(["make", "-s", "-C", str(FIRMWARE_DIR), f"OUT={out}"], check=True)
    return out


def machine(elf: Path, pcm: Path | None = None, platform: str | None = None) -> UnicornRenodeKeywords:
    k = UnicornRenodeKeywords()
    k.setup()
    k.execute_command("mach create")
    k.execute_command(platform or f"machine LoadPlatformDescription @{OVERLAY}")
    k.execute_command("cpu PerformanceInMips 64")
    k.execute_command(f"sysbus LoadELF @{elf}")
    if pcm is not None:
        k.execute_command(f"sysbus.pdm SetInputFile @{pcm}")
    k.create_terminal_tester("sysbus.uart0")
    return k


def test_wait_for_line_in_renode_style(firmware: Path, tmp_path: Path) -> None:
    pcm = tmp_path / "ramp.s16le"
    pcm.write_bytes(np.arange(3200, dtype="<i2").tobytes())
    k = machine(firmware / "pdm.elf", pcm)
    k.start_emulation()
    boot = k.wait_for_line_on_uart("boot t=")
    block = k.wait_for_line_on_uart(r"^block i=(\d+) sum=(-?\d+)", treatAsRegex=True, timeout=1)
    assert boot.line.startswith("boot t=") and block.groups == ["0", str(sum(range(320)))]
    # timestamps are virtual ms of the line: blocks come every 20 ms
    later = k.wait_for_line_on_uart("block i=3")
    assert later.timestamp - block.timestamp == pytest.approx(60, abs=0.1)
    # lines already printed but not yet looked at are found without running on
    executed = int(k.execute_command("cpu ExecutedInstructions"))
    assert executed == k._machine().instructions > 0
    k.reset_emulation()


def test_timeouts_are_virtual_seconds(firmware: Path) -> None:
    k = machine(firmware / "pdm.elf")
    k.wait_for_line_on_uart("boot")
    with pytest.raises(AssertionError, match=r"no a line containing 'never' within 0\.5 virtual s"):
        k.wait_for_line_on_uart("never", timeout=0.5)
    assert k._machine().virtual_s == pytest.approx(0.5, abs=0.001)
    k.execute_command('emulation RunFor "0.25"')
    assert k._machine().virtual_s == pytest.approx(0.75, abs=0.001)


def test_write_line_to_uart(firmware: Path) -> None:
    k = machine(firmware / "selftest.elf", platform=f"machine LoadPlatformDescription @{OVERLAY}")
    k.wait_for_line_on_uart("ready")
    k.write_line_to_uart("c", waitForEcho=False)
    assert k.wait_for_line_on_uart("cycles=", timeout=1).line.startswith("cycles=")
    # the self-test echoes nothing (it answers "unknown"): waiting for the echo fails, as in Renode
    with pytest.raises(AssertionError, match="echo of 'zz'"):
        k.write_line_to_uart("zz", waitForEcho=True)
    assert k._machine().lines[-1] == "unknown"


def test_platform_descriptions_add_up() -> None:
    assert parse_platform(OVERLAY.read_text(), "overlay").dwt_hz == CPU_HZ  # its sysbus init of Tags included
    words = split_command(f"machine LoadPlatformDescriptionFromString {DWT_INLINE}")
    assert words[:2] == ["machine", "LoadPlatformDescriptionFromString"] and "Miscellaneous.DWT" in words[2]
    inline = parse_platform("dwt: Miscellaneous.DWT @ sysbus 0xE0001000 { frequency: 64000000 }", "s")
    assert (inline.nrf52840, inline.dwt_hz) == (False, CPU_HZ)
    k = UnicornRenodeKeywords()
    k.execute_command("mach create")
    with pytest.raises(UnsupportedCommand, match="before adding peripherals"):
        k.execute_command(f"machine LoadPlatformDescriptionFromString {DWT_INLINE}")
    k.execute_command("machine LoadPlatformDescription @platforms/cpus/nrf52840.repl")
    k.execute_command(f"machine LoadPlatformDescriptionFromString {DWT_INLINE}")
    assert k._emulation.platform.dwt_hz == CPU_HZ


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('using "platforms/cpus/stm32f4.repl"', "models only platforms/cpus/nrf52840.repl"),
        ("dwt: Miscellaneous.DWT @ sysbus 0xE0002000\n    frequency: 64000000", "the DWT is at 0xE0001000"),
        ("led: Miscellaneous.LED @ gpio0 13", "does not model"),
        ("sysbus:\n    init:\n        ApplySVD @https://example.org/x.svd", "does not model 'ApplySVD"),
    ],
)
def test_unmodelled_platforms_are_refused(text: str, reason: str) -> None:
    with pytest.raises(UnsupportedCommand, match=reason):
        parse_platform(text, "test.repl")


def test_suite_must_say_what_renode_needs(firmware: Path) -> None:
    """Renode's stock platform has no DWT and runs at 100 MIPS: a suite that does not set both
    would mean something else there, so the Unicorn backend refuses to start it."""
    k = UnicornRenodeKeywords()
    k.execute_command("mach create")
    k.execute_command("machine LoadPlatformDescription @platforms/cpus/nrf52840.repl")
    k.execute_command(f"sysbus LoadELF @{firmware / 'pdm.elf'}")
    with pytest.raises(AssertionError, match=r"missing a DWT .*; `cpu PerformanceInMips 64`"):
        k.start_emulation()
    with pytest.raises(UnsupportedCommand, match="runs at 64 MIPS, not 100"):
        k.execute_command("cpu PerformanceInMips 100")
    with pytest.raises(UnsupportedCommand, match="not implemented by the Unicorn backend"):
        k.execute_command("sysbus.gpio0 Press")
    with pytest.raises(UnsupportedCommand, match=r"sysbus\.uart0 only"):
        k.create_terminal_tester("sysbus.uart1")


def test_faults_fail_the_wait(tmp_path: Path, firmware: Path) -> None:
    k = machine(firmware / "selftest.elf")
    k.wait_for_line_on_uart("ready")
    k.write_line_to_uart("x", waitForEcho=False)  # the self-test's deliberate bad access
    with pytest.raises(AssertionError, match="firmware fault"):
        k.wait_for_line_on_uart("never", timeout=1)


def test_log_tester_lists_the_emulators_warnings(firmware: Path) -> None:
    k = machine(firmware / "selftest.elf")
    k.create_log_tester(0)
    k.wait_for_line_on_uart("ready")
    k.should_not_be_in_log("", level="Warning")  # nothing logged by a clean boot
    m = k._machine()
    m.warn("pdm: wrong PDMCLKCTRL value 0x1, using the default clock")  # as a peripheral model would
    k.should_not_be_in_log("uart", level="Warning")
    k.should_not_be_in_log("", level="Info")  # this backend logs warnings only
    with pytest.raises(AssertionError, match=r"(?s)Unexpected line .*1 emulator warnings:\n  pdm: wrong PDMCLKCTRL"):
        k.should_not_be_in_log("", timeout=0.1)
    assert m.virtual_s > 0.1  # the timeout ran the machine


def test_should_not_be_on_uart_passes_only_on_the_timeout(firmware: Path) -> None:
    k = machine(firmware / "selftest.elf")
    k.should_not_be_on_uart("never", timeout=0.2)
    k.write_line_to_uart("?", waitForEcho=False)
    with pytest.raises(AssertionError, match=r"unexpected line at .* virtual ms: unknown"):
        k.should_not_be_on_uart("unknown", timeout=0.2)
    k.write_line_to_uart("x", waitForEcho=False)  # the self-test's NOCP fault
    with pytest.raises(AssertionError, match="firmware fault: FPU instruction"):
        k.should_not_be_on_uart("never", timeout=0.2)
