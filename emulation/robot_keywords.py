"""Renode's Robot Framework keywords, implemented on the Unicorn backend.

A suite written for ``renode-test`` (``Resource ${RENODEKEYWORDS}``, ``Execute Command`` with
monitor commands, ``Create Terminal Tester``, ``Wait For Line On Uart``, ...) runs unchanged under
plain ``robot`` when ``${RENODEKEYWORDS}`` names ``robot_tests/resources/unicorn.resource``, which
imports this library. Only what an nRF52840 suite of this project needs is implemented; anything
else fails with a message saying so, rather than doing something Renode would not.

The machine runs in strict mode (emulation.unicorn_backend): what the chip refuses or the model
does not implement stops it as a fault does, and every keyword that runs it (the waits,
``Should Not Be On Uart``, ``emulation RunFor``) fails at once with the fault lines. The log tester
(``Create Log Tester``, ``Should Not Be In Log``) sees the emulator's warnings.

Differences from Renode, all in the direction of determinism:

- Virtual time advances only inside the keywords that wait (``Wait For ...``, ``emulation RunFor``):
  as if every wait used ``pauseEmulation=true``. Renode keeps running between keywords.
- The machine is always ``platforms/cpus/nrf52840.repl`` at 64 MIPS plus the DWT. A suite must say
  so (``cpu PerformanceInMips 64`` and a DWT in its platform) so that it means the same on Renode,
  where the stock platform runs at 100 MIPS and has no DWT (every cycle count would read 0).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn
from robot.utils import DotDict

from emulation.errors import EmulationFault
from emulation.unicorn_backend import CPU_HZ, Machine

STOCK_PLATFORM = "platforms/cpus/nrf52840.repl"
UART = "sysbus.uart0"
DWT_ADDRESS = 0xE0001000
DEFAULT_TESTER_TIMEOUT_S = 8.0  # Renode's default for UART waits, in virtual seconds

_USING = re.compile(r'^using\s+"([^"]+)"$')
_DWT = re.compile(r"^(\w+)\s*:\s*Miscellaneous\.DWT\s*@\s*sysbus\s+(0x[0-9A-Fa-f]+|\d+)\s*(?:\{(.*)\})?$")
_PROPERTY = re.compile(r"^(\w+)\s*:\s*([\w.]+)\s*;?$")
_SYSBUS_INIT = re.compile(r'^(init:|Tag\s+<\s*0x[0-9A-Fa-f]+\s*,\s*0x[0-9A-Fa-f]+\s*>\s+"[^"]+"(\s+0x[0-9A-Fa-f]+)?)$')


class UnsupportedCommand(AssertionError):
    """A monitor command or platform the Unicorn backend does not implement."""


@dataclass
class _Platform:
    """What platform descriptions declared: the stock nRF52840 and a DWT (its frequency)."""

    nrf52840: bool = False
    dwt_hz: int | None = None


def _dwt_property(text: str, source: str) -> int:
    prop = _PROPERTY.match(text.strip())
    if prop is None or prop.group(1) != "frequency":
        raise UnsupportedCommand(f"{source}: the Unicorn backend's DWT takes only `frequency`, not {text.strip()!r}")
    return int(prop.group(2), 0)


def parse_platform(text: str, source: str) -> _Platform:
    """A .repl as the Unicorn backend understands it: ``using`` the stock nRF52840 and/or the DWT
    (``dwt: Miscellaneous.DWT @ sysbus 0xE0001000`` with ``frequency: ...`` indented below or in
    braces), and a ``sysbus:`` ``init:`` of ``Tag`` lines (they name registers the firmware never
    reads; the Unicorn backend leaves them unmapped); anything else is refused."""
    platform = _Platform()
    in_dwt = in_sysbus = False
    for raw in text.splitlines():
        line = raw.split("//")[0].split("#")[0].rstrip()
        if not line.strip():
            continue
        indented, line = line[0].isspace(), line.strip()
        if indented and in_dwt:
            platform.dwt_hz = _dwt_property(line, source)
            continue
        if indented and in_sysbus and _SYSBUS_INIT.match(line):
            continue
        in_dwt, in_sysbus = False, line == "sysbus:"
        if in_sysbus:
            continue
        if (using := _USING.match(line)) is not None:
            if using.group(1) != STOCK_PLATFORM:
                raise UnsupportedCommand(f"{source}: the Unicorn backend models only {STOCK_PLATFORM}, not {using[1]}")
            platform.nrf52840 = True
        elif (dwt := _DWT.match(line)) is not None:
            if int(dwt.group(2), 0) != DWT_ADDRESS:
                raise UnsupportedCommand(f"{source}: the DWT is at 0x{DWT_ADDRESS:08X}, not {dwt.group(2)}")
            platform.dwt_hz = _dwt_property(dwt.group(3), source) if dwt.group(3) else 0
            in_dwt = dwt.group(3) is None
        else:
            raise UnsupportedCommand(f"{source}: the Unicorn backend does not model {line!r}")
    return platform


@dataclass
class _Tester:
    """A terminal tester on UARTE0: `cursor` is the first line it has not looked at yet."""

    timeout_s: float
    cursor: int = 0


@dataclass
class _LogTester:
    """Renode's log tester: the emulator's warnings from index `cursor` on are in its history."""

    timeout_s: float
    cursor: int = 0


@dataclass
class _Emulation:
    """The machine being described by monitor commands, then run."""

    created: bool = False
    platform: _Platform | None = None
    mips: int | None = None
    elf: Path | None = None
    pcm: bytes | None = None
    machine: Machine | None = None
    testers: list[_Tester] = field(default_factory=list)
    log_tester: _LogTester | None = None


def split_command(command: str) -> list[str]:
    """A monitor command's words; a triple-quoted tail (a multi-line .repl text) is one word."""
    head, quote, rest = command.partition('"""')
    words = shlex.split(head)
    if quote:
        text, closing, after = rest.rpartition('"""')
        if not closing or after.strip():
            raise UnsupportedCommand(f'unterminated or trailing text after a """ string: {command!r}')
        words.append(text)
    return words


