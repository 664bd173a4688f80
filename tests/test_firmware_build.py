"""The nRF52840 firmware build: layout of the ELF, EasyDMA-only UART, size report, overflow refusal.

The firmware is built against TEST FIXTURE model sources written by this file (a stand-in for
the code generator's output with the same interface, app/model_api.h): it exercises startup,
board and application code, never ships. The real ``kws firmware build`` uses generated code.
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from model import config
from model.deploy import firmware
from model.errors import BadInput

FLASH_END = config.FLASH_BYTES
RAM_START = firmware.RAM_ORIGIN
RAM_END = RAM_START + config.RAM_BYTES
LEGACY_UART_TXD = 0x4000251C

FIXTURE_HEADER = """\
/* TEST FIXTURE: stands in for the code generator's kws_model.h in tests only. */
#ifndef KWS_MODEL_H
#define KWS_MODEL_H
#include <stdint.h>
#include <stddef.h>
typedef int8_t kws_model_value_t;
#define KWS_MODEL_INPUT_SIZE 1960
#define KWS_MODEL_OUTPUT_SIZE 4
#define KWS_MODEL_ARENA_BYTES {arena}
#define KWS_MODEL_INT8 1
#define KWS_MODEL_LABELS {{"silence", "unknown", "yes", "no"}}
int kws_model_invoke(const int8_t *input, int8_t *output);
void kws_model_features_to_input(const uint16_t *features, int8_t *input, size_t count);
#endif
"""

FIXTURE_SOURCE = """\
/* TEST FIXTURE: a fake "model" that sums its input; not a network. */
#include "kws_model.h"
static const int8_t table[3] = {{-128, 0, 127}};
/* External linkage and input-dependent indexing keep both arrays whole through -O2 and gc-sections. */
int8_t fixture_arena[KWS_MODEL_ARENA_BYTES];
const int8_t fixture_ballast[{ballast}] = {{1}};
int kws_model_invoke(const int8_t *input, int8_t *output)
{{
    int32_t sum = fixture_ballast[(uint8_t)input[0] % sizeof(fixture_ballast)];
    for (int i = 0; i < KWS_MODEL_INPUT_SIZE; i++) {{
        sum += input[i];
    }}
    fixture_arena[(uint8_t)input[1] % sizeof(fixture_arena)] = (int8_t)sum;
    for (int c = 0; c < KWS_MODEL_OUTPUT_SIZE; c++) {{
        output[c] = (int8_t)(fixture_arena[0] + c);
    }}
    return 0;
}}
void kws_model_features_to_input(const uint16_t *features, int8_t *input, size_t count)
{{
    for (size_t i = 0; i < count; i++) {{
        input[i] = table[features[i] < 3 ? features[i] : 2];
    }}
}}
"""


def fixture_model(directory: Path, *, arena: int = 2048, ballast: int = 16) -> Path:
    """Writes the test fixture model sources; ``arena`` lands in RAM, ``ballast`` in flash."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kws_model.h").write_text(FIXTURE_HEADER.format(arena=arena))
    (directory / "kws_model.c").write_text(FIXTURE_SOURCE.format(ballast=ballast))
    return directory


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A firmware built from scratch (fresh output directory) on the fixture model."""
    root = tmp_path_factory.mktemp("fw")
    out = root / "out"
    firmware.make_firmware(fixture_model(root / "model"), out, variant="fixture")
    return out


def symbol(elf: Path, name: str) -> int:
    with elf.open("rb") as handle:
        table = ELFFile(handle).get_section_by_name(".symtab")
        (sym,) = table.get_symbol_by_name(name)
        return sym["st_value"]


def section_bytes(elf: Path, name: str) -> tuple[int, bytes]:
    with elf.open("rb") as handle:
        section = ELFFile(handle).get_section_by_name(name)
        return section["sh_addr"], section.data()


def test_outputs(built: Path) -> None:
    assert (built / "kws.elf").is_file()
    assert "Memory Configuration" in (built / "kws.map").read_text()


def test_vector_table_at_zero(built: Path) -> None:
    addr, data = section_bytes(built / "kws.elf", ".vectors")
    assert addr == 0
    initial_sp, reset = struct.unpack_from("<II", data)
    assert RAM_START < initial_sp <= RAM_END and initial_sp % 8 == 0
    assert initial_sp == symbol(built / "kws.elf", "_estack")  # the top of the stack reserve
    assert reset & 1, "reset vector must be a Thumb address"
    assert 0 < reset & ~1 < FLASH_END
    assert reset == symbol(built / "kws.elf", "kws_reset_handler") | 1
    # Every other vector reports a fault.
    handlers = set(struct.unpack_from(f"<{len(data) // 4 - 2}I", data, 8))
    assert handlers == {symbol(built / "kws.elf", "kws_fault_handler") | 1}


def test_ram_is_used_from_its_start_with_the_stack_last(built: Path) -> None:
    """So ``ram_bytes`` is all the RAM the firmware touches: it runs on any part with that much."""
    elf = built / "kws.elf"
    with elf.open("rb") as handle:
        ram = sorted(
            (s["sh_addr"], s["sh_size"], s.name)
            for s in ELFFile(handle).iter_sections()
            if s["sh_addr"] >= RAM_START and s["sh_size"] > 0
        )
    assert ram[0][0] == RAM_START
    assert ram[-1][2] == ".stack"
    assert ram[-1][0] == symbol(elf, "_sstack") and sum(ram[-1][:2]) == symbol(elf, "_estack")
    assert symbol(elf, "_estack") - RAM_START == firmware.size_report(elf)["ram_bytes"]


def test_noinit_survives_startup_and_reports_the_last_fault(built: Path) -> None:
    """.noinit is neither loaded nor cleared: a fault record left there before reset shows at boot, once."""
    from emulation.unicorn_backend import Machine

    elf = built / "kws.elf"
    with elf.open("rb") as handle:
        noinit = ELFFile(handle).get_section_by_name(".noinit")
    assert noinit["sh_type"] == "SHT_NOBITS" and noinit["sh_size"] > 0
    record = symbol(elf, "kws_fault_record")
    assert symbol(elf, "_ebss") <= record < symbol(elf, "_sstack")

    machine = Machine(elf)
    machine.dma_write(record, struct.pack("<II", 0x544C4146, 0x1234))
    run = machine.run(until_line="^boot ", max_seconds_virtual=1.0)
    assert run.lines[-1].endswith(" last_fault=0x00001234")
    assert machine.uc.mem_read(record, 4) == b"\0\0\0\0"  # reported once, then cleared

    fresh = Machine(elf)
    assert "last_fault" not in fresh.run(until_line="^boot ", max_seconds_virtual=1.0).lines[-1]


def disassembly(elf: Path) -> str:
    return subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True).stdout


def test_fpu_enabled_before_float_code(built: Path) -> None:
    text = disassembly(built / "kws.elf")
    reset = text.split("<kws_reset_handler>:\n", 1)[1].split("\n\n", 1)[0]
    mnemonics = [line.split("\t")[2] for line in reset.splitlines() if line.count("\t") >= 2]
    assert not any(m.startswith("v") for m in mnemonics), "no VFP instruction before CPACR is written"
    first_call = next(i for i, m in enumerate(mnemonics) if m.startswith("bl"))
    assert mnemonics.index("dsb") < mnemonics.index("isb") < first_call


def test_no_legacy_uart_txd(built: Path) -> None:
    assert "0x4000251c" not in disassembly(built / "kws.elf").lower()
    pattern = struct.pack("<I", LEGACY_UART_TXD)
    for name in (".vectors", ".text"):
        assert pattern not in section_bytes(built / "kws.elf", name)[1]


def test_size_report(built: Path) -> None:
    report = firmware.size_report(built / "kws.elf")
    assert report["flash_limit"] == 1048576 and report["ram_limit"] == 262144
    sections = report["sections"]
    assert {".vectors", ".text", ".bss", ".noinit", ".stack"} <= sections.keys()
    assert report["flash_bytes"] == sections[".vectors"] + sections[".text"] + sections.get(
        ".ARM.exidx", 0
    ) + sections.get(".data", 0)
    ram = sections.get(".data", 0) + sections[".bss"] + sections.get(".noinit", 0) + sections[".stack"]
    assert ram <= report["ram_bytes"] < ram + 16  # the span, alignment padding included
    assert 0 < report["flash_bytes"] < report["flash_limit"] and 0 < report["ram_bytes"] < report["ram_limit"]
    assert sections[".stack"] == 2048  # STACK_BYTES' default


@pytest.mark.parametrize(
    ("region", "arena", "ballast"),
    [("RAM", 300_000, 16), ("FLASH", 2048, 1_100_000)],
)
def test_overflow_is_refused(tmp_path: Path, region: str, arena: int, ballast: int) -> None:
    model_dir = fixture_model(tmp_path / "model", arena=arena, ballast=ballast)
    with pytest.raises(
        BadInput, match=rf"^m\.tflite: does not fit the nRF52840: region {region} overflowed by \d+ bytes"
    ):
        firmware.make_firmware(model_dir, tmp_path / "out", variant="huge", subject=Path("m.tflite"))


def test_a_compile_error_is_one_line_naming_the_model(tmp_path: Path) -> None:
    """A build that fails for another reason than size says so in one line: the first compiler
    error, without the build's temporary directories."""
    model_dir = fixture_model(tmp_path / "model")
    with (model_dir / "kws_model.c").open("a") as source:
        source.write("int broken(void) { return undeclared_symbol; }\n")
    with pytest.raises(BadInput) as error:
        firmware.make_firmware(model_dir, tmp_path / "out", variant="broken", subject=Path("m.tflite"))
    message = str(error.value)
    assert message.startswith("m.tflite: the firmware does not build: kws_model.c:") and "\n" not in message
    assert "undeclared_symbol" in message and "error" in message and str(tmp_path) not in message


