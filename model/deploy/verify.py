"""``kws verify``: the generated C model against TFLM's reference kernels, clip by clip.

Every clip goes through the frontend and the input quantization, then through the model twice:
the generated C (a *target*) and ``tflite_micro`` (the golden reference), from the same input.
int8 outputs must be identical; float32 outputs within 1e-5 relative (1e-7 absolute near 0).

Targets: ``host`` compiles the generated C with a kernel set (``--kernels``) into a shared
library with the host compiler and calls it through ctypes; the input is quantized by the
generated C lookup table. ``--elf`` runs the firmware in an emulator instead (``--backend``):
the clip's audio goes in, and the firmware's ``result`` line gives its scores and the FNV-1a
checksum of the bytes its model received (int8 or float32 values, little-endian). The host
computes both from its own frontend and ``tflite_micro`` (``expected_result``); the checksums
must be equal, and the scores equal for int8; for float32 the firmware prints int8 scores
rounded from its probabilities (``firmware_scores``), which must lie between the roundings of
tflite_micro's probabilities minus and plus the float tolerance (``check_result``). This one
comparison serves ``kws verify --elf``, the pipeline's emulate stage and the Robot suites.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model import config
from model.deploy.codegen.sparse import DEFAULT_FORMAT
from model.errors import BadInput

FLOAT_RTOL = 1e-5
FLOAT_ATOL = 1e-7


class HostTarget:
    """The generated C of a model, built for the host with one kernel set and loaded by ctypes."""

    def __init__(
        self, flatbuffer: bytes, kernels: str = "reference", path: str | Path = "<model>", weights: str = DEFAULT_FORMAT
    ) -> None:
        from model.deploy.codegen import KERNEL_SETS, generate, write

        if kernels not in KERNEL_SETS:
            raise BadInput(None, f"unknown kernel set {kernels!r} (choose from {', '.join(KERNEL_SETS)})")
        self.generated = generate(flatbuffer, "kws_model", path, weights)
        digest = hashlib.sha256(flatbuffer).hexdigest()[:16]
        build = config.BUILD_DIR / "verify" / f"{digest}-{weights}"
        write(self.generated, build / "src")
        library = build / f"libkwsmodel-{kernels}.so"
        result = subprocess.run(
            [
                "make",
                "-s",
                "-C",
                str(config.FIRMWARE_DIR),
                "host-model",
                f"MODEL_DIR={build / 'src'}",
                f"MODEL_LIB={library}",
                f"KERNELS={kernels}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"building the generated model failed:\n{(result.stderr or result.stdout).strip()}")
        self.lib = ctypes.CDLL(str(library))
        self.dtype = np.dtype(np.int8 if self.generated.dtype == "int8" else np.float32)
        self.input_size = int(np.prod(self.generated.input_shape))
        self.output_size = int(np.prod(self.generated.output_shape))
        self.lib.kws_model_invoke.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.lib.kws_model_invoke.restype = ctypes.c_int
        self.lib.kws_model_features_to_input.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        self.lib.kws_model_features_to_input.restype = None

    def remember_rows(self, on: bool) -> None:
        """Turn the host build's convolution row memo on (the default) or off, forgetting every row
        (firmware/kernels/host/kws_row_memo.h: a stream's overlapping windows share most rows)."""
        self.lib.kws_row_memo_enable(ctypes.c_int32(int(on)))

    def row_counts(self) -> tuple[int, int]:
        """Convolution output rows the memo returned and rows computed, since it was last turned on."""
        counts = (ctypes.c_uint64 * 2)()
        self.lib.kws_row_memo_counts(counts)
        return counts[0], counts[1]

    def features_to_input(self, features: np.ndarray) -> np.ndarray:
        """Model input of uint16 features of any shape, by the generated C table."""
        features = np.ascontiguousarray(features, dtype=np.uint16)
        out = np.empty(features.shape, dtype=self.dtype)
        self.lib.kws_model_features_to_input(features.ctypes.data, out.ctypes.data, features.size)
        return out

    def invoke(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=self.dtype).reshape(-1)
        if x.size != self.input_size:
            raise ValueError(f"input has {x.size} values, the model takes {self.input_size}")
        out = np.empty(self.output_size, dtype=self.dtype)
        if self.lib.kws_model_invoke(x.ctypes.data, out.ctypes.data) != 0:
            raise RuntimeError("kws_model_invoke failed")
        return out


TARGETS = {"host": HostTarget}


def outputs_match(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype == np.int8:
        return bool(np.array_equal(a, b))
    return bool(np.allclose(a, b, rtol=FLOAT_RTOL, atol=FLOAT_ATOL))


def compare(target, flatbuffer: bytes, clips: Iterator[tuple[str, np.ndarray]]) -> dict[str, Any]:
    """Run (name, uint16 features) clips through ``target`` and TFLM; the verify report."""
    from model.deploy.export import TFLMRunner

    reference = TFLMRunner(flatbuffer)
    clips_run, matched, mismatches = 0, 0, []
    for name, features in clips:
        x = target.features_to_input(features)
        expected_input = reference.quantization.model_input(features)
        if not np.array_equal(x, expected_input):
            mismatches.append({"clip": name, "stage": "input quantization"})
            clips_run += 1
            continue
        got, want = target.invoke(x), reference.run_input(x)
        clips_run += 1
        if outputs_match(got, want):
            matched += 1
        else:
            mismatches.append({"clip": name, "stage": "model", "target": got.tolist(), "tflite_micro": want.tolist()})
    return _report(reference.dtype, clips_run, matched, mismatches)


def fnv1a(data: bytes) -> int:
    """32-bit FNV-1a, the firmware's checksum of the model input (firmware/README.md)."""
    h = 2166136261
    for byte in data:
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def input_checksum(model_input: np.ndarray) -> str:
    """The checksum the firmware prints of a model input: FNV-1a of its bytes as the model receives
    them (int8, or float32 little-endian as on the Cortex-M4), as ``0x%08x``."""
    dtype = model_input.dtype.newbyteorder("<")
    return f"0x{fnv1a(np.ascontiguousarray(model_input, dtype=dtype).tobytes()):08x}"


def firmware_scores(output: np.ndarray) -> np.ndarray:
    """The int8 scores the firmware prints for a model output: int8 as is; float32 probabilities
    rounded as firmware/app/infer.c does (``p * 256 + 0.5`` truncated, clamped to 0..255, minus 128)."""
    if output.dtype == np.int8:
        return output
    q = np.floor(output.astype(np.float32) * np.float32(256) + np.float32(0.5))
    return (np.clip(q, 0, 255) - 128).astype(np.int8)


@dataclass(frozen=True)
class Expected:
    """What the firmware must report for a clip: its model input's checksum and tflite_micro's output."""

    checksum: str
    output: np.ndarray  # int8 scores, or float32 probabilities


def expected_result(reference, pcm: np.ndarray) -> Expected:
    """The host's answer for int16 ``pcm``: its C frontend, input quantization (or float scaling)
    and ``reference`` (a model.deploy.export.TFLMRunner), independently of the firmware."""
    from model.data.features import microfrontend

    model_input = reference.quantization.model_input(microfrontend(pcm)).astype(reference.dtype)
    return Expected(input_checksum(model_input), reference.run_input(model_input))


def score_bounds(output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The int8 scores a firmware may print for ``output``: exactly ``output`` for int8; for float32
    the roundings of the probabilities minus and plus the float tolerance (FLOAT_RTOL, FLOAT_ATOL)."""
    if output.dtype == np.int8:
        return output, output
    p = output.astype(np.float64)
    slack = np.abs(p) * FLOAT_RTOL + FLOAT_ATOL
    return firmware_scores((p - slack).astype(np.float32)), firmware_scores((p + slack).astype(np.float32))


def check_result(fields: dict[str, str], expected: Expected) -> dict[str, Any] | None:
    """None when a firmware ``result`` line's fields agree with ``expected``; else what differs:
    ``{"stage": "input", "firmware", "host"}`` (checksums) or ``{"stage": "model", "firmware",
    "tflite_micro"}`` (scores; a float32 model's allowed range as ``[low, high]``)."""
    if fields["checksum"] != expected.checksum:
        return {"stage": "input", "firmware": fields["checksum"], "host": expected.checksum}
    got = np.array([int(v) for v in fields["scores"].split(",")], dtype=np.int8)
    low, high = score_bounds(expected.output.reshape(-1))
    if got.shape == low.shape and np.all((low <= got) & (got <= high)):
        return None
    want = low.tolist() if np.array_equal(low, high) else [low.tolist(), high.tolist()]
    return {"stage": "model", "firmware": got.tolist(), "tflite_micro": want}


def _report(dtype: np.dtype, clips: int, matched: int, mismatches: list[dict[str, Any]]) -> dict[str, Any]:
    """The verify report: int8 clips match bit for bit, float32 clips within the tolerance."""
    key = "bit_exact" if dtype == np.int8 else "within_tolerance"
    return {"clips": clips, key: matched, "mismatches": mismatches}


def compare_firmware(elf: Path, backend: str, flatbuffer: bytes, clips: Iterator[tuple[str, np.ndarray]]):
    """Run (name, int16 pcm) clips through the emulated firmware and check each ``result`` line
    against the host's frontend and TFLM (``check_result``); the verify report."""
    from emulation.clip import run_clip
    from emulation.errors import BackendUnavailable
    from model.deploy.export import TFLMRunner

    reference = TFLMRunner(flatbuffer)
    clips_run, matched, mismatches = 0, 0, []
    for name, pcm in clips:
        expected = expected_result(reference, pcm)
        try:
            result = run_clip(elf, pcm.astype("<i2").tobytes(), backend).result
        except BackendUnavailable as exc:
            raise BadInput(None, f"--backend {backend}: {exc}") from None
        clips_run += 1
        mismatch = check_result(result, expected)
        if mismatch is None:
            matched += 1
        else:
            mismatches.append({"clip": name, **mismatch})
    return _report(reference.dtype, clips_run, matched, mismatches)


def data_pcm(data: Path) -> Iterator[tuple[str, np.ndarray]]:
    """(name, 1 s int16 pcm) of a plain folder of WAV files, or else of a Speech Commands test split."""
    from model.data.audio import pad_or_trim, read_wav

    data = Path(data)
    if not data.is_dir():
        raise BadInput(data, "no such data directory")
    wavs = sorted(data.glob("*.wav"))
    if wavs:
        for wav in wavs:
            yield wav.name, pad_or_trim(read_wav(wav, max_samples=config.CLIP_SAMPLES))
        return
    from model.train.batches import SPLITS, open_dataset

    dataset = open_dataset(data, {})
    examples = dataset.split(SPLITS["test"])
    if not examples:
        raise BadInput(data, "no WAV files and no clips in a Speech Commands test split: nothing to verify")
    for example in examples:
        name = str(example.path) if example.path is not None else f"silence-{example.index}"
        yield name, dataset.load(example)


def data_clips(data: Path) -> Iterator[tuple[str, np.ndarray]]:
    """(name, features) of the clips of :func:`data_pcm`."""
    from model.data.features import microfrontend

    for name, pcm in data_pcm(data):
        yield name, microfrontend(pcm)


def run(args: argparse.Namespace) -> int:
    from model.deploy.tflite_reader import read_model

    model, flatbuffer = read_model(args.model)
    window = config.NUM_FRAMES * config.NUM_CHANNELS
    if len(model.inputs) == 1 and (size := model.tensors[model.inputs[0]].size) != window:
        raise BadInput(
            args.model,
            f"the model takes {size} input values; a clip is {config.NUM_FRAMES}x{config.NUM_CHANNELS} features",
        )
    if args.elf:
        from model.deploy.emulate import check_elf

        elf = check_elf(Path(args.elf))
        report = compare_firmware(elf, args.backend, flatbuffer, data_pcm(Path(args.data)))
        where = f"firmware {elf} on {args.backend}"
    else:
        target = TARGETS[args.target](flatbuffer, args.kernels, args.model, args.weights)
        report = compare(target, flatbuffer, data_clips(Path(args.data)))
        where = f"{args.target}, {args.kernels} kernels, {target.generated.dtype}, weights {args.weights}"
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        matched = report.get("bit_exact", report.get("within_tolerance"))
        how = "bit for bit" if "bit_exact" in report else "within the float32 tolerance"
        print(f"{matched}/{report['clips']} clips match tflite_micro {how} ({where})")
        for m in report["mismatches"][:10]:
            print(f"  mismatch: {m}")
    return 1 if report["mismatches"] else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from model.deploy.codegen import add_weights_option

    parser = subparsers.add_parser(
        "verify",
        help="check the generated C model against tflite_micro on every clip of a dataset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, metavar="FILE.tflite", help="an int8 or float32 model")
    parser.add_argument(
        "--data",
        required=True,
        metavar="DIR",
        help="a folder of WAV files, or a Speech Commands dataset (its test split)",
    )
    parser.add_argument(
        "--target", choices=sorted(TARGETS), default="host", help="where the generated C runs (default host)"
    )
    parser.add_argument("--elf", metavar="FILE", help="verify this firmware ELF, run in an emulator, instead")
    parser.add_argument(
        "--backend", choices=("unicorn", "renode"), default="unicorn", help="emulator for --elf (default unicorn)"
    )
    parser.add_argument("--kernels", default="reference", help="kernel set: reference or cortex_m4 (default reference)")
    add_weights_option(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)
