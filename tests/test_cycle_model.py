"""The Cortex-M4 cycle model (emulation/native/counter.c) against cycle counts computed by hand.

Each sequence is assembled with arm-none-eabi-as, run in a bare Unicorn engine with the native
counter from `start` to `end`, and its modelled cycles compared with a sum written out below from
the Cortex-M4 Technical Reference Manual (ARM DDI 0439D): table 3-1 (integer), 3-2 (DSP), 7-1
(FPU) and section 3.3.2 "Load/store timings". P is the pipeline refill of a taken branch (TRM:
1-3); the model takes P = 2 (3 for a 32-bit target on an odd halfword, 3 after a load to the PC),
and SDIV/UDIV at their bound of 12 (README.md, "Cycle model").
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import unicorn
from unicorn import arm_const as arm

from emulation.counter import InstructionCounter

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-as") is None, reason="needs arm-none-eabi-as")

RAM = 0x20000000
SP = RAM + 0x8000


def assemble(tmp_path: Path, body: str) -> tuple[bytes, dict[str, int]]:
    """The flat binary of `body` at address 0 and its symbols."""
    source = tmp_path / "t.s"
    source.write_text(".syntax unified\n.thumb\n.text\n" + body + "\n")
    obj, elf, binary = tmp_path / "t.o", tmp_path / "t.elf", tmp_path / "t.bin"
    subprocess.run(["arm-none-eabi-as", "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-o", obj, source], check=True)
    subprocess.run(["arm-none-eabi-ld", "-e", "start", "-Ttext=0", "-o", elf, obj], check=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", elf, binary], check=True)
    nm = subprocess.run(["arm-none-eabi-nm", elf], check=True, capture_output=True, text=True).stdout
    rows = (line.split() for line in nm.splitlines() if line[:1] != " ")
    symbols = {name: int(value, 16) for value, _kind, name in rows}
    return binary.read_bytes(), symbols


def run(tmp_path: Path, body: str, **registers: int) -> tuple[int, int]:
    """(instructions, modelled cycles) from `start` to `end` of `body`, registers set first."""
    code, symbols = assemble(tmp_path, body)
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB)
    uc.ctl_set_cpu_model(arm.UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(0, 1 << 16)
    uc.mem_map(RAM, 1 << 16)
    uc.mem_write(0, code)
    uc.reg_write(arm.UC_ARM_REG_SP, SP)
    for name, value in registers.items():
        uc.reg_write(getattr(arm, f"UC_ARM_REG_{name.upper()}"), value)
    counter = InstructionCounter(uc, ((0x40000000, 0x40000FFF), (0xE0000000, 0xE0000FFF)))
    counter.s.fpu_enabled = 1
    try:
        uc.emu_start(symbols["start"] | 1, symbols["end"])
        return counter.total, counter.cycles
    finally:
        counter.close()


def test_single_load(tmp_path: Path) -> None:
    body = """
start:
    movs r2, #1        @ 1
    ldr r0, [r1]       @ LDR: 2 (no load before it, r1 not just written)
    adds r2, #1        @ 1
