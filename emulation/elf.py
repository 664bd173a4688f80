"""Firmware images: LOAD segments at their physical addresses, function symbols, vector table."""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from emulation.errors import InvalidFirmware


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

    def __init__(self, path: str | Path, *, boots: bool = True) -> None:
        """``boots``: the image is a firmware that starts from its vector table at 0x0 (checked);
        False for a bare code image that a harness calls into."""
        self.path = Path(path)
        try:
            with self.path.open("rb") as f:
                self._load(ELFFile(f))
        except FileNotFoundError:
            raise InvalidFirmware(f"{self.path}: no such ELF file") from None
        except InvalidFirmware:
            raise
        except (ELFError, struct.error, ValueError, EOFError) as exc:
            raise InvalidFirmware(f"{self.path}: not a readable ELF file ({exc or type(exc).__name__})") from None
        if boots:
            self._check_vectors()
        self.functions.sort(key=lambda fn: fn.start)
        self._starts = [fn.start for fn in self.functions]

    def _load(self, elf: ELFFile) -> None:
        self._check_header(elf)
        self.segments = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
                continue
            data = seg.data()
            if len(data) != seg["p_filesz"]:
                raise InvalidFirmware(
                    f"{self.path}: truncated: a segment needs {seg['p_filesz']} bytes, has {len(data)}"
                )
            self.segments.append(Segment(seg["p_paddr"], data))
        self.symbols: dict[str, int] = {}
        self.functions: list[Function] = []
        symtab = elf.get_section_by_name(".symtab")
        for sym in symtab.iter_symbols() if symtab else ():
            if not sym.name or sym["st_shndx"] == "SHN_UNDEF":
                continue
            self.symbols[sym.name] = sym["st_value"]
            if sym["st_info"]["type"] == "STT_FUNC":
                self.functions.append(Function(sym.name, sym["st_value"] & ~1, sym["st_size"]))

    def _check_header(self, elf: ELFFile) -> None:
        """A 32-bit little-endian ARM executable. Its entry point is not checked: a Cortex-M starts
        from the vector table (see _check_vectors), and many linker scripts leave e_entry unset."""
        if elf.elfclass != 32:
            raise InvalidFirmware(f"{self.path}: a {elf.elfclass}-bit ELF, not a Cortex-M firmware")
        if not elf.little_endian:
            raise InvalidFirmware(f"{self.path}: a big-endian ELF; the nRF52840 is little-endian")
        if elf["e_machine"] != "EM_ARM":
            raise InvalidFirmware(f"{self.path}: built for {elf['e_machine']}, not an ARM Cortex-M")
        if elf["e_type"] != "ET_EXEC":
            raise InvalidFirmware(f"{self.path}: {elf['e_type']}, not a linked executable")

    def _check_vectors(self) -> None:
        """A Cortex-M starts from the vector table at 0x0: it must be loaded, and its reset vector
        must point at loaded Thumb code."""
        if not any(seg.address <= 0 and len(seg.data) >= 8 for seg in self.segments):
            raise InvalidFirmware(f"{self.path}: no vector table at 0x00000000 (nothing is loaded there)")
        _, pc = struct.unpack("<II", self.read(0, 8))
        if not pc & 1:
            raise InvalidFirmware(f"{self.path}: reset vector 0x{pc:08x} is not Thumb code (Cortex-M)")
        if not any(seg.address <= pc & ~1 < seg.address + len(seg.data) for seg in self.segments):
            raise InvalidFirmware(f"{self.path}: reset vector 0x{pc:08x} points outside the loaded image")

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
