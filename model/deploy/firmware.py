"""``kws firmware build``: a .tflite model as nRF52840 firmware, with its flash and RAM figures.

Runs the code generator into ``DIR/model/``, then ``make firmware`` in ``firmware/`` (objects in
``DIR/obj/``), and writes ``DIR/kws.elf``, ``DIR/kws.map`` and ``DIR/size.json``. The output
directory is replaced atomically: a failed build leaves the previous one in place. A model that
does not fit the chip is refused (exit 2) with the region and overflow ld reported.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model import config
from model.atomic import atomic_directory, atomic_write_text
from model.deploy.codegen.sparse import DEFAULT_FORMAT
from model.errors import BadInput

KERNELS = ("reference", "cortex_m4")
BOARDS = ("dk", "nano33ble")
RAM_ORIGIN = 0x2000_0000
#: make's parallel jobs: the build is small and the machine's cores are shared.
MAKE_JOBS = 2

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
#: Directories in a compiler message (the build's temporary directory): the file name is enough.
_TMP_PATH = re.compile(r"(?<![\w.])/\S*/(?=[^/\s]+:)")
_ERROR = re.compile(r"\berror\b|undefined reference", re.IGNORECASE)
_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")


@dataclass(frozen=True)
class Section:
    name: str
    addr: int
    size: int
    loaded: bool  # has file contents (PROGBITS): occupies flash even when it runs from RAM


def generate_sources(tflite: Path, dest: Path, weights: str = DEFAULT_FORMAT) -> None:
    """The code generator's C output for ``tflite`` in ``dest``: ``kws_model.h``, ``kws_model.c``
    (the names firmware/app/model_api.h includes and calls); ``weights`` as kws codegen's."""
    from model.deploy import codegen
    from model.deploy.tflite_reader import read_model

    _, flatbuffer = read_model(tflite)
    codegen.write(codegen.generate(flatbuffer, "kws_model", tflite, weights), dest)


