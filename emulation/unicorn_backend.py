"""Unicorn backend: runs an nRF52840 firmware ELF on a Cortex-M4 model with exact instruction counts
and modelled Cortex-M4 cycles (emulation/native/counter.c; README.md, "Cycle model").

With the cycle model (the default) virtual time is modelled cycles / 64 MHz and DWT CYCCNT counts
those cycles; without it, executed instructions stand for cycles, as in Renode with
`cpu PerformanceInMips 64`. Peripherals behave as Renode's models (renode-nrf52840.md), except
where Renode is kinder than the chip: UARTE0 bytes take their time at the BAUDRATE.
Unicorn emulates no NVIC or exception entry: firmware polls, and any fault stops the run.

Strict mode (the default) stops the run with a StrictModeError, as at a fault, on what the chip
refuses or the emulator does not model: a store to flash unless the NVMC is set for writing,
EasyDMA pointers outside data RAM, accesses to peripheral registers no model implements and to
peripheral pages without a model. Without it those are warnings (once each) and the run goes on.
Unmapped addresses and misaligned or byte stores to flash being programmed fault in both modes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import unicorn
from unicorn import arm_const as arm

from emulation.counter import STOP_LIMIT, STOP_NOCP, InstructionCounter
from emulation.elf import FirmwareImage
from emulation.errors import EmulationError, EmulationFault, InvalidFirmware, RunResult, StopReason, StrictModeError
from emulation.peripherals.base import Peripheral, log
from emulation.peripherals.clock import Clock
from emulation.peripherals.dwt import Dwt
from emulation.peripherals.gpio import Gpio
from emulation.peripherals.nvmc import Nvmc
from emulation.peripherals.pdm import Pdm
from emulation.peripherals.system import SystemControl
from emulation.peripherals.uarte import Uarte
from emulation.profile import collapsed_stacks

CPU_HZ = 64_000_000
FLASH = (0x00000000, 1 << 20)
RAM = (0x20000000, 256 << 10)
PERIPHERALS = (0x40000000, 0x20000000)  # APB/AHB peripherals and GPIO (0x50000000)
PPB = (0xE0000000, 0x00100000)  # private peripheral bus: DWT, SCS
DEFAULT_BUDGET_S = 60  # a run with no limit given stops after this much virtual time
_NO_LIMIT = (1 << 64) - 1  # the native counter's "no limit" (UINT64_MAX)
NEVER = 0xFFFFFFFE  # `until` address of emu_start: nothing executes there
SPIN_MAX_PERIOD = 4096  # instructions per iteration of a loop that skip-ahead may fast-forward (pause.h: ~2,100)

_REGISTERS = {f"r{i}": getattr(arm, f"UC_ARM_REG_R{i}") for i in range(13)} | {
    "sp": arm.UC_ARM_REG_SP,
    "lr": arm.UC_ARM_REG_LR,
    "pc": arm.UC_ARM_REG_PC,
    "xpsr": arm.UC_ARM_REG_XPSR,
}
_SPIN_REGISTERS = [reg for name, reg in _REGISTERS.items() if name != "pc"]

_UC_FAULTS = {
    unicorn.UC_ERR_READ_UNMAPPED: "invalid memory read",
    unicorn.UC_ERR_WRITE_UNMAPPED: "invalid memory write",
    unicorn.UC_ERR_FETCH_UNMAPPED: "instruction fetch from invalid memory",
    unicorn.UC_ERR_READ_PROT: "read from protected memory",
    unicorn.UC_ERR_WRITE_PROT: "write to protected memory",
    unicorn.UC_ERR_FETCH_PROT: "instruction fetch from non-executable memory",
    unicorn.UC_ERR_READ_UNALIGNED: "unaligned read",
    unicorn.UC_ERR_WRITE_UNALIGNED: "unaligned write",
    unicorn.UC_ERR_INSN_INVALID: "undefined instruction (UsageFault UNDEFINSTR)",
    unicorn.UC_ERR_EXCEPTION: "unhandled CPU exception",
}


class _Refused(Exception):
    """An access refused in strict mode; `pc` is the accessing instruction's, once known."""

    def __init__(self, message: str, pc: int | None = None, *, fault: bool = False) -> None:
        super().__init__(message)
        self.pc = pc
        self.fault = fault  # a fault of the chip itself, whatever the mode


