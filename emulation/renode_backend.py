"""Renode backend: runs the same ELF in a headless Renode (when installed) and reports a RunResult.

Renode runs for the whole virtual-time budget (it cannot stop at a line on its own from a plain
script); the UART is captured to a file and `until_line` trims the lines after the first match.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from emulation.errors import BackendUnavailable, RunResult, StopReason

RENODE_DIR = Path(__file__).parent / "renode"
PLATFORM = RENODE_DIR / "nrf52840_kws.repl"
CPU_HZ = 64_000_000
INSTRUCTIONS_MARK = "KWS_EXECUTED_INSTRUCTIONS"


def find_renode() -> str:
    """The Renode executable: $RENODE, else `renode` on PATH."""
    candidate = os.environ.get("RENODE") or shutil.which("renode")
    if not candidate or not Path(candidate).exists():
        raise BackendUnavailable(
            "Renode is not installed (renode not on PATH): install Renode (https://renode.io) "
            "or set RENODE=/path/to/renode, or use the unicorn backend"
        )
    return candidate


def _quote(path: Path) -> str:
    return "@" + str(path.resolve())


def generate_script(
    elf: Path, uart_log: Path, seconds: float, pcm: Path | None = None, preload: list[tuple[Path, int]] = ()
) -> str:
    """The monitor script of a headless run (tested as text: Renode is not installable here).

    ``preload`` files are loaded at their addresses after the ELF, before the core starts.
    """
    lines = [
        'mach create "kws"',
        f"machine LoadPlatformDescription {_quote(PLATFORM)}",
        "cpu PerformanceInMips 64",
        f"sysbus LoadELF {_quote(elf)}",
        f"sysbus.uart0 CreateFileBackend {_quote(uart_log)} true",
    ]
    lines += [f"sysbus LoadBinary {_quote(path)} 0x{address:08x}" for path, address in preload]
    if pcm is not None:
        lines.append(f"sysbus.pdm SetInputFile {_quote(pcm)}")
    lines += [
        f'emulation RunFor "{seconds:.6f}"',
        f'echo "{INSTRUCTIONS_MARK}"',
        "cpu ExecutedInstructions",
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

    def run(
        self,
        until_line: str | re.Pattern[str] | None = None,
        max_seconds_virtual: float = 10.0,
        timeout_s: float = 600.0,
    ) -> RunResult:
        pattern = re.compile(until_line) if isinstance(until_line, str) else until_line
        with tempfile.TemporaryDirectory(prefix="kws-renode-") as tmp:
            tmp_dir = Path(tmp)
            pcm_path = None
            if self.pcm is not None:
                pcm_path = tmp_dir / "input.s16le"
                pcm_path.write_bytes(self.pcm)
            preload = []
            for n, (address, data) in enumerate(self.preload):
                (tmp_dir / f"preload{n}.bin").write_bytes(data)
                preload.append((tmp_dir / f"preload{n}.bin", address))
            uart_log = tmp_dir / "uart0.txt"
            script = tmp_dir / "run.resc"
            script.write_text(generate_script(self.elf, uart_log, max_seconds_virtual, pcm_path, preload))
            proc = subprocess.run(
                [self.renode, "--disable-xwt", "--console", "--plain", "-e", f"include {_quote(script)}"],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
            text = uart_log.read_text(errors="replace") if uart_log.exists() else ""
        if proc.returncode != 0:
            raise RuntimeError(f"renode exited with {proc.returncode}:\n{proc.stderr[-2000:]}")
        lines = [line.rstrip("\r") for line in text.split("\n")[:-1]]
        reason = StopReason.BUDGET
        if pattern is not None:
            for i, line in enumerate(lines):
                if pattern.search(line):
                    lines, reason = lines[: i + 1], StopReason.LINE
                    break
        instructions = parse_instructions(proc.stdout)
        return RunResult(lines=lines, instructions=instructions, virtual_s=instructions / CPU_HZ, stop_reason=reason)


def parse_instructions(monitor_output: str) -> int:
    """The number the monitor printed after the mark (`cpu ExecutedInstructions`)."""
    after = monitor_output.split(INSTRUCTIONS_MARK)[-1]
    match = re.search(r"\b(\d+)\b", after)
    if match is None:
        raise RuntimeError("could not read `cpu ExecutedInstructions` from Renode's output")
    return int(match.group(1))
