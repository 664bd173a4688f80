"""Sparse fully connected weights (``--weights sparse|auto``): the bitmap format against an
independent decoding, and the generated C (reference and Cortex-M4 kernels) bit-exact with
tflite_micro running the dense int8 .tflite of the same pruned model, on the host and in the
emulated firmware; one wrong bitmap bit makes the comparison fail."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")
import torch
from test_export import exported, realistic_features, tinyconv
from test_verify import clips
from wavs import tone

from model import config
from model.deploy import codegen
from model.deploy.codegen import sparse
from model.deploy.tflite_reader import parse_model
from model.deploy.verify import HostTarget, compare
from model.errors import BadInput


def _decode(bitmap: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Dense weights of the format as kws_kernels.h states it, one bit at a time."""
    out_depth, in_depth = shape
    words = -(-in_depth // 32)
    dense = np.zeros(shape, np.int64)
    it = iter(values.tolist())
    for o in range(out_depth):
        for d in range(in_depth):
            if (int(bitmap[o * words + d // 32]) >> (31 - d % 32)) & 1:
                dense[o, d] = next(it)
    assert next(it, None) is None, "values left over"
    return dense


@pytest.mark.parametrize("in_depth", [1, 31, 32, 33, 100, 4000])
def test_the_bitmap_is_msb_first_per_row_and_decodes_to_the_weights(in_depth) -> None:
    rng = np.random.default_rng(in_depth)
    weights = rng.integers(-128, 128, (5, in_depth)) * (rng.random((5, in_depth)) < 0.3)
    weights[0] = 0  # all-zero row
    weights[1] = rng.integers(1, 128, in_depth)  # no zero
    weights[2, [0, -1]] = [-128, 127]  # first and last input nonzero
    bitmap, values = sparse.encode(weights)
    assert bitmap.dtype == np.uint32 and values.dtype == np.int8
    assert bitmap.size == 5 * -(-in_depth // 32) and values.size == np.count_nonzero(weights)
    assert _decode(bitmap, values, weights.shape).tolist() == weights.tolist()
    assert int(bitmap[2 * -(-in_depth // 32)]) >> 31 == 1  # input 0 is bit 31 of the row's first word


def test_auto_picks_sparse_only_where_it_is_smaller() -> None:
    weights = np.ones((4, 4000), np.int64)
    assert sparse.sparse_bytes(weights) == 2000 + 16000
    assert not sparse.choose("auto", weights) and sparse.choose("sparse", weights)
    weights[:, ::2] = 0
    assert sparse.sparse_bytes(weights) == 2000 + 8000 and sparse.choose("auto", weights)
    assert not sparse.choose("dense", weights)


def _pruned(channels: int, sparsity: float) -> torch.nn.Module:
    """A random TinyConv with its fc pruned by magnitude and edge-case rows (in TFLite's column
    order too: its first and last fc inputs are PyTorch's): row 0 all zero, row 1 without a zero,
    row 2 90 % zero with first and last weight nonzero, row 3 the layer's sparsity."""
    from model.compress.prune import apply_masks, magnitude_masks

    model = tinyconv(channels)
    apply_masks(model, {"fc.weight": magnitude_masks(model, sparsity)["fc.weight"]})
    with torch.no_grad():
        w = model.fc.weight
        top = float(w.abs().max())
        w[0] = 0
        w[1] = torch.where(torch.rand(w.shape[1]) < 0.5, -1.0, 1.0) * top * (0.3 + 0.7 * torch.rand(w.shape[1]))
        w[2] *= torch.rand(w.shape[1]) < 0.1
        w[2, 0], w[2, -1] = top, -top
    return model


@pytest.fixture(scope="module", params=[(8, 0.75), (3, 0.5)], ids=["c8-75", "c3-50"])
def pruned_model(request, tmp_path_factory) -> bytes:
    """The dense int8 .tflite of a pruned model; in_depth 4000 (whole bitmap words) and 1500 (not)."""
    from model.deploy.export import export_tflite

    channels, sparsity = request.param
    path = tmp_path_factory.getbasetemp() / "models" / f"pruned-{channels}-{sparsity}.tflite"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        representative = realistic_features(np.random.default_rng(channels), 200)
        path.write_bytes(export_tflite(_pruned(channels, sparsity), representative))
    return path.read_bytes()


def _fc_weights(flatbuffer: bytes) -> np.ndarray:
    model = parse_model(flatbuffer)
    (op,) = [op for op in model.operators if op.name == "FULLY_CONNECTED"]
    return np.asarray(model.tensors[op.inputs[1]].data, np.int64)


def test_the_pruned_model_has_the_edge_rows(pruned_model) -> None:
    w = _fc_weights(pruned_model)
    nonzero = np.count_nonzero(w, axis=1)
    assert nonzero[0] == 0 and nonzero[1] == w.shape[1]
    assert w[2, 0] != 0 and w[2, -1] != 0 and 0 < nonzero[2] < 0.2 * w.shape[1]
    assert (nonzero % 2 == 1).any()  # a row whose last nonzero weight has no SMLAD partner


@pytest.mark.parametrize("kernels", ["reference", "cortex_m4"])
def test_sparse_bit_exact_on_the_host(pruned_model, kernels) -> None:
    target = HostTarget(pruned_model, kernels, weights="sparse")
    assert "kws_fully_connected_s8_sparse" in target.generated.source
    inputs = clips(11, 150)
    report = compare(target, pruned_model, iter(inputs))
    assert report["mismatches"] == [] and report["bit_exact"] == len(inputs)
    assert len({tuple(target.invoke(target.features_to_input(f))) for _, f in inputs}) > 10


def _flip(bit: int):
    """A sparse.encode whose bitmap has one bit more or less: the first set (``bit`` 1) or clear
    (``bit`` 0) bit of row 2 (90 % zero) within the row's inputs."""
    real = sparse.encode

    def encode(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bitmap, values = real(weights)
        words = sparse.words_per_row(weights.shape[1])
        d = int(np.flatnonzero((weights[2] != 0) == bool(bit))[0])
        bitmap = bitmap.copy()
        bitmap[2 * words + d // 32] ^= np.uint32(1 << (31 - d % 32))
        return bitmap, values

    return encode


@pytest.mark.parametrize("bit", [1, 0], ids=["set-bit-cleared", "clear-bit-set"])
@pytest.mark.parametrize("kernels", ["reference", "cortex_m4"])
def test_one_wrong_bitmap_bit_is_caught(pruned_model, kernels, bit, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(config, "BUILD_DIR", tmp_path)
    monkeypatch.setattr(sparse, "encode", _flip(bit))
    target = HostTarget(pruned_model, kernels, weights="sparse")
    assert compare(target, pruned_model, iter(clips(11, 100)))["mismatches"]


def test_weight_formats_in_the_generated_constants(pruned_model, tmp_path_factory) -> None:
    """dense keeps the int8 arrays; sparse is smaller for this pruned fc; auto (the default)
    takes it, and keeps an unpruned model's fc dense."""
    sizes = {f: codegen.generate(pruned_model, weights=f).weight_bytes for f in codegen.WEIGHT_FORMATS}
    assert sizes["sparse"]["cortex_m4"] < sizes["dense"]["cortex_m4"]
    assert sizes["auto"] == sizes["sparse"] == codegen.generate(pruned_model).weight_bytes
    assert "kws_fully_connected_s8_sparse" not in codegen.generate(pruned_model, weights="dense").source
    unpruned = codegen.generate(exported(tmp_path_factory, 8, "int8"))
    assert "kws_fully_connected_s8(" in unpruned.source and "_sparse" not in unpruned.source
    with pytest.raises(BadInput, match="weight format 'csr'"):
        codegen.generate(pruned_model, weights="csr")


def test_an_int4_model_has_no_sparse_format(pruned_model) -> None:
    from model.deploy.int4 import int4_flatbuffer

    int4 = int4_flatbuffer(pruned_model)
    assert "kws_fully_connected_s4" in codegen.generate(int4, weights="auto").source
    with pytest.raises(BadInput, match="int4 weights have no sparse format"):
        codegen.generate(int4, weights="sparse")


def _emulated(pruned_model: bytes, tmp_path) -> dict:
    """The verify report of the Cortex-M4 firmware with sparse fc weights (its assembly walk),
    emulated, against tflite_micro on edge-case clips."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    pytest.importorskip("unicorn")
    from model.deploy.firmware import build
    from model.deploy.verify import compare_firmware

    model = tmp_path / "pruned.tflite"
    model.write_bytes(pruned_model)
    build(model, tmp_path / "fw", variant="sparse", kernels="cortex_m4", weights="sparse")
    rng = np.random.default_rng(7)
    pcm = {
        "silence": np.zeros(16000, np.int16),
        "clipping": np.clip(4 * tone(1.0, 440, 0.9).astype(np.int32), -32768, 32767).astype(np.int16),
        "noise": rng.normal(0, 3000, 16000).clip(-32768, 32767).astype(np.int16),
    }
    return compare_firmware(tmp_path / "fw" / "kws.elf", "unicorn", pruned_model, iter(pcm.items()))


def test_sparse_firmware_bit_exact_in_emulation(pruned_model, tmp_path) -> None:
    report = _emulated(pruned_model, tmp_path)
    assert report["mismatches"] == [] and report["bit_exact"] == report["clips"] == 3


def test_one_wrong_bitmap_bit_is_caught_in_emulation(pruned_model, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sparse, "encode", _flip(1))
    assert _emulated(pruned_model, tmp_path)["mismatches"]


def test_the_cli_takes_the_weight_format(pruned_model, tmp_path) -> None:
    """kws codegen --weights sparse writes the sparse kernel call; an int4 model with --weights
    sparse is one line on stderr, exit 2, nothing written."""
    from test_cli import kws

    from model.deploy.int4 import int4_flatbuffer

    model, int4 = tmp_path / "pruned.tflite", tmp_path / "int4.tflite"
    model.write_bytes(pruned_model)
    int4.write_bytes(int4_flatbuffer(pruned_model))
    result = kws("codegen", "--model", str(model), "--out", str(tmp_path / "c"), "--weights", "sparse")
    assert result.returncode == 0, result.stderr
    assert "kws_fully_connected_s8_sparse" in (tmp_path / "c" / "kws_model.c").read_text()
    result = kws("codegen", "--model", str(int4), "--out", str(tmp_path / "c4"), "--weights", "sparse")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "int4 weights have no sparse format" in result.stderr and not (tmp_path / "c4").exists()
    result = kws("firmware", "build", "--model", str(model), "--variant", "v", "--out", str(tmp_path / "fw"),
                 "--weights", "csr")  # fmt: skip
    assert result.returncode == 2 and "--weights" in result.stderr


def test_kws_verify_checks_the_sparse_c(pruned_model, tmp_path, capsys) -> None:
    """kws verify --weights sparse compiles the sparse C and matches tflite_micro on WAV files."""
    from wavs import pcm16

    from model.cli import main

    rng = np.random.default_rng(3)
    pcm16(tmp_path / "silence.wav", np.zeros(16000))
    pcm16(tmp_path / "noise.wav", rng.normal(0, 3000, 16000).clip(-32768, 32767))
    pcm16(tmp_path / "tone.wav", tone(1.0, 700, 0.5))
    model = tmp_path / "m.tflite"
    model.write_bytes(pruned_model)
    args = ["verify", "--model", str(model), "--data", str(tmp_path), "--kernels", "cortex_m4", "--weights", "sparse"]
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"clips": 3, "bit_exact": 3, "mismatches": []}
