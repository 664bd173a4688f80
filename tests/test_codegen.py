"""The C code generator: plans, constants, the input table, errors, and the Cortex-M4 build."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess

import numpy as np
import pytest

pytest.importorskip("torch")
from test_export import exported

from model import config
from model.deploy.codegen import generate, quantize_multiplier
from model.deploy.quantization import UINT16_VALUES, InputQuantization
from model.errors import BadInput


def _two_buffers(a: int, b: int) -> int:
    """Arena of two tensors live together: the larger first, each start 8-byte aligned."""
    big, small = max(a, b), min(a, b)
    return -(-(-(-big // 8) * 8 + small) // 8) * 8


@pytest.mark.parametrize("channels", [8, 5, 3, 1])
def test_tinyconv_plan(tmp_path_factory, channels):
    int8 = generate(exported(tmp_path_factory, channels, "int8"))
    # the convolution does the padding itself: no PAD op, no padded copy of the input
    assert int8.ops[0] in ("CONV_2D", "DEPTHWISE_CONV_2D") and int8.ops[-1] == "SOFTMAX" and "PAD" not in int8.ops
    assert "{49, 40, 1, 25, 20, " in int8.source and ", 5, 3, " in int8.source  # unpadded input, pads 5 / 3
    # reference: conv output (25 x 20 x C) and fc output live together. cortex_m4: during the conv
    # also its scratch, 26 unpacked strip rows of 12 words (model/m4_layout.py).
    assert int8.arena_bytes["reference"] == _two_buffers(25 * 20 * channels, 4)
    assert int8.arena_bytes["cortex_m4"] == _two_buffers(25 * 20 * channels, 26 * 12 * 4)
    assert int8.arena_bytes["cortex_m4"] < 6672  # the arena with a PAD copy, before the fused padding
    params = 80 * channels + 4 * 500 * channels
    assert params < int8.weight_bytes["reference"] < params + 4 * (channels + 4) * 3 + 700
    # cortex_m4: per channel 4 bias words, 10 rows of 4 pair words, 3 requantization words
    conv_m4 = 4 * channels * (4 + 40 + 3)
    assert int8.weight_bytes["cortex_m4"] - int8.weight_bytes["reference"] == conv_m4 - (80 + 4 * 3) * channels
    floats = generate(exported(tmp_path_factory, channels, "float"))
    assert floats.ops[0] == "PAD"
    assert floats.arena_bytes == dict.fromkeys(
        ("reference", "cortex_m4"), _two_buffers(4 * 58 * 46, 4 * 25 * 20 * channels)
    )
    assert floats.weight_bytes["reference"] == 4 * (params + channels + 4)


def test_m4_layouts_feed_the_kernels_the_same_sums():
    """The fc's interleaved weights, read as the kernel reads them, and the blocked conv order
    give the same dot products as the plain layouts."""
    from model.deploy.codegen.m4_layout import blocked_order, fc_interleave, smlad_pairs

    rng = np.random.default_rng(0)
    out_h, out_w, out_c, outputs = 3, 8, 5, 8
    nhwc = rng.integers(-128, 128, out_h * out_w * out_c)
    weights = rng.integers(-127, 128, (outputs, nhwc.size))
    order = blocked_order(out_h, out_w, out_c)
    assert sorted(order) == list(range(nhwc.size))
    blocked = nhwc[order]  # what the conv stores
    words = fc_interleave(weights[:, order]).reshape(outputs // 4, nhwc.size // 4, 4, 4)  # [o/4][d/4][o%4][d%4]
    sums = np.einsum("gdkj,dj->gk", words, blocked.reshape(-1, 4)).reshape(-1)
    np.testing.assert_array_equal(sums, weights @ nhwc)
    taps = rng.integers(-127, 128, (2, 1, 8))
    pairs = smlad_pairs(taps).reshape(2, 4)
    halves = np.stack([((pairs & 0xFFFF) ^ 0x8000) - 0x8000, pairs >> 16], axis=-1)  # low, high int16 halves
    assert halves.tolist() == taps[:, 0, [0, 2, 1, 3, 4, 6, 5, 7]].reshape(2, 4, 2).tolist()


def test_quantize_multiplier_matches_tflite_convention():
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    assert quantize_multiplier(0.25) == (1 << 30, -1)
    assert quantize_multiplier(1.0) == (1 << 30, 1)
    q, shift = quantize_multiplier(0.001)
    assert abs(q * 2.0 ** (shift - 31) - 0.001) < 1e-12
    assert quantize_multiplier(1e-12) == (0, 0)  # below 2^-31: flushed to zero
    assert quantize_multiplier(1 - 2**-40) == (1 << 30, 1)  # rounds up to 2^31: halved


def test_input_table_in_c_matches_float64_formula(tmp_path_factory):
    """The generated C lookup (index clamped to the table) equals the formula for every uint16."""
    from model.deploy.verify import HostTarget

    flatbuffer = exported(tmp_path_factory, 8, "int8")
    features = np.arange(UINT16_VALUES, dtype=np.uint16)
    expected = InputQuantization.from_tflite(flatbuffer).quantize(features)
    np.testing.assert_array_equal(HostTarget(flatbuffer).features_to_input(features), expected)


def test_generated_header(tmp_path_factory):
    g = generate(exported(tmp_path_factory, 8, "int8"), name="tiny")
    assert "int tiny_invoke(const int8_t *input, int8_t *output);" in g.header
    assert "#define TINY_INPUT_ZERO_POINT -128" in g.header
    for kernels in ("reference", "cortex_m4"):
        assert f"#define TINY_ARENA_BYTES {g.arena_bytes[kernels]}" in g.header
    assert '"silence", "unknown", "yes", "no"' in g.header
    assert "#if defined(KWS_KERNELS_CORTEX_M4)" in g.source


def _model_with_tanh() -> bytes:
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
    def f(x):
        return tf.nn.tanh(x)

    function = f.get_concrete_function()
    return tf.lite.TFLiteConverter.from_concrete_functions([function], f).convert()


def test_unsupported_op_is_one_line_bad_input():
    with pytest.raises(BadInput) as error:
        generate(_model_with_tanh(), path="tanh.tflite")
    message = str(error.value)
    assert message.startswith("tanh.tflite: operator 0 (TANH): unsupported operator")
    assert "\n" not in message


def test_not_a_flatbuffer(tmp_path):
    from model.deploy.codegen import run

    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\0" * 64)
    args = argparse.Namespace(model=str(bad), out=str(tmp_path / "out"), name="kws_model", json=False, weights="auto")
    with pytest.raises(BadInput, match="not a TFLite flatbuffer"):
        run(args)
    with pytest.raises(BadInput, match="no such model file"):
        run(argparse.Namespace(**{**vars(args), "model": str(tmp_path / "missing.tflite")}))


def test_codegen_cli_writes_files(tmp_path_factory, tmp_path, capsys):
    from model.deploy.codegen import run

    model = tmp_path / "m.tflite"
    model.write_bytes(exported(tmp_path_factory, 3, "int8"))
    args = argparse.Namespace(model=str(model), out=str(tmp_path / "gen"), name="kws_model", json=True, weights="auto")
    assert run(args) == 0
    assert (tmp_path / "gen" / "kws_model.c").exists() and (tmp_path / "gen" / "kws_model.h").exists()
    assert '"arena_bytes"' in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
@pytest.mark.parametrize("kind", ["int8", "float"])
def test_cortex_m4_build(tmp_path_factory, tmp_path, kind):
    """Generated model + cortex_m4 kernels compile for the M4F with -Wall -Wextra -Werror; SMLAD is used."""
    from model.deploy.codegen import write

    write(generate(exported(tmp_path_factory, 5, kind)), tmp_path / "src")
    library = tmp_path / "lib" / "libkwsmodel.a"
    result = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(config.FIRMWARE_DIR),
            "arm-model",
            f"MODEL_DIR={tmp_path / 'src'}",
            f"MODEL_LIB={library}",
            "KERNELS=cortex_m4",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    disassembly = subprocess.run(
        ["arm-none-eabi-objdump", "-d", str(library)], capture_output=True, text=True, check=True
    ).stdout
    assert "smlad" in disassembly and "sxtb16" in disassembly
    # LDM and LDRD fault on unaligned addresses: every constant array is word-aligned
    sections = subprocess.run(
        ["arm-none-eabi-readelf", "-SW", str(library)], capture_output=True, text=True, check=True
    ).stdout
    rodata = re.findall(r"\]\s+\.rodata\.(op\d+_\w+)\s.*\s(\d+)$", sections, re.MULTILINE)
    assert {"op1_weights", "op3_weights"} <= {name for name, _ in rodata}
    assert all(int(alignment) >= 4 for _, alignment in rodata), rodata
