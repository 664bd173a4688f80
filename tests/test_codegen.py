"""The C code generator: plans, constants, the input table, errors, and the Cortex-M4 build."""

from __future__ import annotations

import argparse
import shutil
import subprocess

import numpy as np
import pytest

pytest.importorskip("torch")
from test_export import exported

from model import config
from model.codegen import generate, quantize_multiplier
from model.errors import BadInput
from model.quantization import UINT16_VALUES, InputQuantization


def _two_buffers(a: int, b: int) -> int:
    """Arena of two tensors live together: the larger first, each start 8-byte aligned."""
    big, small = max(a, b), min(a, b)
    return -(-(-(-big // 8) * 8 + small) // 8) * 8


@pytest.mark.parametrize("channels", [8, 5, 3, 1])
def test_tinyconv_plan(tmp_path_factory, channels):
    int8 = generate(exported(tmp_path_factory, channels, "int8"))
    assert int8.ops[0] == "PAD" and int8.ops[-1] == "SOFTMAX"
    # PAD output (58 x 46) and conv output (25 x 20 x C) are live together; the fc output reuses one.
    assert int8.arena_bytes == _two_buffers(58 * 46, 25 * 20 * channels)
    params = 80 * channels + 4 * 500 * channels
    assert params < int8.weight_bytes["reference"] < params + 4 * (channels + 4) * 3 + 700
    floats = generate(exported(tmp_path_factory, channels, "float"))
    assert floats.arena_bytes == _two_buffers(4 * 58 * 46, 4 * 25 * 20 * channels)
    assert floats.weight_bytes["reference"] == 4 * (params + channels + 4)


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
    from model.verify import HostTarget

    flatbuffer = exported(tmp_path_factory, 8, "int8")
    features = np.arange(UINT16_VALUES, dtype=np.uint16)
    expected = InputQuantization.from_tflite(flatbuffer).quantize(features)
    np.testing.assert_array_equal(HostTarget(flatbuffer).features_to_input(features), expected)


def test_generated_header(tmp_path_factory):
    g = generate(exported(tmp_path_factory, 8, "int8"), name="tiny")
    assert "int tiny_invoke(const int8_t *input, int8_t *output);" in g.header
    assert "#define TINY_INPUT_ZERO_POINT -128" in g.header
    assert f"#define TINY_ARENA_BYTES {g.arena_bytes}" in g.header
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
    from model.codegen import run

    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\0" * 64)
    args = argparse.Namespace(model=str(bad), out=str(tmp_path / "out"), name="kws_model", json=False)
    with pytest.raises(BadInput, match="not a TFLite flatbuffer"):
        run(args)
    with pytest.raises(BadInput, match="no such model file"):
        run(argparse.Namespace(**{**vars(args), "model": str(tmp_path / "missing.tflite")}))


def test_codegen_cli_writes_files(tmp_path_factory, tmp_path, capsys):
    from model.codegen import run

    model = tmp_path / "m.tflite"
    model.write_bytes(exported(tmp_path_factory, 3, "int8"))
    assert run(argparse.Namespace(model=str(model), out=str(tmp_path / "gen"), name="kws_model", json=True)) == 0
    assert (tmp_path / "gen" / "kws_model.c").exists() and (tmp_path / "gen" / "kws_model.h").exists()
    assert '"arena_bytes"' in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
@pytest.mark.parametrize("kind", ["int8", "float"])
def test_cortex_m4_build(tmp_path_factory, tmp_path, kind):
    """Generated model + cortex_m4 kernels compile for the M4F with -Wall -Wextra -Werror; SMLAD is used."""
    from model.codegen import write

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