@dataclass
class _Spin:
    """A candidate idle polling loop, keyed by its first event read (instruction, register)."""

    key: tuple[int, int] | None = None
    last: tuple[int, int] = (0, 0)  # (instructions, cycles) at the read
    period: tuple[int, int] = (0, 0)
    registers: list[int] | None = None


class Machine:
    """An nRF52840 running one firmware ELF.

    pcm: s16le mono samples for the PDM microphone. on_pcm_end: "zeros" (Renode's behaviour) or
    "stop" (the run returns with StopReason.PCM_END when a block can no longer be filled).
    skip_ahead: fast-forward polling loops to the next PDM or UART event (see `_poll`); results are the same.
    strict: refused accesses stop the run with a StrictModeError; off, they are warnings (module docstring).
    cycle_model: virtual time and DWT CYCCNT follow modelled Cortex-M4 cycles (on, as silicon does)
    or executed instructions (off: one instruction per cycle, Renode's timing). Both are counted.
    """

    def __init__(
        self,
        elf_path: str | Path,
        pcm: bytes | None = None,
        *,
        skip_ahead: bool = True,
        on_pcm_end: str = "zeros",
        strict: bool = True,
        cycle_model: bool = True,
    ) -> None:
        self.image = FirmwareImage(elf_path)
        self.skip_ahead = skip_ahead
        self.strict = strict
        self.uc = uc = self._load_image()
        self.cycle_model = cycle_model
        mmio = ((PERIPHERALS[0], sum(PERIPHERALS) - 1), (PPB[0], sum(PPB) - 1))
        self.counter = InstructionCounter(uc, mmio, cycle_time=cycle_model)
        self._unmapped: tuple[str, int] | None = None
        uc.hook_add(unicorn.UC_HOOK_MEM_UNMAPPED, self._on_unmapped)
        uc.hook_add(unicorn.UC_HOOK_MEM_WRITE_PROT, self._on_flash_store, None, FLASH[0], sum(FLASH) - 1)
        self._refused: _Refused | None = None

        self.lines: list[str] = []
        self.line_times: list[float] = []
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        self._partial = bytearray()
        self._pattern: re.Pattern[str] | None = None
        self._stop_reason: StopReason | None = None
        self._in_access = False
        self._access_now: tuple[int, int] | None = None  # (instructions, cycles) before the access
        self._spin = _Spin()
        self._profile_adjust: dict[int, int] = defaultdict(int)
        self.skipped_instructions = 0
        self.skipped_cycles = 0
        self._fault: EmulationFault | None = None
        self._first_line = 0

        self.uarte = Uarte(self, self._on_tx, CPU_HZ)
        self.pdm = Pdm(self, pcm, CPU_HZ, on_pcm_end, self._pcm_exhausted)
        self.dwt = Dwt(self)
        self.clock = Clock(self)
        self.scs = SystemControl(self, self._set_fpu_enabled)
        self.gpio = Gpio(self)
        self.nvmc = Nvmc(self)
        self._timed: tuple[Pdm | Uarte, ...] = (self.pdm, self.uarte)
        self._pages: dict[int, Peripheral] = {
            p.base >> 12: p for p in (self.uarte, self.pdm, self.dwt, self.clock, self.scs, self.gpio, self.nvmc)
        }
        sp, self._pc = self.image.reset_vector()
        uc.reg_write(arm.UC_ARM_REG_SP, sp)

    def _load_image(self) -> unicorn.Uc:
        """A Cortex-M4 engine with the ELF's segments in flash (read and execute only: stores go to
        _on_flash_store; erased flash reads all ones) and RAM, and the peripherals mapped as MMIO."""
        uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB)
        uc.ctl_set_cpu_model(arm.UC_CPU_ARM_CORTEX_M4)  # not UC_MODE_MCLASS: that is a Cortex-M33
        uc.mem_map(FLASH[0], FLASH[1], unicorn.UC_PROT_READ | unicorn.UC_PROT_EXEC)
        uc.mem_map(RAM[0], RAM[1])
        uc.mem_write(FLASH[0], b"\xff" * FLASH[1])
        for seg in self.image.segments:
            end = seg.address + len(seg.data)
            if not any(base <= seg.address and end <= base + size for base, size in (FLASH, RAM)):
                raise InvalidFirmware(f"{self.image.path}: segment at 0x{seg.address:08x} is outside flash and RAM")
            uc.mem_write(seg.address, seg.data)
        for base, size in (PERIPHERALS, PPB):
            uc.mmio_map(base, size, self._mmio_read, base, self._mmio_write, base)
        return uc

    # --- what peripherals see (emulation.peripherals.base.Host) ---

    def now(self) -> int:
        """Virtual time in CPU cycles (modelled, or instructions without the cycle model); inside an
        MMIO access, the time before the accessing instruction."""
        instructions, cycles = self._counts()
        return cycles if self.cycle_model else instructions

    def _counts(self) -> tuple[int, int]:
        """(instructions, cycles) so far; inside an MMIO access, before the accessing instruction."""
        if not self._in_access:
            return self.counter.total, self.counter.cycles
        if self._access_now is None:
            self._access_now = self.counter.at_access()
        return self._access_now

    def dma_read(self, address: int, size: int) -> bytes:
        self._check_dma("read", address, size)
        try:
            return bytes(self.uc.mem_read(address, size))
        except unicorn.UcError:
            self.warn(f"DMA read of {size} bytes from unmapped 0x{address:08X}: zeros")
            return bytes(size)

    def dma_write(self, address: int, data: bytes) -> None:
        self._check_dma("write", address, len(data))
        try:
            self.uc.mem_write(address, data)
        except unicorn.UcError:
            self.warn(f"DMA write of {len(data)} bytes to unmapped 0x{address:08X}: dropped")

    def schedule(self, at: int) -> None:
        self.counter.s.time_limit = min(self.counter.s.time_limit, at)

    def warn(self, message: str) -> None:
        """Log like Renode does; each distinct message is logged once (polling would flood the log)."""
        if message not in self._warned:
            self._warned.add(message)
            self.warnings.append(message)
            log.warning(message)

    def refuse(self, message: str, otherwise: str) -> None:
        """An access the chip refuses or the emulator does not model: StrictModeError (raised when the
        current run stops, at the accessing instruction) in strict mode, else a warning saying
        what happens instead (`otherwise`)."""
        if not self.strict:
            self.warn(f"{message}: {otherwise}")
        elif self._in_access:
            raise _Refused(message)  # the MMIO callback stops the run at the accessing instruction
        else:  # between two emulation slices (a PDM block, say): the CPU stands at self._pc
            self._raise_fault(f"strict mode: {message}", self._first_line, StrictModeError)

    # --- public API ---

    @property
    def instructions(self) -> int:
        return self.counter.total

    @property
    def cycles(self) -> int:
        """Modelled Cortex-M4 cycles (counted whether or not the cycle model drives the clock)."""
        return self.counter.cycles

    @property
    def clock_cycles(self) -> int:
        """Virtual time in CPU cycles at CPU_HZ: what DWT CYCCNT counts."""
        return self.counter.clock

    @property
    def virtual_s(self) -> float:
        return self.counter.clock / CPU_HZ

    def write_uart(self, data: bytes) -> None:
        """The host writes bytes now: they reach UARTE0's receiver one after the other at its baud rate."""
        self.uarte.feed(data)

    def stop(self) -> None:
        """Stop the current run (from a callback or another thread)."""
        self._stop_reason = StopReason.STOPPED
        self._request_stop()

    def symbol(self, name: str) -> int:
        return self.image.symbols[name]

    def read_memory(self, address: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(address, size))

    def registers(self) -> dict[str, int]:
        return {name: self.uc.reg_read(reg) for name, reg in _REGISTERS.items()}

    def run(
        self,
        until_line: str | re.Pattern[str] | None = None,
        max_instructions: int | None = None,
        max_seconds_virtual: float | None = None,
        max_cycles: int | None = None,
    ) -> RunResult:
        """Run until a new UART line matches `until_line` (regex search), the budget is spent or a
        fault. Budgets (executed instructions; virtual seconds or cycles of the clock) count from the
        start of this run; with none given a run stops after DEFAULT_BUDGET_S virtual seconds.
        Raises EmulationFault on a fault."""
        if self._fault is not None:
            raise self._fault
        end = self.counter.total + max_instructions if max_instructions is not None else _NO_LIMIT
        budget = [] if max_cycles is None else [max_cycles]
        if max_seconds_virtual is not None:
            budget.append(round(max_seconds_virtual * CPU_HZ))
        if not budget and max_instructions is None:
            budget.append(DEFAULT_BUDGET_S * CPU_HZ)
        budget_end = self.counter.clock + min(budget) if budget else _NO_LIMIT
        self._pattern = re.compile(until_line) if isinstance(until_line, str) else until_line
        self._stop_reason = None
        first_line = self._first_line = len(self.lines)
        while self._stop_reason is None:
            self.counter.s.limit = end
            self.counter.s.time_limit = min([budget_end, *self._event_times()])
            self.counter.s.stop = 0
            try:
                self.uc.emu_start(self._pc | 1, NEVER)
            except unicorn.UcError as err:
                self._pc = self.uc.reg_read(arm.UC_ARM_REG_PC)
                self._raise_refused(first_line)
                self._raise_fault(self._describe(err), first_line)
            self._pc = self.uc.reg_read(arm.UC_ARM_REG_PC)
            self._raise_refused(first_line)
            if self.counter.s.stop == STOP_NOCP:
                self._nocp(first_line)
            if self._stop_reason is not None:
                break
            if self.counter.s.stop != STOP_LIMIT:
                raise EmulationError(
                    f"CPU halted at PC=0x{self._pc:08x} ({self.image.function_at(self._pc)}), e.g. WFI/WFE:"
                    " the Unicorn backend models no interrupts"
                )
            now = self.counter.clock
            due = [p for p in self._timed if p.next_fire is not None and now >= p.next_fire]
            for p in due:
                p.fire()
            if due:  # the loop under watch may now see the event between two of its reads: watch anew
                self._spin = _Spin()
            if not due and (now >= budget_end or self.counter.total >= end):
                self._stop_reason = StopReason.BUDGET
        self._pattern = None
        return self._result(self._stop_reason, first_line)

    def _event_times(self) -> list[int]:
        """When peripherals on virtual time (PDM blocks, UART bytes) next need the machine."""
        return [p.next_fire for p in self._timed if p.next_fire is not None]

    def profile(self) -> dict[str, int]:
        """Executed instructions per function (from the ELF's symbols), largest first."""
        counts: dict[str, int] = defaultdict(int)
        for address, _size, count, hits, _cycles in self.counter.blocks():
            counts[self.image.function_at(address)] += count * hits
        for address, n in self._profile_adjust.items():
            counts[self.image.function_at(address)] += n
        return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: -kv[1]))

    def write_profile(self, path: str | Path) -> Path:
        """The profile as a collapsed-stack file (`function count` lines) that speedscope opens."""
        path = Path(path)
        path.write_text(collapsed_stacks(self.profile()))
        return path

    def close(self) -> None:
        self.counter.close()

    # --- internals ---

    def _result(self, reason: StopReason, first_line: int) -> RunResult:
        return RunResult(
            lines=self.lines[first_line:],
            instructions=self.counter.total,
            cycles=self.counter.cycles,
            virtual_s=self.virtual_s,
            stop_reason=reason,
            line_times=self.line_times[first_line:],
            warnings=list(self.warnings),
        )

    def _request_stop(self) -> None:
        """Stop at the next block boundary. uc.emu_stop() inside an MMIO callback would abandon the
        accessing instruction, which then runs again on resume (a second STARTTX, say)."""
        self.counter.s.limit = 0

    def _set_fpu_enabled(self, enabled: bool) -> None:
        self.counter.s.fpu_enabled = int(enabled)

    def _pcm_exhausted(self) -> None:
        self._stop_reason = StopReason.PCM_END

    def _on_tx(self, data: bytes, at: int) -> None:
        """Bytes whose stop bit ended at virtual time `at` (CPU cycles): a line is seen when its
        newline has left the wire."""
        self._partial += data
        while b"\n" in self._partial:
            raw, _, rest = self._partial.partition(b"\n")
            self._partial = bytearray(rest)
            line = raw.decode("latin-1").rstrip("\r")
            self.lines.append(line)
            self.line_times.append(at / CPU_HZ)
            if self._pattern is not None and self._stop_reason is None and self._pattern.search(line):
                self._stop_reason = StopReason.LINE
                self._request_stop()

    def _peripheral(self, address: int) -> Peripheral | None:
        return self._pages.get(address >> 12)

    def _mmio_read(self, uc: unicorn.Uc, offset: int, size: int, base: int) -> int:
        address = base + offset
        self._in_access, self._access_now = True, None
        try:
            p = self._peripheral(address)
            if p is None:
                self._spin = _Spin()
                self.refuse(f"read from non-existing peripheral at 0x{address:08X} (no model)", "reads 0")
                return 0
            reg = address & 0xFFC
            value = p.read(reg)
            if self.skip_ahead and p.is_event(reg):
                self._poll(address, value)
            else:
                self._spin = _Spin()
            shift = 8 * (address & 3)
            return (value >> shift) & ((1 << (8 * size)) - 1)
        except _Refused as refused:
            self._stop_refused(refused)
            return 0
        finally:
            self._in_access = False

    def _mmio_write(self, uc: unicorn.Uc, offset: int, size: int, value: int, base: int) -> None:
        address = base + offset
        self._in_access, self._access_now = True, None
        self._spin = _Spin()
        try:
            p = self._peripheral(address)
            if p is None:
                self.refuse(f"write of 0x{value:X} to non-existing peripheral at 0x{address:08X} (no model)", "ignored")
                return
            reg = address & 0xFFC
            if size < 4:
                shift, mask = 8 * (address & 3), (1 << (8 * size)) - 1
                value = (p.read(reg) & ~(mask << shift)) | ((value & mask) << shift)
            p.write(reg, value & 0xFFFFFFFF)
        except _Refused as refused:
            self._stop_refused(refused)
        finally:
            self._in_access = False

    def _poll(self, address: int, value: int) -> None:
        """Polling skip-ahead.

        An idle polling loop reads only event registers, all 0 (one or several: firmware may poll
        PDM and UART events in turn), touches no other peripheral, comes back to the same read
        after a constant number of instructions P and has all registers equal there (nothing
        accumulates). It can only leave when an event arrives, and events on virtual time (PDM
        blocks, UART bytes leaving or arriving) all lower the run's limit (`schedule`), as do host
        bytes written between runs. So the counter jumps by whole
        iterations (k * P, stopping short of the next event or the budget): exactly as if the loop
        had spun, with CYCCNT and the instruction count advanced accordingly -- Renode counts the
        spin instructions too. The last iterations run for real, so the event is seen at the same
        instruction as without skipping. Under the cycle model the period in modelled cycles must be
        constant too (the same path, so the same cycles), and both counts jump by k periods.

        A loop's iteration may hold a pause (firmware/board/pause.h) between its reads, hence a
        period of up to SPIN_MAX_PERIOD instructions. When an event fires the watch starts over: the
        loop may see it at any of its reads, and a period measured across the event would skip it.
        """
        spin = self._spin
        if value != 0:
            self._spin = _Spin()
            return
        now = self._counts()
        key = (self.counter.s.access_pc, address)
        if spin.key is None:
            self._spin = _Spin(key=key, last=now)
            return
        if key != spin.key:
            if now[0] - spin.last[0] > SPIN_MAX_PERIOD:  # the first read's loop was left: follow this one
                self._spin = _Spin(key=key, last=now)
            return  # else another idle read inside the same loop
        period = (now[0] - spin.last[0], now[1] - spin.last[1])
        registers = list(self.uc.reg_read_batch(_SPIN_REGISTERS))
        if 0 < period[0] <= SPIN_MAX_PERIOD and period == spin.period and registers == spin.registers:
            clock_period = period[1] if self.cycle_model else period[0]
            to_event = (self.counter.s.time_limit - self.now()) // clock_period
            k = min(to_event, (self.counter.s.limit - now[0]) // period[0]) - 1
            if k > 0:
                self.counter.add(k * period[0], k * period[1])
                self._profile_adjust[key[0]] += k * period[0]
                self.skipped_instructions += k * period[0]
                self.skipped_cycles += k * period[1]
            self._spin = _Spin()
            return
        spin.last, spin.period, spin.registers = now, period, registers

    def _stop_refused(self, refused: _Refused) -> None:
        """Inside an MMIO access: stop at once, the accessing instruction not executed (as a fault)."""
        refused.pc = self.counter.s.access_pc
        self._refused = refused
        self.uc.emu_stop()

    def _raise_refused(self, first_line: int) -> None:
        """After emu_start: the access a callback refused, as a StrictModeError (or a fault of the chip)."""
        refused, self._refused = self._refused, None
        if refused is not None:
            self._pc = refused.pc
            if refused.fault:
                self._raise_fault(str(refused), first_line)
            self._raise_fault(f"strict mode: {refused}", first_line, StrictModeError)

    def _check_dma(self, kind: str, address: int, size: int) -> None:
        """The nRF52840's EasyDMA reaches data RAM only (not flash, not peripherals)."""
        if size and not (RAM[0] <= address and address + size <= sum(RAM)):
            self.refuse(
                f"EasyDMA {kind} of {size} bytes at 0x{address:08X}, outside data RAM "
                f"0x{RAM[0]:08X}-0x{sum(RAM) - 1:08X} (the chip's EasyDMA reaches only data RAM)",
                "transferred anyway",
            )

    def _on_flash_store(self, uc: unicorn.Uc, access: int, address: int, size: int, value: int, data: object) -> bool:
        """A CPU store to flash, which is mapped read-only: programmed as by the NVMC, or refused.
        Returning True goes on without the store; False stops emulation with UC_ERR_WRITE_PROT."""
        pc = uc.reg_read(arm.UC_ARM_REG_PC)
        where = f"{size}-byte store to flash at 0x{address:08X}"
        if self.nvmc.write_enabled:
            if size == 4 and not address & 3:
                self._program_flash(address, value)
                return True
            self._refused = _Refused(
                f"{where} with NVMC CONFIG.WEN=Wen: a HardFault on the nRF52840 (the NVMC programs whole words)",
                pc,
                fault=True,
            )
            return False
        message = f"{where} while NVMC CONFIG.WEN is not Wen (1): flash is read-only"
        if not self.strict:
            self.warn(f"{message}: ignored")
            return True
        self._refused = _Refused(message, pc)
        return False

    def _program_flash(self, address: int, value: int) -> None:
        """NVMC programming clears bits only; uc.mem_write also drops code translated from there."""
        old = int.from_bytes(self.uc.mem_read(address, 4), "little")
        self.uc.mem_write(address, (old & value & 0xFFFFFFFF).to_bytes(4, "little"))
        self.warn("nvmc: flash programmed; the time it takes (tWRITE, the CPU halted) is not modelled")

    def _on_unmapped(self, uc: unicorn.Uc, access: int, address: int, size: int, value: int, data: object) -> bool:
        kind = {unicorn.UC_MEM_WRITE_UNMAPPED: "write", unicorn.UC_MEM_FETCH_UNMAPPED: "fetch"}.get(access, "read")
        self._unmapped = (kind, address)
        return False

    def _describe(self, err: unicorn.UcError) -> str:
        what = _UC_FAULTS.get(err.errno, str(err))
        if self._unmapped is not None and err.errno in (
            unicorn.UC_ERR_READ_UNMAPPED,
            unicorn.UC_ERR_WRITE_UNMAPPED,
            unicorn.UC_ERR_FETCH_UNMAPPED,
        ):
            what += f" at 0x{self._unmapped[1]:08X} (BusFault)"
        return what

    def _nocp(self, first_line: int) -> None:
        """An FPU instruction before CPACR granted access: run the block up to it, then report NOCP.
        emu_start's `until` and `count` act only on freshly translated code, hence the cache removal."""
        target = self.counter.s.nocp_pc
        n, address = 0, self._pc
        while address < target:
            first = int.from_bytes(self.uc.mem_read(address, 2), "little")
            address += 4 if first >> 11 >= 0b11101 else 2
            n += 1
        self.counter.s.fpu_enabled = 1
        try:
            if n:
                self.uc.ctl_remove_cache(self._pc, target + 4)
                self.uc.emu_start(self._pc | 1, NEVER, count=n)
        finally:
            self.counter.s.fpu_enabled = 0
        self._pc = self.uc.reg_read(arm.UC_ARM_REG_PC)
        self._raise_fault("FPU instruction while CPACR denies CP10/CP11 (UsageFault NOCP)", first_line)

    def _raise_fault(self, what: str, first_line: int, error: type[EmulationFault] = EmulationFault) -> None:
        unexecuted = self.counter.settle(self._pc)
        self._profile_adjust[self.counter.s.last_addr] -= unexecuted
        regs = self.registers()
        regs["pc"] = self._pc
        where = self.image.function_at(self._pc)
        lines = [
            f"firmware fault: {what} at PC=0x{self._pc:08X} ({where}) "
            f"LR=0x{regs['lr']:08X} SP=0x{regs['sp']:08X} xPSR=0x{regs['xpsr']:08X}",
            "  " + " ".join(f"{name}=0x{regs[name]:08X}" for name in _REGISTERS if name.startswith("r")),
            f"  after {self.counter.total} instructions, {self.counter.cycles} modelled cycles"
            f" ({self.virtual_s:.6f} s virtual)",
        ]
        self._fault = error("\n".join(lines), self._result(StopReason.FAULT, first_line), self._pc, regs)
        raise self._fault
