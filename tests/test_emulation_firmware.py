"""The real firmware (a TinyConv exported to int8 and float32) in the Unicorn backend: clips fed
through the PDM match the host pipeline bit for bit, the UART path gives the same result, the
stack reserve covers its measured peak, and streaming keeps pace (or says it cannot)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import test_export
import test_frontend

from emulation.clip import run_clip
from emulation.protocol import parse_line
from emulation.unicorn_backend import Machine
from model import config
from model.data.audio import pad_or_trim
from model.deploy import firmware
from model.deploy.verify import compare_firmware, fnv1a

pytest.importorskip("torch")

#: Edge cases of the frontend corpus (tests/test_frontend.py) and some ordinary clips.
CLIPS = (
    "zeros 16000",
    "square 440 Hz",
    "const -32768",
    "sign noise",
    "alternating extremes",
    "saturated noise x10000.0",
    "noise 1 LSB",
    "single LSB",
    "dc 20000",
    "dc -1000 + sine",
    "dc step",
    "noise 479 samples",
    "noise 5000 samples",
    "speech-like 2 s",
    "white noise 1188",
    "log chirp 100-4000 x10000",
)
#: Stack bytes the reserve must keep free beyond the deepest measured use.
STACK_MARGIN = 256


def build(tmp_path_factory: pytest.TempPathFactory, kind: str, kernels: str, **options) -> Path:
    model = tmp_path_factory.getbasetemp() / "models" / f"emu-{kind}.tflite"
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_bytes(test_export.exported(tmp_path_factory, 8, kind))
    out = tmp_path_factory.mktemp(f"fw-{kind}-{kernels}")
    firmware.build(model, out, variant=f"{kind}-{kernels}", kernels=kernels, **options)
    return out / "kws.elf"


@pytest.fixture(scope="module")
def int8_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory, "int8", "cortex_m4")


@pytest.fixture(scope="module")
def float_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory, "float", "reference")


def corpus_clips() -> list[tuple[str, np.ndarray]]:
    clips = {name: pcm for name, pcm in test_frontend.corpus() if name in CLIPS}
    assert clips.keys() == set(CLIPS)
    return [(name, pad_or_trim(clips[name])) for name in CLIPS]


def stream(elf: Path, pcm: np.ndarray, seconds: float, machine: Machine | None = None) -> Machine:
    machine = machine or Machine(elf, pcm.astype("<i2").tobytes())
    machine.run(max_seconds_virtual=seconds)
    return machine


def send_paced(machine: Machine, data: bytes, gap_s: float = 0.03) -> None:
    """Bytes spaced as the host link spaces a command, so that an inference (float32: ~150 ms)
    never holds more than the UARTE's RX FIFO."""
    for byte in data[:-1]:
        machine.write_uart(bytes([byte]))
        machine.run(max_seconds_virtual=gap_s)
    machine.write_uart(data[-1:])


def profile(machine: Machine) -> dict[str, dict[str, str]]:
    send_paced(machine, b"profile\n")
    machine.run(until_line="stage=stack", max_seconds_virtual=1)
    lines = [parse_line(line)[1] for line in machine.lines if line.startswith("profile ")]
    return {fields["stage"]: fields for fields in lines}


def boot_fields(machine: Machine) -> dict[str, str]:
    record, fields = parse_line(machine.lines[0])
    assert record == "boot"
    return fields


