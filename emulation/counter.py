"""The native instruction counter and Cortex-M4 cycle model (native/counter.c), built on first use
and driven through ctypes."""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

import unicorn

NATIVE_SOURCE = Path(__file__).parent / "native" / "counter.c"
BUILD_DIR = Path(os.environ.get("KWS_EMULATION_BUILD", Path(__file__).resolve().parent.parent / "build" / "emulation"))

STOP_LIMIT = 1
STOP_NOCP = 2


class _Block(ctypes.Structure):
    _fields_ = (
        ("addr", ctypes.c_uint32),
        ("size", ctypes.c_uint32),
        ("count", ctypes.c_uint32),
        ("fpu_offset", ctypes.c_uint32),
        ("hits", ctypes.c_uint64),
        ("used", ctypes.c_uint32),
        ("cycles", ctypes.c_uint32),
        ("branch", ctypes.c_uint32),
        ("first32", ctypes.c_uint32),
    )


class _State(ctypes.Structure):
    """Mirror of kc_state in counter.c."""

    _fields_ = (
        ("total", ctypes.c_uint64),
        ("limit", ctypes.c_uint64),
        ("cycles", ctypes.c_uint64),
        ("time_limit", ctypes.c_uint64),
        ("cycle_time", ctypes.c_uint32),
        ("last_branch", ctypes.c_uint32),
        ("last_cycles", ctypes.c_uint64),
        ("last_addr", ctypes.c_uint32),
        ("last_size", ctypes.c_uint32),
        ("last_count", ctypes.c_uint32),
        ("fpu_enabled", ctypes.c_uint32),
        ("stop", ctypes.c_uint32),
        ("nocp_pc", ctypes.c_uint32),
        ("access_pc", ctypes.c_uint32),
        ("pad", ctypes.c_uint32),
        ("table", ctypes.POINTER(_Block)),
        ("capacity", ctypes.c_uint64),
        ("used", ctypes.c_uint64),
    )


def _unicorn_dir() -> Path:
    return Path(unicorn.__file__).parent


def build_library() -> Path:
    """Compile counter.c against the wheel's libunicorn, once per source version (atomic rename)."""
    source = NATIVE_SOURCE.read_bytes()
    digest = hashlib.sha256(source + unicorn.__version__.encode()).hexdigest()[:12]
    target = BUILD_DIR / f"libkcounter-{digest}.so"
    if target.exists():
        return target
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    uc_dir = _unicorn_dir()
    libunicorn = next((uc_dir / "lib").glob("libunicorn.so*"))
    with tempfile.TemporaryDirectory(dir=BUILD_DIR) as tmp:
        out = Path(tmp) / target.name
        cmd = ["gcc", "-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", f"-I{uc_dir / 'include'}"]
        cmd += ["-o", str(out), str(NATIVE_SOURCE), str(libunicorn), f"-Wl,-rpath,{libunicorn.parent}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"building {NATIVE_SOURCE} failed:\n{proc.stderr}")
        out.replace(target)
    return target


_library: ctypes.CDLL | None = None


def _load() -> ctypes.CDLL:
    global _library
    if _library is None:
        lib = ctypes.CDLL(str(build_library()))
        lib.kc_attach.restype = ctypes.POINTER(_State)
        lib.kc_attach.argtypes = [ctypes.c_void_p] + [ctypes.c_uint64] * 4
        lib.kc_position.restype = ctypes.c_uint32
        lib.kc_position.argtypes = [ctypes.c_void_p, ctypes.POINTER(_State), ctypes.c_uint32]
        lib.kc_cycles_before.restype = ctypes.c_uint64
        lib.kc_cycles_before.argtypes = [ctypes.c_void_p, ctypes.POINTER(_State), ctypes.c_uint32]
        lib.kc_blocks.restype = ctypes.c_uint64
        lib.kc_blocks.argtypes = [ctypes.POINTER(_State), ctypes.POINTER(ctypes.c_uint64), ctypes.c_uint64]
        lib.kc_detach.restype = None
        lib.kc_detach.argtypes = [ctypes.c_void_p, ctypes.POINTER(_State)]
        _library = lib
    return _library


class InstructionCounter:
    """Exact executed-instruction count and modelled Cortex-M4 cycles of a Unicorn engine, with
    per-block execution counts.

    The clock (virtual time) is modelled cycles when `cycle_time`, else instructions (one per
    cycle). `mmio_ranges` get a (cheap, native) memory hook: its only job is to make Unicorn sync
    the PC before those accesses, so that MMIO callbacks know which instruction of the block runs.
    """

    def __init__(
        self, uc: unicorn.Uc, mmio_ranges: tuple[tuple[int, int], tuple[int, int]], cycle_time: bool = False
    ) -> None:
        self._lib = _load()
        self._uc = uc
        self._handle = uc._uch
        (a0, a1), (b0, b1) = mmio_ranges
        state = self._lib.kc_attach(self._handle, a0, a1, b0, b1)
        if not state:
            raise RuntimeError("could not register the native instruction counter hooks")
        self._state = state
        self.s = state.contents
        self.s.cycle_time = int(cycle_time)

    @property
    def total(self) -> int:
        """Executed instructions."""
        return self.s.total

    @property
    def cycles(self) -> int:
        """Modelled Cortex-M4 cycles."""
        return self.s.cycles

    @property
    def clock(self) -> int:
        """Virtual time in CPU cycles: modelled cycles, or instructions without the cycle model."""
        return self.s.cycles if self.s.cycle_time else self.s.total

    def add(self, instructions: int, cycles: int) -> None:
        self.s.total += instructions
        self.s.cycles += cycles

    def at_access(self) -> tuple[int, int]:
        """(instructions, cycles) executed before the instruction doing the current MMIO access."""
        s = self.s
        pc = s.access_pc
        before = self._lib.kc_position(self._handle, self._state, pc)
        cycles_before = self._lib.kc_cycles_before(self._handle, self._state, pc)
        return s.total - s.last_count + before, s.cycles - s.last_cycles + cycles_before

    def settle(self, pc: int) -> int:
        """Correct the counts when emulation ended with `pc` inside the last block; returns the
        instruction correction."""
        s = self.s
        if s.last_addr <= pc < s.last_addr + s.last_size:
            unexecuted = s.last_count - self._lib.kc_position(self._handle, self._state, pc)
            cycles_before = self._lib.kc_cycles_before(self._handle, self._state, pc)
            s.total -= unexecuted
            s.cycles -= s.last_cycles - cycles_before
            s.last_count -= unexecuted
            s.last_cycles = cycles_before
            s.last_size = pc - s.last_addr
            return unexecuted
        return 0

    def blocks(self) -> list[tuple[int, int, int, int, int]]:
        """(address, size, instruction count, executions, static cycles) of every executed block."""
        n = self.s.used
        buf = (ctypes.c_uint64 * (5 * max(n, 1)))()
        rows = self._lib.kc_blocks(self._state, buf, n)
        return [tuple(buf[5 * i : 5 * i + 5]) for i in range(rows)]

    def close(self) -> None:
        if self._state:
            self._lib.kc_detach(self._handle, self._state)
            self._state = None