def read_sections(elf: Path) -> list[Section]:
    """Allocated sections of ``elf`` (what occupies flash or RAM), from its section headers."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    with elf.open("rb") as handle:
        return [
            Section(s.name, s["sh_addr"], s["sh_size"], s["sh_type"] != "SHT_NOBITS")
            for s in ELFFile(handle).iter_sections()
            if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"] > 0
        ]


def size_report(elf: Path) -> dict[str, Any]:
    """Contract 4's ``size.json``: flash holds code, constants and .data's initial image; RAM is
    the span from the start of RAM to the top of the stack reserve (.data, .bss, the stack and
    the alignment padding between them): all the RAM the firmware touches."""
    sections = read_sections(elf)
    in_ram = [s for s in sections if s.addr >= RAM_ORIGIN]
    flash = sum(s.size for s in sections if s.addr < RAM_ORIGIN) + sum(s.size for s in in_ram if s.loaded)
    return {
        "flash_bytes": flash,
        "ram_bytes": max((s.addr + s.size for s in in_ram), default=RAM_ORIGIN) - RAM_ORIGIN,
        "flash_limit": config.FLASH_BYTES,
        "ram_limit": config.RAM_BYTES,
        "sections": {s.name: s.size for s in sections},
    }


def first_error(output: str) -> str:
    """The first compiler, linker or make error line of a build's output, without the build's
    temporary directories (the file name is enough)."""
    lines = [_TMP_PATH.sub("", line.strip()) for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR.search(line)]
    return (errors or lines or ["make failed without a message"])[0][:300]


def make_firmware(
    model_dir: Path,
    out: Path,
    *,
    variant: str,
    kernels: str = "reference",
    board: str = "dk",
    stream: bool = True,
    model_name: str = "model",
    subject: Path | None = None,
) -> None:
    """``make firmware`` for generated sources in ``model_dir``, into ``out`` (``kws.elf``,
    ``kws.map``, ``obj/``). A region overflow raises BadInput naming ``subject`` (the model)."""
    command = [
        "make",
        "-s",
        f"-j{MAKE_JOBS}",
        "-C",
        str(config.FIRMWARE_DIR),
        "firmware",
        f"MODEL_DIR={model_dir.resolve()}",
        f"OUT={out.resolve()}",
        f"VARIANT={variant}",
        f"MODEL_NAME={model_name}",
        f"KERNELS={kernels}",
        f"BOARD={board}",
        f"STREAM={int(stream)}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return
    overflows = _OVERFLOW.findall(result.stderr)
    if overflows:
        detail = ", ".join(f"region {region} overflowed by {n} bytes" for region, n in overflows)
        raise BadInput(subject, f"does not fit the nRF52840: {detail}")
    raise BadInput(subject, f"the firmware does not build: {first_error(result.stdout + result.stderr)}")


def build(
    tflite: Path,
    out: Path,
    *,
    variant: str,
    kernels: str = "reference",
    board: str = "dk",
    stream: bool = True,
    weights: str = DEFAULT_FORMAT,
) -> dict[str, Any]:
    """The whole build into ``out``; returns the size report. ``weights``: kws codegen --weights."""
    if not tflite.is_file():
        raise BadInput(tflite, "no such model file")
    for what, name in (("variant name", variant), ("model file name", tflite.stem)):
        if not _NAME.match(name):  # both end up in a C string literal and the boot line
            raise BadInput(None, f"{what} {name!r} may only hold letters, digits, '_', '.', '-'")
    with atomic_directory(out) as tmp:
        generate_sources(tflite, tmp / "model", weights)
        make_firmware(
            tmp / "model",
            tmp,
            variant=variant,
            kernels=kernels,
            board=board,
            stream=stream,
            model_name=tflite.stem,
            subject=tflite,
        )
        report = size_report(tmp / "kws.elf")
        atomic_write_text(tmp / "size.json", json.dumps(report, indent=2) + "\n")
    return report


def run(args: argparse.Namespace) -> int:
    report = build(
        Path(args.model),
        Path(args.out),
        variant=args.variant,
        kernels=args.kernels,
        board=args.board,
        stream=args.boot_mode == "stream",
        weights=args.weights,
    )
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"{args.out}/kws.elf: flash {report['flash_bytes']} / {report['flash_limit']} bytes, "
            f"RAM {report['ram_bytes']} / {report['ram_limit']} bytes"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the ``firmware`` command group and its ``build`` subcommand."""
    from model.deploy import codegen

    group = subparsers.add_parser("firmware", help="nRF52840 firmware")
    commands = group.add_subparsers(dest="firmware_command", required=True, metavar="COMMAND", parser_class=type(group))
    parser = commands.add_parser("build", help="build the firmware for a .tflite model")
    parser.add_argument("--model", required=True, metavar="FILE.tflite", help="int8 model from kws export")
    parser.add_argument("--variant", required=True, metavar="NAME", help="name printed in the boot line")
    parser.add_argument("--out", required=True, metavar="DIR", help="kws.elf, kws.map, size.json go here")
    parser.add_argument(
        "--kernels",
        choices=KERNELS,
        default="cortex_m4",
        help="NN kernels: cortex_m4, the nRF52840's DSP kernels (default); reference, the portable C ones "
        "(bit-exact too, but ~11.7 M instructions per int8 inference: too slow for real time)",
    )
    parser.add_argument(
        "--board", choices=BOARDS, default="dk", help="pin assignment (default dk; see firmware/README.md)"
    )
    parser.add_argument(
        "--boot-mode",
        choices=("stream", "clip"),
        default="stream",
        help="stream: recognise PDM audio from boot (default); clip: wait for UART commands",
    )
    codegen.add_weights_option(parser)
    parser.add_argument("--json", action="store_true", help="print size.json to stdout")
    parser.set_defaults(func=run)