def _path_argument(argument: str) -> Path:
    """A monitor path argument: ``@path``, absolute or relative to the working directory."""
    if not argument.startswith("@"):
        raise UnsupportedCommand(f"expected a file as @path, got {argument!r}")
    return Path(argument[1:]).expanduser()


class UnicornRenodeKeywords:
    """Renode's keyword vocabulary on one Unicorn nRF52840 (see the module docstring)."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._emulation = _Emulation()

    # --- renode-keywords.robot's fixtures ---

    def setup(self) -> None:
        """Suite Setup: Renode starts its server here; nothing to start for the Unicorn backend."""
        self.reset_emulation()

    def teardown(self) -> None:
        """Suite Teardown."""
        self.reset_emulation()

    def test_teardown(self) -> None:
        """Test Teardown: when the test failed, log what the firmware printed; then reset."""
        machine = self._emulation.machine
        if machine is not None and BuiltIn().get_variable_value("${TEST STATUS}") == "FAIL":
            logger.info("UART output:\n" + "\n".join(f"{t * 1000:10.3f} ms  {line}" for line, t in self._lines()))
        self.reset_emulation()

    def reset_emulation(self) -> None:
        """Forget the machine and its testers."""
        if self._emulation.machine is not None:
            self._emulation.machine.close()
        self._emulation = _Emulation()

    # --- the monitor ---

    def execute_command(self, command: str) -> str:
        """Run a Renode monitor command; returns what the monitor would print."""
        words = split_command(command)
        if not words:
            raise UnsupportedCommand("empty monitor command")
        head, args = words[0], words[1:]
        if head == "mach" and args[:1] == ["create"]:
            return self._mach_create()
        self._require_machine(command)
        if head == "machine" and len(args) == 2 and args[0] == "LoadPlatformDescription":
            return self._load_platform_file(_path_argument(args[1]))
        if head == "machine" and len(args) == 2 and args[0] == "LoadPlatformDescriptionFromString":
            return self._load_platform(parse_platform(args[1], "LoadPlatformDescriptionFromString"))
        if head in ("cpu", "sysbus.cpu") and len(args) == 2 and args[0] == "PerformanceInMips":
            return self._set_mips(int(args[1]))
        if head in ("cpu", "sysbus.cpu") and args == ["ExecutedInstructions"]:
            return str(self._machine().instructions)
        if head == "sysbus" and len(args) == 2 and args[0] == "LoadELF":
            return self._load_elf(_path_argument(args[1]))
        if head == "sysbus.pdm" and len(args) == 2 and args[0] == "SetInputFile":
            return self._set_pdm_input(_path_argument(args[1]))
        if head == "emulation" and len(args) == 2 and args[0] == "SetGlobalQuantum":
            return ""  # Renode's time-sync step; the Unicorn backend is exact to the instruction
        if head == "emulation" and len(args) == 2 and args[0] == "RunFor":
            self._run(max_seconds_virtual=float(args[1]))
            return ""
        raise UnsupportedCommand(f"monitor command not implemented by the Unicorn backend: {command!r}")

    def _mach_create(self) -> str:
        if self._emulation.created:
            raise UnsupportedCommand("the Unicorn backend runs one machine: `mach create` was already called")
        self._emulation.created = True
        return ""

    def _require_machine(self, command: str) -> None:
        if not self._emulation.created:
            raise AssertionError(f"{command!r}: no machine (run `mach create` first)")

    def _require_not_started(self, what: str) -> None:
        if self._emulation.machine is not None:
            raise UnsupportedCommand(f"{what} after the emulation started is not supported by the Unicorn backend")

    def _load_platform_file(self, path: Path) -> str:
        if path.as_posix() == STOCK_PLATFORM:
            return self._load_platform(_Platform(nrf52840=True))
        try:
            text = path.read_text()
        except OSError as exc:
            raise AssertionError(f"{path}: cannot read the platform description: {exc.strerror}") from None
        return self._load_platform(parse_platform(text, str(path)))

    def _load_platform(self, platform: _Platform) -> str:
        """Descriptions add up, as in Renode: the stock platform first, then e.g. a DWT on top."""
        self._require_not_started("loading a platform")
        loaded = self._emulation.platform or _Platform()
        if platform.nrf52840 and loaded.nrf52840:
            raise UnsupportedCommand(f"{STOCK_PLATFORM} is already loaded")
        if not (platform.nrf52840 or loaded.nrf52840):
            raise UnsupportedCommand(f"load {STOCK_PLATFORM} before adding peripherals to it")
        if platform.dwt_hz is not None and platform.dwt_hz != CPU_HZ:
            raise UnsupportedCommand(f"the Unicorn backend's DWT counts at {CPU_HZ} Hz, not {platform.dwt_hz}")
        self._emulation.platform = _Platform(nrf52840=True, dwt_hz=platform.dwt_hz or loaded.dwt_hz)
        return ""

    def _set_mips(self, mips: int) -> str:
        if mips * 1_000_000 != CPU_HZ:
            raise UnsupportedCommand(f"the Unicorn backend runs at {CPU_HZ // 1_000_000} MIPS, not {mips}")
        self._emulation.mips = mips
        return ""

    def _load_elf(self, path: Path) -> str:
        self._require_not_started("loading an ELF")
        if not path.is_file():
            raise AssertionError(f"{path}: no such ELF file")
        self._emulation.elf = path
        return ""

    def _set_pdm_input(self, path: Path) -> str:
        try:
            pcm = path.read_bytes()
        except OSError as exc:
            raise AssertionError(f"{path}: cannot read the PDM input: {exc.strerror}") from None
        machine = self._emulation.machine
        if machine is None:
            self._emulation.pcm = pcm
        else:  # Renode switches files at once: the next block comes from the new one
            machine.pdm.pcm, machine.pdm.pcm_pos = pcm, 0
        return ""

    # --- running ---

    def start_emulation(self) -> None:
        """Build the machine from what the monitor commands described; it runs inside the waits."""
        self._machine()

    def _machine(self) -> Machine:
        emulation = self._emulation
        if emulation.machine is not None:
            return emulation.machine
        missing = []
        if emulation.platform is None:
            missing.append(f"a platform (machine LoadPlatformDescription @{STOCK_PLATFORM} or an overlay)")
        elif emulation.platform.dwt_hz is None:
            missing.append(
                f"a DWT in the platform (dwt: Miscellaneous.DWT @ sysbus 0x{DWT_ADDRESS:08X} with frequency: "
                f"{CPU_HZ}): the Unicorn backend always counts cycles, Renode's stock platform reads 0"
            )
        if emulation.mips is None:
            missing.append(f"`cpu PerformanceInMips {CPU_HZ // 1_000_000}` (Renode's default is 100 MIPS)")
        if emulation.elf is None:
            missing.append("a program (sysbus LoadELF @file)")
        if missing:
            raise AssertionError("cannot start the emulation: missing " + "; ".join(missing))
        emulation.machine = Machine(emulation.elf, emulation.pcm)
        return emulation.machine

    def _run(self, **budget: float | int) -> None:
        try:
            self._machine().run(**budget)
        except EmulationFault as fault:
            raise AssertionError(str(fault)) from None

    def _lines(self) -> list[tuple[str, float]]:
        machine = self._emulation.machine
        return list(zip(machine.lines, machine.line_times, strict=True)) if machine is not None else []

    # --- UART testers ---

    def create_terminal_tester(
        self, uart: str, prompt: str | None = None, timeout: float = DEFAULT_TESTER_TIMEOUT_S, **options: str
    ) -> int:
        """A tester on UARTE0 (the only UART the firmware uses); returns its id. ``machine`` and the
        options of newer Renode versions (``defaultPauseEmulation`` ...) are accepted: there is one
        machine, and it is paused whenever no keyword waits."""
        if uart != UART:
            raise UnsupportedCommand(f"the Unicorn backend models {UART} only, not {uart}")
        if prompt is not None:
            raise UnsupportedCommand("terminal tester prompts are not implemented by the Unicorn backend")
        self._require_machine("Create Terminal Tester")
        logger.debug(f"terminal tester options taken as given: {options}")
        machine = self._emulation.machine
        start = len(machine.lines) if machine is not None else 0
        self._emulation.testers.append(_Tester(timeout_s=float(timeout), cursor=start))
        return len(self._emulation.testers)

    def _tester(self, tester_id: int | None) -> _Tester:
        testers = self._emulation.testers
        if tester_id is None:
            if len(testers) != 1:
                raise AssertionError(f"{len(testers)} terminal testers exist: give testerId (Create Terminal Tester)")
            return testers[0]
        if not 1 <= tester_id <= len(testers):
            raise AssertionError(f"no terminal tester with id {tester_id} (did you call Create Terminal Tester?)")
        return testers[tester_id - 1]

    def wait_for_line_on_uart(
        self,
        content: str,
        timeout: float | None = None,
        testerId: int | None = None,
        treatAsRegex: bool = False,
        pauseEmulation: bool = False,
    ) -> DotDict:
        """Run until a line the tester has not seen yet contains ``content`` (or matches it as a
        regex, searched); fail after ``timeout`` virtual seconds. Returns ``line``, ``timestamp``
        (virtual ms) and ``groups`` (the regex groups). ``pauseEmulation`` is accepted: the machine
        never runs outside a wait here."""
        pattern = re.compile(content if treatAsRegex else re.escape(content))
        return self._wait(
            pattern, timeout, testerId, f"a line {'matching' if treatAsRegex else 'containing'} {content!r}"
        )

    def wait_for_next_line_on_uart(self, timeout: float | None = None, testerId: int | None = None) -> DotDict:
        """Run until the tester sees one more line."""
        return self._wait(re.compile(""), timeout, testerId, "another line")

    def should_not_be_on_uart(
        self,
        content: str,
        timeout: float | None = None,
        testerId: int | None = None,
        treatAsRegex: bool = False,
        includeUnfinishedLine: bool = False,
    ) -> None:
        """Run for ``timeout`` virtual seconds; fail if a line the tester has not seen yet contains
        ``content`` (or matches it as a regex). A firmware fault fails it too, at once: only the
        timeout passes. ``includeUnfinishedLine`` is accepted; lines are checked when complete."""
        pattern = re.compile(content if treatAsRegex else re.escape(content))
        found = self._find(pattern, timeout, testerId)
        if found is not None:
            raise AssertionError(f"{UART}: unexpected line at {found.timestamp:.3f} virtual ms: {found.line}")

    def _wait(self, pattern: re.Pattern[str], timeout: float | None, tester_id: int | None, what: str) -> DotDict:
        found = self._find(pattern, timeout, tester_id)
        if found is None:
            machine = self._machine()
            seconds = self._tester(tester_id).timeout_s if timeout is None else float(timeout)
            tail = " | ".join(machine.lines[-3:]) or "nothing printed"
            raise AssertionError(
                f"{UART}: no {what} within {seconds:g} virtual s (at {machine.virtual_s:.3f} s; last lines: {tail})"
            )
        return found

    def _find(self, pattern: re.Pattern[str], timeout: float | None, tester_id: int | None) -> DotDict | None:
        """The first line the tester has not seen matching ``pattern`` within ``timeout`` virtual s,
        or None; a firmware fault raises AssertionError with its fault lines."""
        tester = self._tester(tester_id)
        machine = self._machine()
        seconds = tester.timeout_s if timeout is None else float(timeout)
        deadline = machine.clock_cycles + round(seconds * CPU_HZ)
        while True:
            while tester.cursor < len(machine.lines):
                index = tester.cursor
                tester.cursor += 1
                match = pattern.search(machine.lines[index])
                if match is not None:
                    return DotDict(
                        line=machine.lines[index],
                        timestamp=machine.line_times[index] * 1000,
                        groups=list(match.groups()),
                    )
            remaining = deadline - machine.clock_cycles
            if remaining <= 0:
                return None
            self._run(until_line=pattern, max_cycles=remaining)

    def write_line_to_uart(
        self,
        content: str = "",
        testerId: int | None = None,
        waitForEcho: bool = True,
    ) -> DotDict:
        """Type ``content`` and Enter (CR) into UARTE0; with ``waitForEcho`` wait for the echo, as Renode."""
        self._tester(testerId)
        machine = self._machine()
        machine.write_uart(content.encode() + b"\r")
        if waitForEcho:
            self._wait(re.compile(re.escape(content)), None, testerId, f"echo of {content!r}")
        return DotDict(line=content, timestamp=machine.virtual_s * 1000, groups=[])

    # --- the log tester (the emulator's warnings) ---

    def create_log_tester(self, timeout: float, defaultPauseEmulation: bool | None = None) -> None:
        """Start collecting the emulator's log: under this backend its warnings (an unmodelled
        register outside strict mode, a peripheral set up in a way the model cannot follow, ...),
        from now on. ``defaultPauseEmulation`` is accepted: the machine runs only inside waits."""
        machine = self._emulation.machine
        cursor = len(machine.warnings) if machine is not None else 0
        self._emulation.log_tester = _LogTester(timeout_s=float(timeout), cursor=cursor)

    def should_not_be_in_log(
        self,
        pattern: str,
        timeout: float | None = None,
        treatAsRegex: bool = False,
        pauseEmulation: bool | None = None,
        level: str | None = None,
    ) -> None:
        """Run for ``timeout`` virtual seconds (the log tester's default when not given), then fail
        listing every warning since Create Log Tester that contains ``pattern`` (or matches it as a
        regex). This backend logs at one level, Warning: a ``level`` other than Warning finds nothing."""
        tester = self._emulation.log_tester
        if tester is None:
            raise AssertionError("no log tester: call Create Log Tester first")
        seconds = tester.timeout_s if timeout is None else float(timeout)
        if seconds > 0:
            self._run(max_seconds_virtual=seconds)
        if level is not None and level.lower() != "warning":
            return
        regex = re.compile(pattern if treatAsRegex else re.escape(pattern))
        machine = self._emulation.machine
        warnings = machine.warnings[tester.cursor :] if machine is not None else []
        found = [w for w in warnings if regex.search(w)]
        if found:
            listed = "\n".join(f"  {w}" for w in found)
            raise AssertionError(
                f"Unexpected line detected in the log: {found[0]}\n{len(found)} emulator warnings:\n{listed}"
            )
