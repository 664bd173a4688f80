"""Unicorn backend on small test firmwares (tests/firmware): UARTE, DWT, exact counts, FPU, faults, PDM."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import unicorn

from emulation import EmulationFault, StopReason, StrictModeError
from emulation.unicorn_backend import CPU_HZ, Machine

FIRMWARE_DIR = Path(__file__).parent / "firmware"
BLOCK = 320
BLOCK_CYCLES = CPU_HZ * BLOCK // 16000  # 20 ms at 64 MHz


@pytest.fixture(scope="session")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("firmware")
    subprocess.run(["make", "-s", "-C", str(FIRMWARE_DIR), f"OUT={out}"], check=True)
    return out


def selftest(firmware: Path, cycle_model: bool = True) -> Machine:
    m = Machine(firmware / "selftest.elf", cycle_model=cycle_model)
    assert m.run(until_line="^ready$").stop_reason is StopReason.LINE
    return m


def command(m: Machine, cmd: bytes, until: str = "=|done") -> list[str]:
    m.write_uart(cmd)
    result = m.run(until_line=until, max_instructions=5_000_000)
    assert result.stop_reason is StopReason.LINE, result
    return result.lines


def test_uart_prints_and_echoes_rx(firmware: Path) -> None:
    m = selftest(firmware)
    assert m.lines == ["ready"]
    assert command(m, b"eHello, emulator\n") == ["echo=Hello, emulator"]
    assert command(m, b"?", until="unknown") == ["unknown"]
    assert m.line_times[0] == pytest.approx(m.line_times[0]) and 0 < m.line_times[0] < m.virtual_s


def test_dwt_counts_a_known_loop_exactly(firmware: Path) -> None:
    m = selftest(firmware, cycle_model=False)
    (line,) = command(m, b"c")
    cycles, n = map(int, re.findall(r"\d+", line))
    assert cycles == 1 + 2 * n  # one instruction per cycle: the first CYCCNT load, then n x (subs, bne)


def test_dwt_counts_modelled_cycles_with_the_cycle_model(firmware: Path) -> None:
    """selftest.c's loop `ldr.w r8, [r5]; 1: subs r3, #1; bne 1b; ldr.w r9, [r5]` (after a mov to r3).
    By the Cortex-M4 TRM: the first load 2 cycles (no neighbour load, address not just computed),
    each iteration subs 1 + bne 1, and the n - 1 taken branches a refill P = 2 to a 16-bit target.
    The second read returns the time before its own load."""
    m = selftest(firmware)
    before = m.profile()
    (line,) = command(m, b"c")
    cycles, n = map(int, re.findall(r"\d+", line))
    assert cycles == 2 + n * (1 + 1) + (n - 1) * 2

    plain = selftest(firmware, cycle_model=False)
    plain_before = plain.profile()
    assert command(plain, b"c") != [line]
    # The model changes no instruction count, but for the UART waits': they poll for the bytes'
    # wire time, which takes fewer iterations when each one costs its modelled cycles.
    waits = {"uart_write", "uart_getc"}

    def executed(machine: Machine, start: dict[str, int]) -> dict[str, int]:
        return {f: n - start.get(f, 0) for f, n in machine.profile().items() if f not in waits}

    assert executed(plain, plain_before) == executed(m, before)


def test_native_count_equals_per_instruction_count(firmware: Path) -> None:
    """Unicorn's code hook skips IT-conditional instructions whose condition fails; the native count
    (like Renode's, per translated instruction) includes them. The firmware only has single-slot ITs."""
    m = selftest(firmware)
    hooked = skipped = 0
    previous_it: int | None = None

    def on_code(uc: unicorn.Uc, address: int, size: int, data: object) -> None:
        nonlocal hooked, skipped, previous_it
        hooked += 1
        if previous_it is not None and address != previous_it + 2:
            skipped += 1
        first = int.from_bytes(uc.mem_read(address, 2), "little")
        previous_it = address if size == 2 and first & 0xFF0F == 0xBF08 else None

    m.uc.hook_add(unicorn.UC_HOOK_CODE, on_code)
    m.uc.ctl_flush_tb()  # cached blocks were translated without the code hook
    before, fast_forwarded = m.instructions, m.skipped_instructions
    command(m, b"b")
    # the polling loops waiting for UART bytes are fast-forwarded: those iterations never run
    assert m.instructions - before == hooked + skipped + m.skipped_instructions - fast_forwarded
    assert hooked > 500_000 and skipped > 0


def test_fpu_works_after_cpacr(firmware: Path) -> None:
    m = selftest(firmware)
    assert command(m, b"p") == ["fpu=8043"]  # int(sum(i * 0.5 for i < 100) * 3.25)


def test_fpu_before_cpacr_is_a_nocp_fault(firmware: Path) -> None:
    m = selftest(firmware)
    m.write_uart(b"x")
    with pytest.raises(EmulationFault, match="NOCP") as info:
        m.run(max_instructions=100_000)
    fn = m.image.functions[[f.name for f in m.image.functions].index("cmd_fpu")]
    first_fpu = int.from_bytes(m.read_memory(info.value.pc, 4)[:2], "little")
    assert fn.start <= info.value.pc < fn.start + fn.size
    assert first_fpu & 0xEC00 == 0xEC00
    assert "cmd_fpu" in str(info.value)


def test_invalid_memory_access_reports_pc_and_registers(firmware: Path) -> None:
    m = selftest(firmware)
    m.write_uart(b"m")
    with pytest.raises(EmulationFault) as info:
        m.run(max_instructions=100_000)
    message = str(info.value)
    assert "invalid memory read at 0xA0000000" in message
    for name in ("PC=", "LR=", "SP=", "xPSR=", "r0=", "r12="):
        assert name in message
    insn = m.read_memory(info.value.pc, 4)
    assert insn[1] & 0xF8 in (0x68, 0xF8) or insn[0:2] == b"\x1b\x68"  # a load: ldr / ldr.w
    assert info.value.result.lines == ["reading"]
    with pytest.raises(EmulationFault):
        m.run()  # a faulted machine stays faulted


def test_undefined_instruction_faults(firmware: Path) -> None:
    m = selftest(firmware)
    m.write_uart(b"u")
    with pytest.raises(EmulationFault, match="undefined instruction") as info:
        m.run(max_instructions=100_000)
    assert m.read_memory(info.value.pc, 2) == bytes([0x07, 0xDE])  # udf #7


def test_instruction_budget(firmware: Path) -> None:
    m = selftest(firmware, cycle_model=False)
    m.write_uart(b"s")
    start = m.instructions
    result = m.run(max_instructions=3_000_000)
    assert result.stop_reason is StopReason.BUDGET
    assert result.instructions - start == 3_000_000  # `b .` is a one-instruction block
    assert m.run(max_seconds_virtual=0.5).instructions - result.instructions == CPU_HZ // 2


def test_legacy_txd_prints_nothing_and_warns(firmware: Path) -> None:
    m = Machine(firmware / "selftest.elf", strict=False)
    assert m.run(until_line="^ready$").stop_reason is StopReason.LINE
    assert command(m, b"l") == ["legacy done"]
    assert any("unhandled write" in w and "0x51C" in w for w in m.warnings)


def test_profile_attributes_instructions_to_functions(firmware: Path, tmp_path: Path) -> None:
    m = selftest(firmware)
    command(m, b"b")
    profile = m.profile()
    assert sum(profile.values()) == m.instructions
    assert next(iter(profile)) == "cmd_bench"
    text = m.write_profile(tmp_path / "p.collapsed").read_text()
    assert re.fullmatch(r"(\S+ \d+\n)+", text)


def fnv(samples: np.ndarray) -> int:
    h = 2166136261
    for s in samples.astype(np.uint16).tolist():
        h = ((h ^ s) * 16777619) & 0xFFFFFFFF
    return h


def parse_blocks(lines: list[str]) -> list[dict[str, int]]:
    return [{k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", line)} for line in lines if line.startswith("block")]


@pytest.fixture(scope="module")
def pcm() -> np.ndarray:
    return np.random.default_rng(7).integers(-32768, 32768, 8 * BLOCK, dtype=np.int16)


def test_pdm_blocks_are_bit_exact_and_on_time(firmware: Path, pcm: np.ndarray) -> None:
    m = Machine(firmware / "pdm.elf", pcm.tobytes())
    result = m.run(until_line=r"^block i=7 ")
    blocks = parse_blocks(result.lines)
    assert [b["i"] for b in blocks] == list(range(8))
    for b, samples in zip(blocks, pcm.reshape(-1, BLOCK), strict=True):
        assert b["sum"] == int(samples.astype(np.int64).sum())
        assert b["hash"] == fnv(samples)
    boot_t = int(result.lines[0].split("t=")[1])
    for k, b in enumerate(blocks):
        # block k ends 20 ms x (k + 1) after TASKS_START; the poll loop sees it within one iteration
        assert 0 <= b["t"] - boot_t - (k + 1) * BLOCK_CYCLES < 40  # one iteration: under 40 cycles
    assert len({b["work"] for b in blocks}) == 1


def test_skip_ahead_changes_nothing_but_speed(firmware: Path, pcm: np.ndarray) -> None:
    runs = []
    for skip in (True, False):
        m = Machine(firmware / "pdm.elf", pcm[: 4 * BLOCK].tobytes(), skip_ahead=skip)
        result = m.run(until_line=r"^block i=3 ")
        runs.append((result.lines, result.line_times, (result.instructions, result.cycles), m.skipped_instructions))
    (lines_a, times_a, n_a, skipped), (lines_b, times_b, n_b, none) = runs
    assert lines_a == lines_b and times_a == times_b and n_a == n_b
    n_a = n_a[0]
    assert skipped > 0.9 * n_a and none == 0


def test_pcm_end_zeros_or_stop(firmware: Path, pcm: np.ndarray) -> None:
    m = Machine(firmware / "pdm.elf", pcm[:BLOCK].tobytes())
    blocks = parse_blocks(m.run(until_line=r"^block i=1 ").lines)
    assert blocks[1]["sum"] == 0 and blocks[1]["hash"] == fnv(np.zeros(BLOCK, np.int16))

    m = Machine(firmware / "pdm.elf", pcm[:BLOCK].tobytes(), on_pcm_end="stop")
    result = m.run(until_line=r"^block i=1 ")
    assert result.stop_reason is StopReason.PCM_END
    assert [b["i"] for b in parse_blocks(result.lines)] == [0]


def test_gpio_ports_keep_pin_state():
    from emulation.peripherals.gpio import Gpio

    class _Host:
        def __init__(self) -> None:
            self.warnings: list[str] = []

        def warn(self, message: str) -> None:
            self.warnings.append(message)

    host = _Host()
    gpio = Gpio(host)
    gpio.write(0x518, 1 << 17)  # P0 DIRSET
    gpio.write(0x508, (1 << 17) | (1 << 3))  # P0 OUTSET: pin 3 is an input
    gpio.write(0x300 + 0x508, 1 << 10)  # P1 OUTSET
    gpio.write(0x300 + 0x50C, 1 << 10)  # P1 OUTCLR
    assert gpio.read(0x504) == (1 << 17) | (1 << 3)
    assert gpio.read(0x510) == 1 << 17  # IN: only driven outputs read high
    assert gpio.read(0x300 + 0x504) == 0
    assert gpio.read(0x700 + 4 * 5) == 2 and gpio.read(0x300 + 0x700) == 2
    assert host.warnings == []


#: tests/firmware/strict.c's commands and what strict mode says of each.
STRICT = {
    b"f": r"4-byte store to flash at 0x000F0000 while NVMC CONFIG\.WEN is not Wen \(1\): flash is read-only",
    b"d": r"EasyDMA read of 11 bytes at 0x0000[0-9A-F]{4}, outside data RAM 0x20000000-0x2003FFFF",
    b"r": r"clock: unhandled read from offset 0x400 \(0x40000400\), a register the emulator does not model",
    b"t": r"read from non-existing peripheral at 0x4000C508 \(no model\)",
    b"l": r"uart0: unhandled write of 0x58 to offset 0x51C \(0x4000251C\)",
}


def strict_firmware(firmware: Path, strict: bool) -> Machine:
    m = Machine(firmware / "strict.elf", strict=strict)
    assert m.run(until_line="^ready$").stop_reason is StopReason.LINE
    return m


@pytest.mark.parametrize("cmd", list(STRICT))
def test_strict_mode_stops_at_the_access(firmware: Path, cmd: bytes) -> None:
    m = strict_firmware(firmware, strict=True)
    m.write_uart(cmd)
    with pytest.raises(StrictModeError) as info:
        m.run(max_instructions=1_000_000)
    first = str(info.value).splitlines()[0]
    assert re.fullmatch(rf"firmware fault: strict mode: {STRICT[cmd]}.* at PC=0x{info.value.pc:08X} \(main\) .*", first)
    main = next(f for f in m.image.functions if f.name == "main")
    assert main.start <= info.value.pc < main.start + main.size
    assert info.value.result.lines == [] and m.warnings == []
    with pytest.raises(StrictModeError):
        m.run()  # stopped for good, as after a fault


@pytest.mark.parametrize("cmd", list(STRICT))
def test_without_strict_mode_a_warning_and_the_run_goes_on(firmware: Path, cmd: bytes) -> None:
    m = strict_firmware(firmware, strict=False)
    assert command(m, cmd, until="^done$")[-1] == "done"
    (warning,) = m.warnings
    assert re.match(STRICT[cmd], warning)


def test_flash_programming_clears_bits_only(firmware: Path) -> None:
    """NVMC CONFIG.WEN=Wen: 0x12345678 then 0xFFFF00FF into an erased word reads back their AND."""
    m = strict_firmware(firmware, strict=True)
    assert command(m, b"P", until="^done$") == [f"flash={0x12345678 & 0xFFFF00FF}", "done"]
    assert m.read_memory(0x000F0000, 4) == (0x12345678 & 0xFFFF00FF).to_bytes(4, "little")
    assert m.read_memory(0x000F0004, 4) == b"\xff" * 4  # erased flash
    assert m.warnings == ["nvmc: flash programmed; the time it takes (tWRITE, the CPU halted) is not modelled"]


@pytest.mark.parametrize("strict", [True, False])
def test_halfword_store_to_flash_being_programmed_is_a_hardfault(firmware: Path, strict: bool) -> None:
    m = strict_firmware(firmware, strict=strict)
    m.write_uart(b"h")
    with pytest.raises(EmulationFault, match=r"2-byte store to flash at 0x000F0004 .*HardFault") as info:
        m.run(max_instructions=1_000_000)
    assert not isinstance(info.value, StrictModeError)
