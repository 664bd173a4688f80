"""Speed of the Unicorn backend.

1. Emulated instructions per second with exact native counting (goal >= 50 M/s), on the self-test
   firmware's long array loop and on a one-instruction spin, next to bare Unicorn (no hooks) on
   the same loop.
2. The PDM polling firmware: host time for N virtual seconds with and without skip-ahead.
3. With ``--build BUILD`` (a BUILD with variants.json, see robot_tests/run.py): the whole test
   split through each variant's emulated firmware, one boot per clip fed through the PDM as
   ``kws emulate`` does: clips per second and host seconds per virtual second.

    .venv/bin/python benchmarks/bench_emulation.py [--virtual-seconds 10] [--build BUILD]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import unicorn
from unicorn import arm_const as arm

from emulation.elf import FirmwareImage
from emulation.unicorn_backend import CPU_HZ, FLASH, RAM, Machine

FIRMWARE_DIR = Path(__file__).resolve().parent.parent / "tests" / "firmware"


def build(out: Path) -> None:
    subprocess.run(["make", "-s", "-C", str(FIRMWARE_DIR), f"OUT={out}"], check=True)


def counted_bench(elf: Path, cycle_model: bool = True) -> tuple[int, float]:
    """cmd_bench(100000) through the Machine: exact counts, peripherals, everything."""
    m = Machine(elf, cycle_model=cycle_model)
    m.run(until_line="^ready$")
    m.write_uart(b"B")
    start, t0 = m.instructions, time.perf_counter()
    m.run(until_line="^bench=", max_instructions=10**9)
    return m.instructions - start, time.perf_counter() - t0


def counted_spin(elf: Path, instructions: int) -> float:
    m = Machine(elf)
    m.run(until_line="^ready$")
    m.write_uart(b"s")
    t0 = time.perf_counter()
    m.run(max_instructions=instructions)
    return time.perf_counter() - t0


def bare_bench(elf: Path) -> float:
    """The same cmd_bench(100000) call on a bare Unicorn engine: no hooks, no MMIO."""
    image = FirmwareImage(elf)
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB)
    uc.ctl_set_cpu_model(arm.UC_CPU_ARM_CORTEX_M4)
    for base, size in (FLASH, RAM):
        uc.mem_map(base, size)
    for seg in image.segments:
        uc.mem_write(seg.address, seg.data)
    uc.reg_write(arm.UC_ARM_REG_SP, image.reset_vector()[0])
    uc.reg_write(arm.UC_ARM_REG_R0, 100000)
    t0 = time.perf_counter()
    uc.emu_start(image.symbols["cmd_bench"] | 1, image.symbols["put_str"] & ~1)  # stops at its first print
    return time.perf_counter() - t0


def pdm_run(elf: Path, seconds: float, skip_ahead: bool) -> tuple[float, list[str]]:
    pcm = np.random.default_rng(0).integers(-32768, 32768, int(seconds * 16000) + 320, dtype=np.int16)
    m = Machine(elf, pcm.tobytes(), skip_ahead=skip_ahead)
    t0 = time.perf_counter()
    result = m.run(max_seconds_virtual=seconds)
    return time.perf_counter() - t0, result.lines


def test_split_runs(build: Path) -> None:
    """Every clip of the test split of BUILD's dataset through every variant's firmware."""
    import json

    from emulation.clip import run_clip
    from model.deploy.verify import data_pcm

    spec = json.loads((build / "variants.json").read_text())
    clips = [pcm.astype("<i2").tobytes() for _, pcm in data_pcm(Path(spec["data"]))]
    print(f"test split of {spec['data']}: {len(clips)} clips, one boot each:")
    for variant in spec["variants"]:
        elf = build / variant["dir"] / "kws.elf"
        t0, cycles = time.perf_counter(), 0
        for pcm in clips:
            cycles += run_clip(elf, pcm).cycles
        host = time.perf_counter() - t0
        virtual = cycles / CPU_HZ
        print(
            f"  {variant['name']:>10}: {host:7.2f} s host, {len(clips) / host:6.1f} clips/s, "
            f"{virtual:7.2f} s virtual, {host / virtual:5.3f} host s per virtual s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--virtual-seconds", type=float, default=10.0)
    parser.add_argument("--build", type=Path, help="also time the test split through each variant of this BUILD")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        build(out)
        n, counted = counted_bench(out / "selftest.elf")
        _, plain = counted_bench(out / "selftest.elf", cycle_model=False)
        bare = bare_bench(out / "selftest.elf")
        spin_n = 200_000_000
        spin = counted_spin(out / "selftest.elf", spin_n)
        print(f"array loop, {n / 1e6:.1f} M instructions:")
        print(f"  exact counting, cycle model on (Machine): {counted:6.3f} s  {n / counted / 1e6:7.1f} M instr/s")
        print(
            f"  exact counting, cycle model off:          {plain:6.3f} s  {n / plain / 1e6:7.1f} M instr/s"
            f"  (on/off time {counted / plain:.2f}x)"
        )
        print(f"  bare Unicorn, no hooks:                   {bare:6.3f} s  {n / bare / 1e6:7.1f} M instr/s")
        print(
            f"one-instruction spin (`b .`), {spin_n / 1e6:.0f} M: {spin:6.3f} s  {spin_n / spin / 1e6:7.1f} M instr/s"
        )
        s = args.virtual_seconds
        fast, lines_fast = pdm_run(out / "pdm.elf", s, True)
        slow, lines_slow = pdm_run(out / "pdm.elf", s, False)
        same = "identical" if lines_fast == lines_slow else "DIFFERENT"
        print(f"PDM polling firmware, {s:g} virtual s ({s * CPU_HZ / 1e6:.0f} M modelled cycles):")
        print(f"  skip-ahead on:  {fast:7.3f} s host")
        print(f"  skip-ahead off: {slow:7.3f} s host  ratio {slow / fast:.0f}x, UART output {same}")
    if args.build is not None:
        test_split_runs(args.build)


if __name__ == "__main__":
    main()