end: nop"""
    assert run(tmp_path, body, r1=RAM) == (3, 1 + 2 + 1)


def test_neighbouring_loads_pipeline(tmp_path: Path) -> None:
    """TRM 3.3.2: LDR R0,[R1,R5]; LDR R1,[R2]; LDR R2,[R3,#4] - normally four cycles total; a load or
    store after a load pipelines (one cycle less) unless its address uses the loaded register."""
    body = """
start:
    ldr r0, [r1, r5]   @ 2
    ldr r1, [r2]       @ 1: pipelined
    ldr r2, [r3, #4]   @ 1: pipelined
    str r1, [r3, #8]   @ 1: a store after a load pipelines too
    ldr r4, [r3]       @ 2: nothing pipelines after a store
    ldr r6, [r4]       @ 2: its address is the previous load's destination
end: nop"""
    assert run(tmp_path, body, r1=RAM, r2=RAM, r3=RAM + 16, r4=RAM, r5=0) == (6, 2 + 1 + 1 + 1 + 2 + 2)


def test_address_from_the_previous_result_stalls(tmp_path: Path) -> None:
    """TRM 3.3.2: a load whose address the preceding data-processing instruction computed stalls one cycle."""
    body = """
start:
    adds r1, #4        @ 1
    ldr r0, [r1]       @ 2 + 1 (no forwarding path for the address)
    ldr r2, [r3]       @ 1: pipelined behind the load
end: nop"""
    assert run(tmp_path, body, r1=RAM, r3=RAM) == (3, 1 + (2 + 1) + 1)


def test_ldm_stm_push_and_ldrd(tmp_path: Path) -> None:
    """LDM/STM/PUSH: 1 + N, not pipelined with neighbours; LDRD/STRD: 1 + N with N = 2."""
    body = """
start:
    ldm r1, {r2-r5}    @ 1 + 4
    stmia r6!, {r2-r5} @ 1 + 4
    push {r4-r7, lr}   @ 1 + 5
    ldrd r2, r3, [r1]  @ 1 + 2
    strd r2, r3, [r1, #8] @ 1 + 2
end: nop"""
    assert run(tmp_path, body, r1=RAM, r6=RAM + 64) == (5, 5 + 5 + 6 + 3 + 3)


def test_smlad_loop(tmp_path: Path) -> None:
    """Four iterations of a dual 16-bit MAC loop, aligned so the branch target is word-aligned."""
    body = """
    .p2align 2
start:
    ldr r4, [r1], #4   @ 2: first in its block
    ldr r5, [r2], #4   @ 1: pipelined (address r2, not r4)
    smlad r0, r4, r5, r0 @ 1
    subs r3, #1        @ 1
    bne start          @ 1, + P = 2 when taken (target a 32-bit LDR on a word boundary)
end: nop"""
    n = 4
    assert run(tmp_path, body, r1=RAM, r2=RAM + 64, r3=n) == (5 * n, n * (2 + 1 + 1 + 1 + 1) + (n - 1) * 2)


BRANCH = """
start:
    cmp r0, #0         @ 1
    beq skip           @ 1, + P = 2 if taken (target a 16-bit instruction)
    adds r1, #1        @ 1 (not taken only)
skip:
    adds r2, #1        @ 1
end: nop"""


def test_untaken_branch(tmp_path: Path) -> None:
    assert run(tmp_path, BRANCH, r0=1) == (4, 1 + 1 + 1 + 1)


def test_taken_branch(tmp_path: Path) -> None:
    assert run(tmp_path, BRANCH, r0=0) == (3, 1 + (1 + 2) + 1)


def test_taken_branch_to_a_32_bit_instruction_on_an_odd_halfword(tmp_path: Path) -> None:
    body = """
    .p2align 2
start:
    b.w target         @ 1 + P = 3: the 32-bit target straddles two words
    nop
target:
    add.w r0, r0, #1   @ 1 (at address 6)
end: nop"""
    assert run(tmp_path, body) == (2, (1 + 3) + 1)


@pytest.mark.parametrize(("r0", "expected"), [(0, (2, (1 + 2) + 1)), (5, (3, 1 + 1 + 1))])
def test_cbz(tmp_path: Path, r0: int, expected: tuple[int, int]) -> None:
    body = """
start:
    cbz r0, skip       @ 1, + P = 2 if taken
    adds r1, #1        @ 1 (not taken only)
skip:
    adds r2, #1        @ 1
end: nop"""
    assert run(tmp_path, body, r0=r0) == expected


def test_it_block_folds_after_a_16_bit_instruction(tmp_path: Path) -> None:
    """IT folds onto a preceding 16-bit instruction (0 cycles), not onto a 32-bit one (1 cycle).
    The conditional instruction whose condition fails is costed as executed (1 cycle)."""
    body = """
start:
    cmp r0, #1         @ 1 (16-bit)
    ite eq             @ 0: folded
    moveq r1, #1       @ 1
    movne r1, #2       @ 1 (skipped: still a cycle)
    cmp.w r0, #1       @ 1 (32-bit)
    it eq              @ 1: not folded
    addeq r2, #1       @ 1
end: nop"""
    assert run(tmp_path, body, r0=1) == (7, 1 + 0 + 1 + 1 + 1 + 1 + 1)


def test_divides_at_their_bound(tmp_path: Path) -> None:
    """SDIV/UDIV take 2-12 cycles by operands (TRM table 3-1, note a); the model charges the bound 12."""
    body = """
start:
    movs r1, #100      @ 1
    movs r2, #7        @ 1
    udiv r0, r1, r2    @ 12
    sdiv r3, r1, r2    @ 12
    mul r4, r0, r3     @ 1
    mla r4, r0, r3, r4 @ 1
    smull r5, r6, r0, r3 @ 1
end: nop"""
    assert run(tmp_path, body) == (7, 1 + 1 + 12 + 12 + 1 + 1 + 1)


def test_call_and_returns(tmp_path: Path) -> None:
    """BL and BX LR: 1 + P each; POP {.., pc}: 1 + N + P with P = 3 after a load to the PC."""
    body = """
start:
    bl func            @ 1 + P = 3 (target a 16-bit instruction)
    adr r2, back       @ 1
    adds r2, #1        @ 1 (Thumb bit)
    push {r1, r2}      @ 1 + 2
    pop {r1, pc}       @ 1 + 2 + 3
    nop
    .p2align 2
back:
    adds r0, #1        @ 1
end: nop
func:
    bx lr              @ 1 + P = 3 (back to a 16-bit instruction)"""
    assert run(tmp_path, body) == (7, 3 + 3 + 1 + 1 + 3 + 6 + 1)


def test_vfp(tmp_path: Path) -> None:
    """TRM table 7-1, each instruction independent of the one before it."""
    body = """
start:
    vadd.f32 s0, s1, s2    @ 1
    vmul.f32 s3, s1, s2    @ 1
    vmla.f32 s4, s1, s2    @ 3
    vdiv.f32 s5, s1, s2    @ 14
    vsqrt.f32 s6, s1       @ 14
    vldr s7, [r1]          @ 2
    vstr s8, [r1, #4]      @ 2
    vldr d5, [r1, #8]      @ 3
    vpush {s16-s19}        @ 1 + 4
    vpop {d8-d9}           @ 1 + 2 * 2
    vmov r0, s0            @ 1
    vmov s0, s1, r2, r3    @ 2
end: nop"""
    assert run(tmp_path, body, r1=RAM) == (12, 1 + 1 + 3 + 14 + 14 + 2 + 2 + 3 + 5 + 5 + 1 + 2)


def test_vfp_result_consumed_by_the_next_instruction(tmp_path: Path) -> None:
    """TRM 7.2.3: arithmetic takes one cycle longer if the next instruction consumes its result; a
    multiply-accumulate reads its addend a cycle later, so an addend from the previous one is free."""
    body = """
start:
    vadd.f32 s0, s1, s2    @ 1
    vmul.f32 s3, s0, s1    @ 1 + 1: s0 from the previous instruction
    vmla.f32 s3, s4, s5    @ 3: s3 is the addend
    vstr s3, [r1]          @ 2 + 1: stores the previous result
    vabs.f32 s6, s7        @ 1
    vmov r0, s6            @ 1: VABS is not arithmetic
end: nop"""
    assert run(tmp_path, body, r1=RAM) == (6, 1 + (1 + 1) + 3 + (2 + 1) + 1 + 1)
