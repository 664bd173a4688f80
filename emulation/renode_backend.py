"""Renode backend: runs the same ELF in a headless Renode (when installed) and reports a RunResult.

Checked against Renode 1.15.1 built from source (README, "Renode"). The UART is captured to a
file. With `until_line`, a UART line hook (Renode's `AddLineHook`, one line of IronPython that
needs no Python standard library) writes the executed-instruction count to a file at the first
matching line; the backend then ends the Renode process (Renode 1.15.1 hangs when asked to quit
from inside a hook), so a clip costs the virtual time up to its `result` line, not the whole
budget. The pattern is matched by .NET's Regex (the same syntax as Python's for the plain
patterns used here) and again by Python when the lines are trimmed.

Renode deletes every `renode-*` folder of its temporary directory that no live Renode owns when it
starts: each run gets its own TMPDIR inside the run's private temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from emulation.errors import BackendUnavailable, RunResult, StopReason

RENODE_DIR = Path(__file__).parent / "renode"
PLATFORM = RENODE_DIR / "nrf52840_kws.repl"
CPU_HZ = 64_000_000
CPU = "sysbus.cpu"  # a bare `cpu` is unknown to Renode 1.15.1's monitor; the full name works in every version
QUANTUM_S = 0.00001  # 10 us = 640 cycles: DWT CYCCNT and PDM blocks move in steps of one quantum
INSTRUCTIONS_MARK = "KWS_EXECUTED_INSTRUCTIONS"

# IronPython run by the line hook on every UART line; `line` and `machine` are set by Renode.
_HOOK = (
    "import System; F = System.IO.File; R = System.Text.RegularExpressions.Regex; "
    "hit = not F.Exists(r'{stop}') and R.IsMatch(line, F.ReadAllText(r'{pattern}')); "
    "hit and F.WriteAllText(r'{partial}', str(list(machine.SystemBus.GetCPUs())[0].ExecutedInstructions)); "
    "hit and F.Move(r'{partial}', r'{stop}')"
)
POLL_S = 0.05


def find_renode() -> str:
    """The Renode executable: $RENODE, else `renode` on PATH."""
    candidate = os.environ.get("RENODE") or shutil.which("renode")
    if not candidate or not Path(candidate).exists():
        raise BackendUnavailable(
            "Renode is not installed (renode not on PATH): install Renode (https://renode.io) "
            "or set RENODE=/path/to/renode, or use the unicorn backend"
        )
    return candidate


def renode_env(tmp_dir: Path) -> dict[str, str]:
    """The environment of a Renode process: TMPDIR a private folder under `tmp_dir`."""
    private = tmp_dir / "renode-tmp"
    private.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(private)}


def _quote(path: Path) -> str:
    return "@" + str(path.resolve())


def generate_script(
    elf: Path,
    uart_log: Path,
    seconds: float,
    pcm: Path | None = None,
    preload: list[tuple[Path, int]] = (),
    stop_hook: tuple[Path, Path] | None = None,
) -> str:
    """The monitor script of a headless run.

    ``preload`` files are loaded at their addresses after the ELF, before the core starts.
    ``stop_hook`` = (pattern file, stop file): at the first UART line matching the pattern, the
    executed instructions are written to the stop file and Renode exits.
    """
    lines = [
        'mach create "kws"',
        f"machine LoadPlatformDescription {_quote(PLATFORM)}",
        f"{CPU} PerformanceInMips 64",
        f'emulation SetGlobalQuantum "{QUANTUM_S:.6f}"',
        f"sysbus LoadELF {_quote(elf)}",
        f"sysbus.uart0 CreateFileBackend {_quote(uart_log)} true",
    ]
    lines += [f"sysbus LoadBinary {_quote(path)} 0x{address:08x}" for path, address in preload]
    if pcm is not None:
        lines.append(f"sysbus.pdm SetInputFile {_quote(pcm)}")
    if stop_hook is not None:
        stop = stop_hook[1].resolve()
        hook = _HOOK.format(pattern=stop_hook[0].resolve(), partial=stop.with_suffix(".partial"), stop=stop)
        lines.append(f'sysbus.uart0 AddLineHook "" "{hook}"')
    lines += [
        f'emulation RunFor "{seconds:.6f}"',
        f'echo "{INSTRUCTIONS_MARK}"',
        f"{CPU} ExecutedInstructions",
        "quit",
    ]
    return "\n".join(lines) + "\n"


class RenodeMachine:
    """Same shape as the Unicorn Machine's run(): one headless Renode process per run."""

    def __init__(self, elf_path: str | Path, pcm: bytes | None = None, preload: list[tuple[int, bytes]] = ()) -> None:
        self.renode = find_renode()
        self.elf = Path(elf_path)
        self.pcm = pcm
        self.preload = list(preload)

    def _write_inputs(self, tmp_dir: Path) -> tuple[Path | None, list[tuple[Path, int]]]:
        pcm_path = None
        if self.pcm is not None:
            pcm_path = tmp_dir / "input.s16le"
            pcm_path.write_bytes(self.pcm)
        preload = []
        for n, (address, data) in enumerate(self.preload):
            (tmp_dir / f"preload{n}.bin").write_bytes(data)
            preload.append((tmp_dir / f"preload{n}.bin", address))
        return pcm_path, preload

    def run(
        self,
        until_line: str | re.Pattern[str] | None = None,
        max_seconds_virtual: float = 10.0,
        timeout_s: float = 600.0,
    ) -> RunResult:
        pattern = re.compile(until_line) if isinstance(until_line, str) else until_line
        with tempfile.TemporaryDirectory(prefix="kws-renode-") as tmp:
            tmp_dir = Path(tmp)
            pcm_path, preload = self._write_inputs(tmp_dir)
            uart_log, stop_file = tmp_dir / "uart0.txt", tmp_dir / "stop.txt"
            stop_hook = None
            if pattern is not None:
                (tmp_dir / "pattern.txt").write_text(pattern.pattern)
                stop_hook = (tmp_dir / "pattern.txt", stop_file)
            script = tmp_dir / "run.resc"
            script.write_text(generate_script(self.elf, uart_log, max_seconds_virtual, pcm_path, preload, stop_hook))
            command = [self.renode, "--disable-xwt", "--console", "--plain", "-e", f"include {_quote(script)}"]
            returncode, stdout, stderr = _run_renode(command, renode_env(tmp_dir), stop_file, timeout_s)
            text = uart_log.read_text(errors="replace") if uart_log.exists() else ""
            stopped = stop_file.read_text() if stop_file.exists() else None
        if stopped is None and returncode != 0:
            raise RuntimeError(f"renode exited with {returncode}:\n{stderr[-2000:]}")
        lines = [line.rstrip("\r") for line in text.split("\n")[:-1]]
        reason = StopReason.BUDGET
        if pattern is not None:
            for i, line in enumerate(lines):
                if pattern.search(line):
                    lines, reason = lines[: i + 1], StopReason.LINE
                    break
        instructions = int(stopped) if stopped else parse_instructions(stdout)
        return RunResult(lines=lines, instructions=instructions, virtual_s=instructions / CPU_HZ, stop_reason=reason)


def _run_renode(command: list[str], env: dict[str, str], stop_file: Path, timeout_s: float) -> tuple[int, str, str]:
    """Run Renode in its own process group until it quits or the stop file appears (then end the
    group); returns its exit code, stdout and stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        try:
            while proc.poll() is None and not stop_file.exists():
                if time.monotonic() > deadline:
                    raise subprocess.TimeoutExpired(command, timeout_s)
                time.sleep(POLL_S)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace")


def parse_instructions(monitor_output: str) -> int:
    """The number the monitor printed after the mark (`sysbus.cpu ExecutedInstructions`; Renode
    1.15.1 prints it in hexadecimal, 0x0000000000C35000)."""
    after = monitor_output.split(INSTRUCTIONS_MARK)[-1]
    match = re.search(r"\b(0x[0-9A-Fa-f]+|\d+)\b", after)
    if match is None:
        raise RuntimeError("could not read `sysbus.cpu ExecutedInstructions` from Renode's output")
    return int(match.group(1), 0)
