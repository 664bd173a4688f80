"""Stage costs of each firmware of a BUILD in executed instructions and in modelled Cortex-M4 cycles.

Each variant streams a test clip (repeated) from reset for a few virtual seconds, once with the
cycle model (DWT counts modelled cycles) and once without (DWT counts executed instructions); the
firmware's `profile` lines then give the worst case per PDM block of each stage, and the real-time
margin is what is left of the block: block cycles - (pre + inf + post).

    .venv/bin/python benchmarks/bench_cycles.py --build BUILD [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from emulation.unicorn_backend import CPU_HZ, Machine
from model.deploy.verify import data_pcm

FRAME_CYCLES = CPU_HZ // 50  # 20 ms


def profile(elf: Path, pcm: bytes, seconds: float, cycle_model: bool) -> tuple[dict[str, int], dict[str, str]]:
    """Worst case per stage of the `profile` lines after `seconds` of streaming, and the boot line's fields."""
    machine = Machine(elf, pcm, cycle_model=cycle_model)
    machine.run(max_seconds_virtual=seconds)
    boot = next(line for line in machine.lines if line.startswith("boot "))
    # While streaming, the firmware reads commands only between inferences and the UARTE's FIFO
    # holds 5 bytes: pace the command a byte per twice the boot-time inference (at least 20 ms),
    # as a host must (firmware/README.md), or a slow model's profile command is lost to overrun.
    gap = max(0.02, 2 * int(dict(re.findall(r"(\w+)=(\S+)", boot)).get("boot_inf", 0)) / CPU_HZ)
    for byte in b"profile\n":
        machine.write_uart(bytes([byte]))
        machine.run(max_seconds_virtual=gap)
    machine.run(until_line=r"^profile stage=stack", max_seconds_virtual=1.0)
    worst = {}
    for line in machine.lines:
        match = re.match(r"profile stage=(pre|inf|post) .*max=(\d+)", line)
        if match:
            worst[match[1]] = int(match[2])
    machine.close()
    return worst, dict(re.findall(r"(\w+)=(\S+)", boot))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True, help="a BUILD directory with variants.json")
    parser.add_argument("--seconds", type=float, default=3.0, help="virtual seconds of streaming (default 3)")
    args = parser.parse_args()
    spec = json.loads((args.build / "variants.json").read_text())
    _, clip = next(iter(data_pcm(Path(spec["data"]))))
    pcm = np.tile(clip, int(args.seconds) + 2).astype("<i2").tobytes()
    print("worst case per PDM block (profile after streaming), instructions -> modelled cycles:")
    for variant in spec["variants"]:
        elf = args.build / variant["dir"] / "kws.elf"
        instructions, plain_boot = profile(elf, pcm, args.seconds, cycle_model=False)
        cycles, boot = profile(elf, pcm, args.seconds, cycle_model=True)
        stride = int(boot.get("stride", 1))
        block = FRAME_CYCLES * stride
        used = sum(cycles.values())
        # pre covers a block; the two runs may pace differently (their DWTs differ), so compare per frame
        per_frame = {"pre": (int(plain_boot.get("stride", 1)), stride), "inf": (1, 1), "post": (1, 1)}
        stages = "  ".join(
            f"{s}{' per frame' if s == 'pre' else ''} {instructions[s] // per_frame[s][0]:,} -> "
            f"{cycles[s] // per_frame[s][1]:,} ({cycles[s] * per_frame[s][0] / per_frame[s][1] / instructions[s]:.2f}x)"
            for s in cycles
        )
        print(f"  {variant['name']:>10} stride {stride} realtime={boot.get('realtime')}: {stages}")
        print(
            f"  {'':>10} block {block:,} cycles: pre + inf + post {cycles['pre']:,} + {cycles['inf']:,} + "
            f"{cycles['post']:,} = {used:,}, margin {block - used:,} cycles ({100 * (block - used) / block:.0f} %)"
        )


if __name__ == "__main__":
    main()