def test_other_board_and_boot_mode(tmp_path: Path) -> None:
    model_dir = fixture_model(tmp_path / "model")
    firmware.make_firmware(model_dir, tmp_path / "out", variant="nano", board="nano33ble", stream=False)
    assert (tmp_path / "out" / "kws.elf").is_file()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kws")
    firmware.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_refuses_missing_model_and_bad_variant(tmp_path: Path) -> None:
    args = parse(["firmware", "build", "--model", str(tmp_path / "none.tflite"), "--variant", "v", "--out", "o"])
    with pytest.raises(BadInput, match="no such model file"):
        args.func(args)
    model = tmp_path / "m.tflite"
    model.write_bytes(b"TFL3")
    args = parse(["firmware", "build", "--model", str(model), "--variant", "a b", "--out", str(tmp_path / "o")])
    with pytest.raises(BadInput, match="variant name"):
        args.func(args)
    assert not (tmp_path / "o").exists()


def test_boots_and_classifies_the_first_second_of_pdm_audio(tmp_path: Path) -> None:
    """Clip boot mode: the boot line, then the PDM's first second classified, the model input
    being the Python frontend's (quantized by the fixture's table)."""
    import numpy as np

    from emulation.unicorn_backend import Machine
    from model.data.features import microfrontend

    firmware.make_firmware(
        fixture_model(tmp_path / "model"), tmp_path / "out", variant="smoke", model_name="fixture", stream=False
    )
    rng = np.random.default_rng(7)
    pcm = np.sin(np.arange(config.CLIP_SAMPLES) * 0.3) * 6000 + rng.normal(0, 300, config.CLIP_SAMPLES)
    pcm = pcm.astype("<i2")
    machine = Machine(tmp_path / "out" / "kws.elf", pcm.tobytes())
    lines = machine.run(until_line="^result ", max_seconds_virtual=2).lines

    boot = "boot variant=smoke model=fixture arena=2048 kernels=reference board=dk mode=clip stride=1 block_ms=20"
    assert lines[0].startswith(boot + " boot_inf=")
    record, *pairs = lines[1].split(" ")
    result = dict(pair.split("=", 1) for pair in pairs)
    assert record == "result" and result.keys() == {"scores", "label", "checksum", "pre", "inf", "post"}
    model_input = np.array([-128, 0, 127], np.int8)[np.minimum(microfrontend(pcm), 2)].tobytes()
    fnv = 2166136261
    for byte in model_input:
        fnv = ((fnv ^ byte) * 16777619) & 0xFFFFFFFF
    assert result["checksum"] == f"0x{fnv:08x}"
    # The fixture's arithmetic: arena[input[1] % 2048] = int8(ballast[..] + sum); scores arena[0] + c.
    # The boot-time timing run (app/pace.h) on the all-zero window left arena[0] = ballast[0] = 1.
    values = np.frombuffer(model_input, np.int8).astype(np.int64)
    stored = int(np.int8(np.uint8((1 if values[0] % 256 % 16 == 0 else 0) + values.sum() & 0xFF)))
    base = stored if values[1] % 256 == 0 else 1
    assert result["scores"] == ",".join(str(base + c) for c in range(4))


#: Issue 5's goals for the int8 firmware (cortex_m4 kernels): all of RAM (stack included) and flash.
INT8_RAM_GOAL = 20 * 1024
INT8_FLASH_GOAL = 40 * 1024


@pytest.mark.parametrize("kernels", firmware.KERNELS)
def test_int8_tinyconv_firmware_fits_its_goals(tmp_path_factory: pytest.TempPathFactory, kernels: str) -> None:
    """A real TinyConv (8 channels, random weights) exported to int8, generated and linked."""
    pytest.importorskip("torch")
    import test_export

    model = tmp_path_factory.mktemp("tinyconv") / "tinyconv.tflite"
    model.write_bytes(test_export.exported(tmp_path_factory, 8, "int8"))
    out = tmp_path_factory.mktemp(f"fw-{kernels}")
    report = firmware.build(model, out, variant="int8", kernels=kernels)
    assert json.loads((out / "size.json").read_text()) == report
    assert report["ram_bytes"] <= INT8_RAM_GOAL
    assert report["flash_bytes"] <= INT8_FLASH_GOAL
    assert not disassembly(out / "kws.elf").count("0x4000251c")
