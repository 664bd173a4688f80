"""Property-based fuzzing of every parser of outside bytes: the WAV reader, the `.tflite` reader,
the checkpoint loader, the ELF loader and the UART line parser. Random bytes and mutations of a
valid file (flipped, cut, inserted and overwritten bytes) must end in a valid result or the
parser's one-line error, never another exception."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulation.elf import FirmwareImage
from emulation.errors import InvalidFirmware
from emulation.protocol import parse_line
from model.data.audio import read_wav, wav_bytes
from model.errors import BadInput

CASES = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


@st.composite
def mutations(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few random edits: the shapes of damage real files come with."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("flip", "cut", "insert", "overwrite", "zero-run")))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            data = data[:at]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "overwrite" and data:
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[at : at + len(chunk)] = chunk
        elif kind == "zero-run":
            data[at : at + draw(st.integers(1, 64))] = bytes(min(64, len(data) - at))
    return bytes(data)


def inputs(seed: bytes) -> st.SearchStrategy[bytes]:
    """Half random bytes, half mutations of a valid file."""
    return st.one_of(st.binary(max_size=2 * len(seed)), mutations(seed))


# --- WAV -----------------------------------------------------------------------------------


def _stdlib_wav(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


VALID_WAV = _stdlib_wav(np.arange(-400, 400, dtype=np.int16) * 40)


@CASES
@given(data=inputs(VALID_WAV))
def test_wav_reader_never_raises_anything_but_bad_input(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.getbasetemp() / "fuzz.wav"
    path.write_bytes(data)
    try:
        samples = read_wav(path)
    except BadInput as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return
    assert samples.dtype == np.int16 and samples.size > 0


@settings(max_examples=200, deadline=None, database=None)
@given(samples=st.lists(st.integers(-32768, 32767), min_size=1, max_size=3000))
def test_wav_reader_agrees_with_the_standard_library(tmp_path_factory, samples: list[int]) -> None:
    """Files written by Python's `wave` module read back as the samples it was given; and the
    project's writer produces what `wave` reads back."""
    pcm = np.array(samples, dtype=np.int16)
    path = tmp_path_factory.getbasetemp() / "stdlib.wav"
    path.write_bytes(_stdlib_wav(pcm))
    assert np.array_equal(read_wav(path), pcm)
    with wave.open(io.BytesIO(wav_bytes(pcm))) as back:
        assert (back.getnchannels(), back.getsampwidth(), back.getframerate()) == (1, 2, 16000)
        assert np.array_equal(np.frombuffer(back.readframes(back.getnframes()), "<i2"), pcm)


# --- .tflite -------------------------------------------------------------------------------


def _sine_model() -> bytes:
    """A third-party model shipped with tflite-micro (float, several ops): not written by us."""
    import tflite_micro

    return (Path(tflite_micro.__file__).parent / "python" / "tflite_micro" / "sine_float.tflite").read_bytes()


@pytest.fixture(scope="module")
def our_model(tmp_path_factory) -> bytes:
    """TinyConv exported to int8 (the session's shared export of test_export)."""
    pytest.importorskip("tensorflow")
    import test_export

    return test_export.exported(tmp_path_factory, 8, "int8")


def _parse_or_bad_input(data: bytes) -> None:
    from model.deploy.tflite_reader import parse_model

    try:
        model = parse_model(data, "fuzz.tflite")
    except BadInput as exc:
        assert str(exc).startswith("fuzz.tflite: ") and "\n" not in str(exc)
        return
    assert model.tensors is not None


@CASES
@given(data=inputs(_sine_model()))
def test_tflite_reader_on_a_third_party_model(data: bytes) -> None:
    _parse_or_bad_input(data)


@CASES
@given(data=st.data())
def test_tflite_reader_on_our_int8_export(our_model: bytes, data: st.DataObject) -> None:
    _parse_or_bad_input(data.draw(inputs(our_model)))


# --- checkpoint ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> bytes:
    torch = pytest.importorskip("torch")
    from model.train.tinyconv import TinyConv, save_checkpoint

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "model.pt"
    save_checkpoint(path, TinyConv(1), {})
    return path.read_bytes()


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_checkpoint_loader_never_raises_anything_but_bad_input(tmp_path_factory, checkpoint, data) -> None:
    from model.train.tinyconv import load_checkpoint

    path = tmp_path_factory.getbasetemp() / "fuzz.pt"
    path.write_bytes(data.draw(inputs(checkpoint)))
    try:
        model, payload = load_checkpoint(path)
    except BadInput as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return
    assert payload["channels"] == model.conv.out_channels


def test_checkpoint_of_another_shape_is_bad_input(tmp_path, checkpoint) -> None:
    import torch

    from model.train.tinyconv import load_checkpoint

    payload = torch.load(io.BytesIO(checkpoint), weights_only=True)
    payload["channels"] = 3  # weights are for 1 channel
    torch.save(payload, tmp_path / "shape.pt")
    with pytest.raises(BadInput, match="weights do not fit TinyConv with 3 channels"):
        load_checkpoint(tmp_path / "shape.pt")


# --- ELF -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def elf(tmp_path_factory) -> bytes:
    """A small linked Cortex-M4 image with vectors, code, data and symbols (small keeps 2,000
    parses fast; pyelftools' cost grows with the file)."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    out = tmp_path_factory.mktemp("fw")
    source = out / "fw.s"
    source.write_text(
        '.syntax unified\n.thumb\n.section .vectors,"a"\n.word 0x20001000\n.word reset\n'
        ".data\ncounter: .word 7\n.text\n.thumb_func\n.global reset\nreset: ldr r1, =counter\n"
        "ldr r0, [r1]\nadds r0, #1\nstr r0, [r1]\nb reset\n.ltorg\n"
    )
    subprocess.run(
        ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-Wl,--section-start=.vectors=0",
         "-Wl,-Ttext=0x100", "-Wl,-Tdata=0x20000000", "-Wl,-e,reset", "-o", str(out / "fw.elf"), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    return (out / "fw.elf").read_bytes()


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_elf_loader_never_raises_anything_but_invalid_firmware(tmp_path_factory, elf, data) -> None:
    path = tmp_path_factory.getbasetemp() / "fuzz.elf"
    path.write_bytes(data.draw(inputs(elf)))
    try:
        image = FirmwareImage(path)
    except InvalidFirmware as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return
    _sp, pc = image.reset_vector()
    assert pc % 2 == 0 and image.segments


# --- UART lines ----------------------------------------------------------------------------

LINE = "result label=yes scores=-128,-120,90,-100 checksum=0x1234abcd pre=1464670 inf=265683 post=39"


@CASES
@given(line=st.one_of(st.text(max_size=200), st.binary(max_size=120).map(lambda b: b.decode("latin-1")),
                      mutations(LINE.encode()).map(lambda b: b.decode("latin-1"))))  # fmt: skip
def test_uart_line_parser_never_raises_anything_but_value_error(line: str) -> None:
    try:
        record, fields = parse_line(line)
    except ValueError as exc:
        assert "protocol line" in str(exc) or "field without '='" in str(exc), exc
        return
    assert record in ("boot", "result", "heard", "profile", "fault", "ok", "error")
    assert all("=" not in key for key in fields)
