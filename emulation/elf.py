"""Firmware images: LOAD segments at their physical addresses, function symbols, vector table."""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile


@dataclass(frozen=True)
class Segment:
    address: int  # physical (load) address: .data is loaded at its LMA in flash, as a debugger would
    data: bytes


@dataclass(frozen=True)
class Function:
    name: str
    start: int
    size: int


class FirmwareImage:
    """An ARM ELF reduced to what an emulator needs."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with self.path.open("rb") as f:
            elf = ELFFile(f)
            if elf["e_machine"] != "EM_ARM":
                raise ValueError(f"{self.path}: not an ARM ELF ({elf['e_machine']})")
            self.segments = [
                Segment(seg["p_paddr"], seg.data())
                for seg in elf.iter_segments()
                if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0
            ]
            self.symbols: dict[str, int] = {}
            functions: list[Function] = []
            symtab = elf.get_section_by_name(".symtab")
            for sym in symtab.iter_symbols() if symtab else ():
                if not sym.name or sym["st_shndx"] == "SHN_UNDEF":
                    continue
                self.symbols[sym.name] = sym["st_value"]
                if sym["st_info"]["type"] == "STT_FUNC":
                    functions.append(Function(sym.name, sym["st_value"] & ~1, sym["st_size"]))
        functions.sort(key=lambda fn: fn.start)
        self.functions = functions
        self._starts = [fn.start for fn in functions]

    def read(self, address: int, size: int) -> bytes:
        """Bytes of the loaded image at a physical address (zeros where nothing is loaded)."""
        out = bytearray(size)
        for seg in self.segments:
            lo, hi = max(address, seg.address), min(address + size, seg.address + len(seg.data))
            if lo < hi:
                out[lo - address : hi - address] = seg.data[lo - seg.address : hi - seg.address]
        return bytes(out)

    def reset_vector(self) -> tuple[int, int]:
        """Initial SP and PC from the vector table at 0x0 (PC with the Thumb bit cleared)."""
        sp, pc = struct.unpack("<II", self.read(0, 8))
        return sp, pc & ~1

    def function_at(self, address: int) -> str:
        """Name of the function containing an address, or its hex address when no symbol covers it."""
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0:
            fn = self.functions[i]
            if address < fn.start + max(fn.size, 1):
                return fn.name
        return f"0x{address:08x}"