def test_pdm_clips_match_the_host_pipeline(int8_elf: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`kws verify --elf`'s comparison: the firmware's int8 model input (checksum) and scores equal
    the host frontend's, quantized, through tflite_micro, on edge cases fed through the PDM."""
    flatbuffer = test_export.exported(tmp_path_factory, 8, "int8")
    report = compare_firmware(int8_elf, "unicorn", flatbuffer, iter(corpus_clips()))
    assert report == {"clips": len(CLIPS), "bit_exact": len(CLIPS), "mismatches": []}


def test_float_firmware_verifies_one_way(float_elf: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`kws verify --elf` on a float32 firmware: the checksum of its float32 model input equals the
    host's and its int8 scores are tflite_micro's probabilities rounded, within the float tolerance
    (the int8 cast of the float input used to be checksummed: a false input mismatch)."""
    flatbuffer = test_export.exported(tmp_path_factory, 8, "float")
    clips = corpus_clips()[:6]
    report = compare_firmware(float_elf, "unicorn", flatbuffer, iter(clips))
    assert report == {"clips": len(clips), "within_tolerance": len(clips), "mismatches": []}


def test_result_counts_are_deterministic(int8_elf: Path) -> None:
    pcm = corpus_clips()[13][1].astype("<i2").tobytes()
    a, b = run_clip(int8_elf, pcm), run_clip(int8_elf, pcm)
    assert a.result == b.result and a.instructions == b.instructions
    # 49 frames of preprocessing, one inference, an arg-max: all counted by the DWT.
    assert 0 < int(a.result["post"]) < 100 <= int(a.result["pre"]) // 49


def test_uart_clip_equals_pdm_clip(int8_elf: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Clip boot mode: the boot clip comes from the PDM, then `clip uart` takes 32,000 bytes; both
    give what the stream-mode firmware reports for its first window."""
    elf = build(tmp_path_factory, "int8", "cortex_m4", stream=False)
    pcm = corpus_clips()[13][1].astype("<i2").tobytes()
    machine = Machine(elf, pcm)
    first = machine.run(until_line="^result ", max_seconds_virtual=2)
    assert boot_fields(machine)["mode"] == "clip"
    machine.write_uart(b"clip uart\n")
    assert machine.run(until_line="^ok ", max_seconds_virtual=1).lines[-1] == "ok cmd=clip arg=uart"
    machine.write_uart(pcm)
    second = machine.run(until_line="^result ", max_seconds_virtual=4)  # 32,000 bytes: 2.8 s on the wire
    assert second.virtual_s - first.virtual_s > len(pcm) * 10 / 115200
    pdm_result, uart_result = parse_line(first.lines[-1])[1], parse_line(second.lines[-1])[1]
    for key in ("scores", "label", "checksum"):
        assert pdm_result[key] == uart_result[key]
    assert pdm_result["checksum"] == run_clip(int8_elf, pcm).result["checksum"]


def test_stack_reserve_covers_the_measured_peak(int8_elf: Path) -> None:
    """The paint's high-water mark after clips and a stream (the deepest paths: model, recognizer,
    protocol lines), with STACK_MARGIN bytes to spare."""
    rng = np.random.default_rng(3)
    pcm = np.concatenate([clip for _, clip in corpus_clips()[:4]] + [rng.integers(-3000, 3000, 16000)])
    machine = stream(int8_elf, pcm.astype(np.int16), 4.0)
    stack = profile(machine)["stack"]
    peak, reserve = int(stack["peak"]), int(stack["reserve"])
    assert 256 < peak <= reserve - STACK_MARGIN
    assert reserve == machine.image.symbols["_estack"] - machine.image.symbols["_sstack"]


def test_int8_stream_keeps_real_time(int8_elf: Path) -> None:
    machine = stream(int8_elf, np.concatenate([clip for _, clip in corpus_clips()]), 5.0)
    boot = boot_fields(machine)
    assert boot["stride"] == "1" and boot["realtime"] == "1"
    stages = profile(machine)
    block = config.CPU_HZ // 1000 * config.STEP_MS
    worst = int(stages["pre"]["max"]) + int(stages["inf"]["max"]) + int(stages["post"]["max"])
    assert worst < block
    # a block's whole handling, lines for the UART included: more than its stages, less than a block
    assert int(stages["inf"]["max"]) < int(stages["busy"]["peak"]) < block
    assert all(line.endswith(" dropped=0") for line in machine.lines if line.startswith("heard "))


def test_bytes_lost_while_streaming_are_reported(int8_elf: Path) -> None:
    """200 bytes at wire speed (17 ms) while the model runs every block: the 5-byte RX FIFO
    overruns; the firmware says so instead of running what is left of the line."""
    machine = stream(int8_elf, np.zeros(3 * 16000, np.int16), 1.5)
    machine.write_uart(b"x" * 200 + b"\r")
    assert machine.run(until_line="^error ", max_seconds_virtual=0.5).lines[-1] == "error reason=rx-overrun"
    assert machine.uarte.overruns > 0
    stages = profile(machine)
    assert int(stages["uart"]["rx_overrun"]) >= 1 and stages["uart"]["tx_dropped"] == "0"


def test_float_stream_runs_every_kth_frame_without_losing_blocks(float_elf: Path) -> None:
    """float32 inference is longer than a 20 ms block: the boot timing picks blocks of several
    frames, the model runs once per block, and no block is lost."""
    rng = np.random.default_rng(5)
    pcm = np.concatenate([clip for _, clip in corpus_clips()[8:]] + [rng.integers(-2000, 2000, 16000)])
    machine = stream(float_elf, pcm.astype(np.int16), 6.0)
    boot = boot_fields(machine)
    stride = int(boot["stride"])
    assert stride > 1 and boot["realtime"] == "1" and int(boot["block_ms"]) == stride * config.STEP_MS
    stages = profile(machine)
    block = stride * config.CPU_HZ // 1000 * config.STEP_MS
    assert int(stages["pre"]["max"]) + int(stages["inf"]["max"]) + int(stages["post"]["max"]) < block
    assert int(stages["inf"]["max"]) < int(stages["busy"]["peak"]) < block
    assert int(boot["boot_inf"]) > config.CPU_HZ // 1000 * config.STEP_MS  # why one frame per block cannot work
    times = [int(re.search(r"t_ms=(\d+)", line).group(1)) for line in machine.lines if line.startswith("heard ")]
    assert all(t % (stride * config.STEP_MS) == 0 for t in times)
    assert all(line.endswith(" dropped=0") for line in machine.lines if line.startswith("heard "))


def test_float_clip_result_is_its_input(float_elf: Path) -> None:
    """The float32 firmware's checksum covers its float model input (7,840 bytes)."""
    from model.data.features import microfrontend

    pcm = corpus_clips()[13][1]
    result = run_clip(float_elf, pcm.astype("<i2").tobytes()).result
    model_input = (microfrontend(pcm).astype(np.float32) * np.float32(10.0 / 256.0)).astype("<f4")
    assert result["checksum"] == f"0x{fnv1a(model_input.tobytes()):08x}"
    assert sum(int(v) + 128 for v in result["scores"].split(",")) in range(254, 259)  # probabilities sum to 1


def test_without_a_counting_dwt_every_frame_is_used(float_elf: Path) -> None:
    """Renode's stock platform has no DWT (CYCCNT reads 0): nothing is measured, stride 1."""
    machine = Machine(float_elf, bytes(32000))
    machine.dwt.cyccnt = lambda: 0
    machine.run(until_line="^result ", max_seconds_virtual=10)
    boot = boot_fields(machine)
    assert (boot["stride"], boot["boot_inf"], boot["realtime"]) == ("1", "0", "1")


@pytest.mark.parametrize("cycle_model", [True, False], ids=["cycle-model", "instructions"])
def test_skip_ahead_changes_nothing_on_the_firmware(int8_elf: Path, cycle_model: bool) -> None:
    """The firmware's idle loops (a pause between PDM and UART polls) fast-forwarded or run for
    real: the same lines at the same virtual times and the same counts, a command paced in
    between -- while most of the run is skipped."""
    pcm = np.random.default_rng(16).integers(-3000, 3000, 2 * 16000).astype(np.int16)
    machines = []
    for skip in (True, False):
        machine = Machine(int8_elf, pcm.astype("<i2").tobytes(), skip_ahead=skip, cycle_model=cycle_model)
        machine.run(max_seconds_virtual=1.3)
        send_paced(machine, b"profile\n")
        machine.run(max_seconds_virtual=0.5)
        machines.append(machine)
    skipped, real = machines
    assert any(line.startswith("profile stage=busy") for line in real.lines)
    assert skipped.lines == real.lines and skipped.line_times == real.line_times
    assert (skipped.counter.total, skipped.counter.clock) == (real.counter.total, real.counter.clock)
    assert skipped.skipped_instructions > skipped.counter.total // 2 and real.skipped_instructions == 0
