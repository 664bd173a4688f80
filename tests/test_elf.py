"""Firmware files are checked for what they claim to be before anything runs: a readable 32-bit
little-endian ARM executable whose vector table starts Thumb code. `kws emulate` reports a bad ELF,
or a run that faults or never prints its result, in one line with exit code 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from wavs import pcm16, tone

from emulation.elf import FirmwareImage
from emulation.errors import InvalidFirmware

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")

#: Reads PDM EVENTS_END forever: a firmware that never prints (the emulator skips the idle polling).
SILENT = "ldr r1, =0x4001D108\nloop: ldr r0, [r1]\ncmp r0, #0\nbeq loop\nb loop\n.ltorg\n"


def assemble(tmp_path: Path, body: str, *, reset: str = "reset+1", name: str = "fw") -> Path:
    """A bare Cortex-M4 image: vector table (SP, reset) at 0x0, then `body` from `reset`."""
    source = tmp_path / f"{name}.s"
    source.write_text(
        ".syntax unified\n.thumb\n"
        '.section .vectors,"a"\n.word 0x20001000\n'
        f".word {reset}\n"
        ".text\n.thumb_func\n.global reset\nreset:\n" + body
    )
    elf = tmp_path / f"{name}.elf"
    subprocess.run(
        ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-Wl,--section-start=.vectors=0",
         "-Wl,-Ttext=0x100", "-Wl,-e,reset", "-o", str(elf), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    return elf


def test_a_bare_cortex_m_image_loads(tmp_path: Path) -> None:
    image = FirmwareImage(assemble(tmp_path, SILENT))
    assert image.reset_vector() == (0x20001000, image.symbols["reset"] & ~1)


def _flip_byte(path: Path, offset: int, value: int) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] = value
    out = path.with_name(f"mutated-{offset}.elf")
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda elf: elf.with_name("absent.elf"), "no such ELF file"),
        (lambda elf: Path(sys.executable).resolve(), "a 64-bit ELF, not a Cortex-M firmware"),
        (lambda elf: _flip_byte(elf, 5, 2), "big-endian"),  # EI_DATA = ELFDATA2MSB
        (lambda elf: _flip_byte(elf, 16, 1), "ET_REL, not a linked executable"),  # e_type
        (lambda elf: _flip_byte(elf, 18, 0x3E), "built for EM_X86_64"),  # e_machine
        (lambda elf: _flip_byte(elf, 0, 0), "not a readable ELF file"),  # magic
    ],
)
def test_files_that_are_no_cortex_m_firmware_are_refused(tmp_path: Path, mutate, reason: str) -> None:
    bad = mutate(assemble(tmp_path, SILENT))
    with pytest.raises(InvalidFirmware, match=reason) as error:
        FirmwareImage(bad)
    assert str(error.value).startswith(f"{bad}: ") and "\n" not in str(error.value)


def test_truncated_elf_is_refused(tmp_path: Path) -> None:
    elf = assemble(tmp_path, SILENT + ".space 4096\n")
    cut = tmp_path / "cut.elf"
    cut.write_bytes(elf.read_bytes()[:2048])
    with pytest.raises(InvalidFirmware, match=r"truncated|not a readable ELF"):
        FirmwareImage(cut)


@pytest.mark.parametrize(
    ("reset", "reason"),
    [("0x00000100", "is not Thumb code"), ("0x00080001", "points outside the loaded image")],
)
def test_the_reset_vector_must_start_loaded_thumb_code(tmp_path: Path, reset: str, reason: str) -> None:
    with pytest.raises(InvalidFirmware, match=reason):
        FirmwareImage(assemble(tmp_path, SILENT, reset=reset))


def _emulate(elf: Path, wav: Path, capsys) -> tuple[int, str]:
    from model.cli import main

    code = main(["emulate", "--elf", str(elf), "--wav", str(wav)])
    return code, capsys.readouterr().err


def test_emulate_refuses_an_x86_elf_in_one_line(tmp_path: Path, capsys) -> None:
    wav = pcm16(tmp_path / "clip.wav", tone())
    code, err = _emulate(Path(sys.executable).resolve(), wav, capsys)
    assert code == 2 and err.count("\n") == 1 and "not a Cortex-M firmware" in err


def test_emulate_says_what_a_silent_firmware_printed_and_exits_2(tmp_path: Path, capsys) -> None:
    wav = pcm16(tmp_path / "clip.wav", tone())
    code, err = _emulate(assemble(tmp_path, SILENT), wav, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "no result line after 30.000 virtual s" in err and "nothing printed" in err and str(wav) in err


def test_emulate_reports_a_fault_in_one_line(tmp_path: Path, capsys) -> None:
    wav = pcm16(tmp_path / "clip.wav", tone())
    faulting = assemble(tmp_path, "ldr r1, =0x30000000\nldr r0, [r1]\nb .\n.ltorg\n", name="fault")
    code, err = _emulate(faulting, wav, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "firmware fault: invalid memory read at 0x30000000" in err and "PC=0x" in err
