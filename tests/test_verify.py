"""Generated C against tflite_micro: bit-exact int8 (host and emulated firmware), float32 within
1e-5; the Cortex-M4 requantization shortcut against the reference double rounding."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess

import numpy as np
import pytest

pytest.importorskip("torch")
from test_export import edge_features, exported, realistic_features
from wavs import pcm16, tone

from model import config
from model.deploy.codegen import m4_layout
from model.deploy.verify import HostTarget, compare


def clips(seed: int, n: int) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [*edge_features(rng), *((f"realistic-{i}", f) for i, f in enumerate(realistic_features(rng, n)))]


@pytest.mark.parametrize("kernels", ["reference", "cortex_m4"])
@pytest.mark.parametrize("channels", [8, 5, 3, 1])
def test_int8_bit_exact(tmp_path_factory, channels, kernels):
    flatbuffer = exported(tmp_path_factory, channels, "int8")
    inputs = clips(channels, 200)
    report = compare(HostTarget(flatbuffer, kernels), flatbuffer, iter(inputs))
    assert report["mismatches"] == []
    assert report["bit_exact"] == report["clips"] == len(inputs) >= 200


def test_int8_outputs_are_not_degenerate(tmp_path_factory):
    """The comparison means something: outputs vary and are not all saturated."""
    target = HostTarget(exported(tmp_path_factory, 8, "int8"))
    outputs = np.stack([target.invoke(target.features_to_input(f)) for _, f in clips(1, 50)])
    assert len({tuple(o) for o in outputs}) > 20
    assert ((outputs > -128) & (outputs < 127)).mean() > 0.2


def _stream_windows(rng: np.random.Generator) -> list[np.ndarray]:
    """Windows as the host engine cuts them from a stream: every 1, 2 and 3 frames over clips
    back to back, each edge case (constant, stripes, extremes) as a stream of its own, and the
    same window twice in a row."""
    frames = np.concatenate([*realistic_features(rng, 4), *(f for _, f in edge_features(rng))])
    n = config.NUM_FRAMES
    windows = [frames[s : s + n] for stride in (1, 2, 3) for s in range(0, len(frames) - n + 1, stride)]
    return [*windows, windows[7], windows[7]]


@pytest.mark.parametrize("channels", [8, 3])
def test_row_memo_gives_tflite_micros_outputs_on_a_stream(tmp_path_factory, channels):
    """The host build's convolution rows remembered by their input rows (kernels/host/kws_row_memo.h)
    change no output of overlapping windows, against tflite_micro; and the memo is used."""
    from model.deploy.export import TFLMRunner

    flatbuffer = exported(tmp_path_factory, channels, "int8")
    target, runner = HostTarget(flatbuffer, "cortex_m4"), TFLMRunner(flatbuffer)
    target.remember_rows(True)
    windows = [target.features_to_input(w) for w in _stream_windows(np.random.default_rng(channels))]
    mismatches = [i for i, x in enumerate(windows) if not np.array_equal(target.invoke(x), runner.run_input(x))]
    assert mismatches == [] and len(windows) > 600
    returned, computed = target.row_counts()
    assert returned > 2 * computed > 0, "the memo returned too few rows to be tested"
    target.remember_rows(False)
    assert [i for i, x in enumerate(windows[:50]) if not np.array_equal(target.invoke(x), runner.run_input(x))] == []
    assert target.row_counts() == (0, 0)
    target.remember_rows(True)


def tf_int8_model(build, seed: int = 0, frames: int = config.NUM_FRAMES, io: str = "int8") -> bytes:
    """An int8 model of a TensorFlow function ``build(x, rng)`` of a [1, frames, 40, 1] input, as a
    third party would convert it (no PyTorch, no PAD op: the converter's own SAME padding); with
    ``io="float32"`` its input and output stay float32 (QUANTIZE and DEQUANTIZE around the layers)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    shape = (1, frames, config.NUM_CHANNELS, 1)

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
    def f(x):
        return build(x, rng)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([rng.uniform(0, 26, shape).astype(np.float32)] for _ in range(50))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if io == "int8":
        converter.inference_input_type = converter.inference_output_type = tf.int8
    return converter.convert()


def _conv_same_stride1(x, rng):
    """k_h 9, stride 1 along time, SAME: 4 padding rows above the first output row and 4 below the
    last, so rows padded above and below read as many input rows (the memo must tell them apart)."""
    import tensorflow as tf

    w = tf.constant(rng.normal(0, 0.2, (9, 8, 1, 4)).astype(np.float32))
    return tf.nn.relu(tf.nn.conv2d(x, w, strides=[1, 1, 2, 1], padding="SAME"))


def test_row_memo_on_a_converter_padded_stride_1_conv():
    from model.deploy.export import TFLMRunner

    flatbuffer = tf_int8_model(_conv_same_stride1)
    target, runner = HostTarget(flatbuffer, "cortex_m4"), TFLMRunner(flatbuffer)
    target.remember_rows(True)
    rng = np.random.default_rng(3)
    frames = np.concatenate([rng.integers(-128, 128, (120, 40)), np.full((60, 40), 37), np.full((60, 40), -128)])
    windows = [frames[s : s + config.NUM_FRAMES].astype(np.int8) for s in range(0, len(frames) - 48, 2)]
    mismatches = [i for i, x in enumerate(windows) if not np.array_equal(target.invoke(x), runner.run_input(x))]
    assert mismatches == []
    returned, computed = target.row_counts()
    assert returned > computed > 0


def test_fully_connected_with_outputs_not_a_multiple_of_4():
    """Three classes: the FULLY_CONNECTED takes the reference layout in both kernel sets."""
    import tensorflow as tf

    def three_classes(x, rng):
        w = tf.constant(rng.normal(0, 0.02, (config.NUM_FRAMES * config.NUM_CHANNELS, 3)).astype(np.float32))
        return tf.nn.softmax(tf.matmul(tf.reshape(x, [1, -1]), w) + tf.constant([0.5, -0.25, 0.0]))

    flatbuffer = tf_int8_model(three_classes)
    rng = np.random.default_rng(4)
    inputs = [(f"random-{i}", rng.integers(0, 670, (config.NUM_FRAMES, config.NUM_CHANNELS))) for i in range(30)]
    for kernels in ("reference", "cortex_m4"):
        report = compare(HostTarget(flatbuffer, kernels), flatbuffer, iter(inputs))
        assert report["mismatches"] == [] and report["bit_exact"] == 30


def test_verify_refuses_a_model_of_another_window(tmp_path, capsys):
    """Two seconds of features in: one line naming the model, before any clip is run."""
    import tensorflow as tf

    from model.cli import main

    def two_seconds(x, rng):
        w = tf.constant(rng.normal(0, 0.01, (2 * config.NUM_FRAMES * config.NUM_CHANNELS, 4)).astype(np.float32))
        return tf.nn.softmax(tf.matmul(tf.reshape(x, [1, -1]), w))

    model = tmp_path / "two-seconds.tflite"
    model.write_bytes(tf_int8_model(two_seconds, frames=2 * config.NUM_FRAMES))
    pcm16(tmp_path / "tone.wav", tone(1.0, 440, 0.5))
    assert main(["verify", "--model", str(model), "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"kws: {model}: the model takes 3920 input values; a clip is 49x40 features"]


def _conv(x, rng, kernel: tuple[int, int, int, int], strides: tuple[int, int], padding: str):
    import tensorflow as tf

    fan_in = kernel[0] * kernel[1] * kernel[2]
    w = tf.constant(rng.normal(0, 0.3 / fan_in**0.5, kernel).astype(np.float32))
    bias = tf.constant(rng.normal(0, 0.1, kernel[3]).astype(np.float32))
    return tf.nn.relu(tf.nn.conv2d(x, w, strides=[1, *strides, 1], padding=padding) + bias)


def _dense_softmax(x, rng, classes: int):
    import tensorflow as tf

    x = tf.reshape(x, [1, -1])
    w = tf.constant(rng.normal(0, 1 / x.shape[1] ** 0.5, (x.shape[1], classes)).astype(np.float32))
    return tf.nn.softmax(tf.matmul(x, w) + tf.constant(rng.normal(0, 0.1, classes).astype(np.float32)))


def _depthwise(x, rng):
    import tensorflow as tf

    w = tf.constant(rng.normal(0, 0.1, (10, 8, 1, 4)).astype(np.float32))
    return tf.nn.relu(tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME"))


def _pool(x):
    import tensorflow as tf

    return tf.nn.max_pool2d(x, 3, 2, "VALID")


def _speech_commands_conv(x, rng):
    """TensorFlow's speech_commands ``conv`` model (its train.py default), narrower: conv 20x8,
    ReLU, max pool 2x2 SAME, conv 10x4, ReLU."""
    import tensorflow as tf

    first = _conv(x, rng, (20, 8, 1, 8), (1, 1), "SAME")
    return _conv(tf.nn.max_pool2d(first, 2, 2, "SAME"), rng, (10, 4, 8, 8), (1, 1), "SAME")


def _average(x, size, stride, padding):
    import tensorflow as tf

    return tf.nn.avg_pool2d(x, size, stride, padding)


def _ds_cnn(x, rng):
    """ARM's DS-CNN for keyword spotting, narrower: conv 10x4 stride 2, one depthwise-separable
    block (3x3 depthwise, 1x1 conv), and an average over the whole map before the classifier."""
    import tensorflow as tf

    y = _conv(x, rng, (10, 4, 1, 8), (2, 2), "SAME")
    dw = tf.constant(rng.normal(0, 0.3, (3, 3, 8, 1)).astype(np.float32))
    y = tf.nn.relu(tf.nn.depthwise_conv2d(y, dw, [1, 1, 1, 1], "SAME"))
    y = _conv(y, rng, (1, 1, 8, 8), (1, 1), "VALID")
    return _average(y, (y.shape[1], y.shape[2]), 1, "VALID")


#: Shapes a third party might convert, each through TensorFlow's converter.
THIRD_PARTY = {
    "valid conv, 12 classes": lambda x, r: _dense_softmax(_conv(x, r, (10, 8, 1, 8), (2, 2), "VALID"), r, 12),
    "two convs": lambda x, r: _dense_softmax(
        _conv(_conv(x, r, (5, 5, 1, 4), (2, 2), "SAME"), r, (3, 3, 4, 6), (2, 2), "SAME"), r, 4
    ),
    "depthwise": lambda x, r: _dense_softmax(_depthwise(x, r), r, 4),
    "3x3 conv, stride 1": lambda x, r: _dense_softmax(_conv(x, r, (3, 3, 1, 4), (1, 1), "SAME"), r, 4),
    "speech_commands conv (max pool)": lambda x, r: _dense_softmax(_speech_commands_conv(x, r), r, 4),
    "max pool 3x3 stride 2 VALID": lambda x, r: _dense_softmax(_pool(_conv(x, r, (3, 3, 1, 4), (1, 1), "SAME")), r, 4),
    "DS-CNN (average pool)": lambda x, r: _dense_softmax(_ds_cnn(x, r), r, 4),
    "average pool 3x3 stride 2 SAME": lambda x, r: _dense_softmax(
        _average(_conv(x, r, (3, 3, 1, 4), (1, 1), "SAME"), 3, 2, "SAME"), r, 4
    ),
}


@pytest.mark.parametrize("shape", list(THIRD_PARTY))
def test_third_party_shapes_bit_exact(shape):
    flatbuffer = tf_int8_model(THIRD_PARTY[shape])
    inputs = clips(7, 30)
    for kernels in ("reference", "cortex_m4"):
        report = compare(HostTarget(flatbuffer, kernels), flatbuffer, iter(inputs))
        assert report["mismatches"] == [] and report["bit_exact"] == len(inputs), kernels


@pytest.mark.parametrize("shape", ["speech_commands conv (max pool)", "DS-CNN (average pool)"])
def test_third_party_float_model_with_pools(shape):
    """Pooling models as float32 models: within the float tolerance of tflite_micro."""
    import tensorflow as tf

    rng = np.random.default_rng(0)

    @tf.function(input_signature=[tf.TensorSpec((1, config.NUM_FRAMES, config.NUM_CHANNELS, 1), tf.float32)])
    def f(x):
        return THIRD_PARTY[shape](x, rng)

    flatbuffer = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f).convert()
    inputs = clips(8, 20)
    for kernels in ("reference", "cortex_m4"):
        report = compare(HostTarget(flatbuffer, kernels), flatbuffer, iter(inputs))
        assert report["mismatches"] == [] and report["within_tolerance"] == len(inputs), kernels


def test_unsupported_operator_of_a_third_party_model_is_one_line():
    import tensorflow as tf

    from model.deploy.codegen import generate
    from model.errors import BadInput

    def squashed(x, rng):
        return _dense_softmax(tf.nn.tanh(_conv(x, rng, (3, 3, 1, 4), (1, 1), "SAME")), rng, 4)

    with pytest.raises(BadInput, match=r"^squashed.tflite: operator 1 \(TANH\): unsupported operator"):
        generate(tf_int8_model(squashed), path="squashed.tflite")


@pytest.fixture(scope="module")
def float_io_model() -> bytes:
    def tinyconv(x, rng):  # TinyConv's shape: conv 10x8 stride 2 SAME, ReLU, dense to 4, softmax
        return _dense_softmax(_conv(x, rng, (10, 8, 1, 8), (2, 2), "SAME"), rng, 4)

    flatbuffer = tf_int8_model(tinyconv, io="float32")
    from model.deploy.tflite_reader import parse_model

    ops = [op.name for op in parse_model(flatbuffer).operators]
    assert ops[0] == "QUANTIZE" and ops[-1] == "DEQUANTIZE", ops
    return flatbuffer


def _quantize_edge_inputs(scale: float) -> list[np.ndarray]:
    """Float inputs where QUANTIZE's rounding and clamping decide: halfway between two steps on
    either side of zero, signed zeros, the clamp's edges and far beyond them, as far as the
    quotient fits an int32 (beyond, TFLite's float-to-int conversion is undefined: x86 wraps,
    the Cortex-M4's VCVT saturates, and so does the kernel)."""
    n = config.NUM_FRAMES * config.NUM_CHANNELS
    steps = np.arange(-n // 2, n // 2, dtype=np.float32)
    far = scale * 2.0**30
    special = np.array([0.0, -0.0, 1e-30, -1e-30, far, -far, 300 * scale, -300 * scale], np.float32)
    return [
        ((steps + np.float32(0.5)) * np.float32(scale)).astype(np.float32),
        (steps * np.float32(scale) * np.float32(0.999)).astype(np.float32),
        np.resize(special, n).astype(np.float32),
        (steps * np.float32(scale) * np.float32(40)).astype(np.float32),
    ]


@pytest.mark.parametrize("kernels", ["reference", "cortex_m4"])
def test_float_io_model_bit_exact(float_io_model, kernels):
    """float32 in and out, int8 layers: every output bit equal to tflite_micro's, on features and
    on float inputs at QUANTIZE's rounding and clamping edges."""
    from model.deploy.export import TFLMRunner
    from model.deploy.tflite_reader import parse_model

    target, runner = HostTarget(float_io_model, kernels), TFLMRunner(float_io_model)
    model = parse_model(float_io_model)
    scale = float(model.tensors[model.operators[0].outputs[0]].quantization.scale[0])
    inputs = [target.features_to_input(f) for _, f in clips(5, 100)] + _quantize_edge_inputs(scale)
    outputs = [(target.invoke(x), runner.run_input(x)) for x in inputs]
    assert [i for i, (a, b) in enumerate(outputs) if a.tobytes() != b.tobytes()] == []
    assert len({a.tobytes() for a, _ in outputs}) > 20, "outputs do not vary: the comparison means little"


class _QuantizeParams(ctypes.Structure):
    _fields_ = [("count", ctypes.c_int32), ("scale", ctypes.c_float), ("zero_point", ctypes.c_int32)]


class _DequantizeParams(ctypes.Structure):
    _fields_ = [("count", ctypes.c_int32), ("scale", ctypes.c_double), ("zero_point", ctypes.c_int32)]


def _pointer(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


@pytest.mark.parametrize("scale", [0.125, 0.1, 1 / 3, 0.0390625, 7.5])
@pytest.mark.parametrize("zero_point", [-128, -3, 0, 127])
def test_quantize_kernels_against_tflites_formulas(float_io_model, scale, zero_point):
    """The QUANTIZE and DEQUANTIZE kernels (in any host build) against TFLite's formulas computed
    in numpy: float32 division, ties away from zero (exact ties where the scale is a power of
    two), clamping; the product in double, then float32. A softmax output (scale 1/256) hides
    both roundings, so the kernels are called directly."""
    lib = HostTarget(float_io_model, "reference").lib
    rng = np.random.default_rng(zero_point + 1000)
    x = np.concatenate(
        [
            (np.arange(-300, 300, dtype=np.float32) + np.float32(0.5)) * np.float32(scale),  # ties
            rng.normal(0, 100 * scale, 2000).astype(np.float32),
            np.array([0.0, -0.0, 1e-30, -1e-30, 1e6 * scale, -1e6 * scale], np.float32),
        ]
    ).astype(np.float32)
    q = x / np.float32(scale)  # float32 / float32, as TFLite divides
    rounded = np.sign(q).astype(np.float64) * np.floor(np.abs(q).astype(np.float64) + 0.5)
    expected = np.clip(rounded + zero_point, -128, 127).astype(np.int8)
    out = np.empty(x.size, np.int8)
    lib.kws_quantize_f32_s8(ctypes.byref(_QuantizeParams(x.size, scale, zero_point)), _pointer(x), _pointer(out))
    np.testing.assert_array_equal(out, expected)
    values = np.arange(-128, 128, dtype=np.int8)
    widened = np.float64(np.float32(scale))
    expected_f = (widened * (values.astype(np.float64) - zero_point)).astype(np.float32)
    out_f = np.empty(values.size, np.float32)
    lib.kws_dequantize_s8_f32(
        ctypes.byref(_DequantizeParams(values.size, widened, zero_point)), _pointer(values), _pointer(out_f)
    )
    assert out_f.tobytes() == expected_f.tobytes()


def test_float_io_model_on_the_firmware(float_io_model, tmp_path):
    from model.deploy import firmware
    from model.deploy.verify import compare_firmware

    model = tmp_path / "float-io.tflite"
    model.write_bytes(float_io_model)
    firmware.build(model, tmp_path / "fw", variant="float-io", kernels="cortex_m4")
    elf = tmp_path / "fw" / "kws.elf"
    rng = np.random.default_rng(6)
    clips_pcm = [("tone", tone(1.0, 440, 0.3)), ("noise", rng.integers(-3000, 3000, 16000).astype(np.int16))]
    report = compare_firmware(elf, "unicorn", float_io_model, iter(clips_pcm))
    assert report["mismatches"] == [] and report["clips"] == 2


def test_float_within_tolerance(tmp_path_factory):
    flatbuffer = exported(tmp_path_factory, 8, "float")
    report = compare(HostTarget(flatbuffer), flatbuffer, iter(clips(8, 60)))
    assert report["mismatches"] == [] and report["clips"] == 66


def test_verify_cli_on_wav_folder(tmp_path_factory, tmp_path, capsys):
    from model.cli import main

    rng = np.random.default_rng(0)
    pcm16(tmp_path / "silence.wav", np.zeros(16000))
    pcm16(tmp_path / "clipping.wav", np.clip(tone(1.0, 440, 4.0).astype(np.int32) * 4, -32768, 32767))
    pcm16(tmp_path / "quiet.wav", rng.integers(-3, 4, 16000))
    pcm16(tmp_path / "short.wav", tone(0.4, 1000, 0.3))
    model = tmp_path / "m.tflite"
    model.write_bytes(exported(tmp_path_factory, 8, "int8"))
    args = ["verify", "--model", str(model), "--data", str(tmp_path), "--kernels", "cortex_m4", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"clips": 4, "bit_exact": 4, "mismatches": []}


def test_cortex_m4_fallback_paths_bit_exact(tmp_path_factory, monkeypatch):
    """The fast conv's other paths (NHWC output, general requantization) on the host."""
    from model.deploy.codegen import conv

    monkeypatch.setattr(conv, "fc_consumer", lambda g, y: None)
    monkeypatch.setattr(m4_layout, "fast_requant", lambda *args: None)
    flatbuffer = exported(tmp_path_factory, 5, "int8")
    target = HostTarget(flatbuffer, "cortex_m4")
    assert "NULL, NULL, NULL, (int32_t *)(arena + " in target.generated.source
    assert ", 26, 0, 0}" in target.generated.source  # scratch rows, not blocked, general requantization
    inputs = clips(5, 60)
    report = compare(target, flatbuffer, iter(inputs))
    assert report["mismatches"] == [] and report["bit_exact"] == len(inputs)


def conv_model(k_h: int, stride_h: int, pads: tuple[tuple[int, int], tuple[int, int]], relu: bool = True) -> bytes:
    """An int8 model shaped like TinyConv (49 x 40 in, one-channel conv 8 wide with stride 2 along
    x, fc to 4 classes) with another kernel height, stride along y and padding."""
    import tensorflow as tf

    from model.train.tinyconv import INPUT_SCALE

    rng = np.random.default_rng(k_h * 100 + stride_h)
    (top, bottom), (left, right) = pads
    channels = 4
    out_h = (49 + top + bottom - k_h) // stride_h + 1
    out_w = (40 + left + right - 8) // 2 + 1
    conv_w = tf.constant(rng.normal(0, 0.3, (k_h, 8, 1, channels)).astype(np.float32))
    conv_b = tf.constant(rng.normal(0, 0.5, channels).astype(np.float32))
    fc_w = tf.constant(rng.normal(0, 4 / np.sqrt(out_h * out_w * channels), (out_h * out_w * channels, 4)), tf.float32)

    @tf.function(input_signature=[tf.TensorSpec([1, 49, 40, 1], tf.float32)])
    def f(x):
        x = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
        x = tf.nn.conv2d(x, conv_w, strides=[1, stride_h, 2, 1], padding="VALID") + conv_b
        x = tf.nn.relu(x) if relu else x
        return tf.matmul(tf.reshape(x, [1, -1]), fc_w)  # int8 logits: finer than softmax scores

    def dataset():
        for features in realistic_features(np.random.default_rng(0), 100):
            yield [(features.astype(np.float32) * INPUT_SCALE)[None, :, :, None]]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    return bytes(converter.convert())


#: (kernel height, stride along y, padding, ReLU) → the cortex_m4 conv's path: None (reference
#: loops) or (blocked output, SMMLAR requantization)
GEOMETRIES = {
    "k6-s1": ((6, 1, ((2, 3), (3, 3)), True), (1, 1)),
    "wide-left-pad": ((10, 2, ((0, 0), (12, 2)), True), (1, 1)),  # a strip with 2 input columns
    "pad-only-strips": ((3, 3, ((1, 1), (22, 0)), True), (1, 1)),  # strips entirely in the padding
    "no-relu": ((10, 2, ((5, 4), (3, 3)), False), (1, 0)),  # zero point != -128: reference rounding
    "out-w-21": ((10, 2, ((5, 4), (3, 5)), True), None),  # 21 outputs along x: not a multiple of 4
}


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_cortex_m4_conv_geometries_bit_exact(geometry):
    """Kernel heights, strides, paddings and requantizations other than TinyConv's, on the host."""
    import re

    args, expected = GEOMETRIES[geometry]
    flatbuffer = conv_model(*args)
    target = HostTarget(flatbuffer, "cortex_m4")
    fast = re.search(r"\(int32_t \*\)\(arena \+ \d+\), \d+, (\d), (\d)\}", target.generated.source)
    assert (fast and (int(fast[1]), int(fast[2]))) == expected or (fast is None and expected is None)
    inputs = clips(len(geometry), 40)
    for kernels, t in (("cortex_m4", target), ("reference", HostTarget(flatbuffer, "reference"))):
        report = compare(t, flatbuffer, iter(inputs))
        assert report["mismatches"] == [] and report["bit_exact"] == len(inputs), kernels
    outputs = {tuple(target.invoke(target.features_to_input(f))) for _, f in inputs}
    assert len(outputs) > 20  # the logits vary: the comparison means something


# --- the requantization shortcut (firmware/kernels/cortex_m4/requantize_m4.h) -----------------


@pytest.fixture(scope="module")
def requantize_cases(tmp_path_factory):
    """Runs cases through the C shortcut and the reference C; returns (fast, ref) arrays."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no host C compiler")
    kernels = config.FIRMWARE_DIR / "kernels"
    library = tmp_path_factory.mktemp("requantize") / "librequantize.so"
    subprocess.run(
        [
            cc,
            "-O2",
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fPIC",
            "-shared",
            f"-I{kernels / 'include'}",
            f"-I{kernels / 'cortex_m4'}",
            str(kernels / "test" / "requantize_check.c"),
            "-o",
            str(library),
        ],
        check=True,
    )
    lib = ctypes.CDLL(str(library))
    lib.kws_requantize_cases.restype = None

    def run(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        arrays = [np.ascontiguousarray(a, dtype=np.int32) for a in (acc, multiplier, shift)]
        k = np.array([m4_layout.requant_k(e) for e in range(32)], np.int64)[-arrays[2]].astype(np.int32)
        fast, ref = np.empty_like(arrays[0]), np.empty_like(arrays[0])
        lib.kws_requantize_cases(
            *(ctypes.c_void_p(a.ctypes.data) for a in (*arrays, k, fast, ref)), ctypes.c_int64(arrays[0].size)
        )
        return fast, ref

    return run


def _admissible(acc: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Cases inside fast_requant's preconditions (|acc| < 2^30, t + k cannot wrap)."""
    k = np.array([abs(m4_layout.requant_k(e)) for e in range(32)], np.int64)[-shift]
    return (np.abs(acc) < 1 << 30) & (np.abs(acc) + 1 + k <= (1 << 31) - 1)


def test_requantize_shortcut_random(requantize_cases):
    """Millions of random cases, half of them scaled so the outputs land inside [-128, 127]."""
    rng = np.random.default_rng(0)
    n = 4_000_000
    multiplier = rng.integers(1 << 30, 1 << 31, n)
    multiplier[:1000] = 0  # QuantizeMultiplier's flush to zero
    shift = -rng.integers(0, 25, n)
    wide = rng.integers(-(1 << 30) + 1, 1 << 30, n)
    # real multiplier = M * 2^(shift - 31); acc = y / real for y within the output range and beyond
    scale = multiplier.astype(np.float64) * 2.0 ** (shift - 31)
    narrow = np.round(rng.uniform(-40, 300, n) / np.maximum(scale, 1e-300))
    acc = np.where(np.arange(n) % 2 == 0, wide, np.clip(narrow, -(1 << 30) + 1, (1 << 30) - 1)).astype(np.int64)
    keep = _admissible(acc, shift)
    assert keep.mean() > 0.9
    fast, ref = requantize_cases(acc[keep], multiplier[keep], shift[keep])
    bad = np.flatnonzero(fast != ref)
    assert bad.size == 0, f"{bad.size} mismatches, e.g. acc={acc[keep][bad[0]]} shift={shift[keep][bad[0]]}"
    assert len(np.unique(ref)) == 256  # every output value occurs: the comparison is not degenerate


def test_requantize_shortcut_exhaustive_near_zero(requantize_cases):
    """Every accumulator in [-2^17, 2^17] for every exponent and multipliers that make exact
    ties in both roundings (2^30 is one half; 2^31 - 1 nearly one; an odd one)."""
    acc = np.arange(-(1 << 17), (1 << 17) + 1, dtype=np.int64)
    for multiplier in (1 << 30, (1 << 30) + 1, 1518500250, (1 << 31) - 1, 0):
        for e in range(25):
            shift = np.full(acc.size, -e)
            fast, ref = requantize_cases(acc, np.full(acc.size, multiplier), shift)
            assert np.array_equal(fast, ref), (multiplier, e, acc[np.flatnonzero(fast != ref)[:5]])


def test_requantize_shortcut_on_cortex_m4_instructions(tmp_path, requantize_cases):
    """The same harness compiled for the Cortex-M4 (real SMMLAR / SSAT / SMULL, no portable twins)
    and run in Unicorn gives the host's reference outputs."""
    gcc = shutil.which("arm-none-eabi-gcc")
    unicorn = pytest.importorskip("unicorn")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    from unicorn import arm_const as arm

    from emulation.elf import FirmwareImage

    kernels = config.FIRMWARE_DIR / "kernels"
    elf = tmp_path / "requantize.elf"
    subprocess.run(
        [gcc, "-mcpu=cortex-m4", "-mthumb", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-nostdlib",
         "-Wl,-e,kws_requantize_cases", "-Wl,-Ttext=0x0", f"-I{kernels / 'include'}", f"-I{kernels / 'cortex_m4'}",
         str(kernels / "test" / "requantize_check.c"), "-o", str(elf), "-lgcc"],
        check=True,
    )  # fmt: skip
    disassembly = subprocess.run(
        ["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    assert "smmlar" in disassembly and "ssat" in disassembly
    rng = np.random.default_rng(1)
    n = 100_000
    multiplier = rng.integers(1 << 30, 1 << 31, n)
    shift = -rng.integers(0, 25, n)
    acc = (rng.uniform(-300, 300, n) / (multiplier * 2.0 ** (shift - 31))).round().clip(-(1 << 29), 1 << 29)
    acc = np.where(np.arange(n) % 4 == 0, rng.integers(-(1 << 29), 1 << 29, n), acc).astype(np.int64)
    keep = _admissible(acc, shift)
    acc, multiplier, shift = acc[keep], multiplier[keep], shift[keep]
    _, host_ref = requantize_cases(acc, multiplier, shift)
    k = np.array([m4_layout.requant_k(e) for e in range(32)], np.int64)[-shift]

    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB)
    uc.ctl_set_cpu_model(arm.UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(0, 1 << 20)
    uc.mem_map(0x20000000, 1 << 16)  # stack
    data, size = 0x60000000, 32 << 20
    uc.mem_map(data, size)
    image = FirmwareImage(elf, boots=False)
    for segment in image.segments:
        uc.mem_write(segment.address, segment.data)
    arrays = [np.ascontiguousarray(a, dtype="<i4") for a in (acc, multiplier, shift, k)]
    count = arrays[0].size
    address = [data + i * 4 * count for i in range(6)]  # acc, multiplier, shift, k, fast, ref
    for a, at in zip(arrays, address[:4], strict=True):
        uc.mem_write(at, a.tobytes())
    sp = 0x20000000 + (1 << 16) - 64
    uc.mem_write(sp, np.array([address[4], address[5], count, 0], "<u4").tobytes())  # fast, ref, int64 n
    for reg, value in zip(
        (arm.UC_ARM_REG_R0, arm.UC_ARM_REG_R1, arm.UC_ARM_REG_R2, arm.UC_ARM_REG_R3), address[:4], strict=True
    ):
        uc.reg_write(reg, value)
    uc.reg_write(arm.UC_ARM_REG_SP, sp)
    done = 0x80000  # an address in mapped flash where nothing is loaded: the function returns there
    uc.reg_write(arm.UC_ARM_REG_LR, done | 1)
    uc.emu_start(image.symbols["kws_requantize_cases"] | 1, done)
    fast = np.frombuffer(uc.mem_read(address[4], 4 * count), "<i4")
    ref = np.frombuffer(uc.mem_read(address[5], 4 * count), "<i4")
    np.testing.assert_array_equal(ref, host_ref)
    np.testing.assert_array_equal(fast, host_ref)
    assert len(np.unique(host_ref)) == 256


def test_fast_requant_refuses_unproven_layers():
    bound = np.array([1000])
    assert m4_layout.fast_requant([1 << 30], [-3], -128, (-128, 127), bound) == [(1 << 30, m4_layout.requant_k(3), 3)]
    assert m4_layout.fast_requant([1 << 30], [1], -128, (-128, 127), bound) is None  # left shift
    assert m4_layout.fast_requant([1 << 30], [-3], -100, (-100, 127), bound) is None  # zero point
    assert m4_layout.fast_requant([1 << 30], [-3], -128, (-128, 100), bound) is None  # RELU6-like clamp
    assert m4_layout.fast_requant([1 << 30], [-3], -128, (-128, 127), np.array([1 << 30])) is None
    assert m4_layout.fast_requant([1 << 30], [-24], -128, (-128, 127), bound) is not None
    assert m4_layout.fast_requant([1 << 30], [-25], -128, (-128, 127), bound) is None  # k would wrap


# --- the Cortex-M4 firmware in emulation ----------------------------------------------------------

#: issue 4's goal: 1.0 executed instruction per MAC of TinyConv (320,000 conv + 16,000 fc), rounded
INFERENCE_INSTRUCTIONS_MAX = 340_000


@pytest.fixture(scope="module")
def m4_firmware(tmp_path_factory):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    pytest.importorskip("unicorn")
    from model.deploy.firmware import build

    root = tmp_path_factory.mktemp("m4fw")
    model = root / "tinyconv8.tflite"
    model.write_bytes(exported(tmp_path_factory, 8, "int8"))
    build(model, root / "fw", variant="int8-m4", kernels="cortex_m4")
    return model, root / "fw" / "kws.elf"


@pytest.mark.parametrize("geometry", ["k6-s1", "wide-left-pad"])
def test_cortex_m4_firmware_other_geometries_bit_exact(tmp_path, geometry):
    """In emulation: the C window on the target (k_h 6) and the assembly with a 2-column strip."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    pytest.importorskip("unicorn")
    from model.deploy.firmware import build
    from model.deploy.verify import compare_firmware

    model = tmp_path / f"{geometry}.tflite"
    model.write_bytes(conv_model(*GEOMETRIES[geometry][0]))
    build(model, tmp_path / "fw", variant=geometry, kernels="cortex_m4")
    rng = np.random.default_rng(5)
    pcm = {"tone": tone(1.0, 700, 0.5), "noise": rng.normal(0, 2000, 16000).astype(np.int16)}
    report = compare_firmware(tmp_path / "fw" / "kws.elf", "unicorn", model.read_bytes(), iter(pcm.items()))
    assert report["mismatches"] == [] and report["bit_exact"] == len(pcm)


def test_cortex_m4_firmware_bit_exact_and_within_instruction_goal(m4_firmware):
    """The emulated firmware (assembly paths included) matches tflite_micro on edge-case clips,
    and every inference takes at most 340,000 instructions (DWT = executed instructions)."""
    from emulation.clip import run_clip
    from model.deploy.verify import compare_firmware

    model, elf = m4_firmware
    rng = np.random.default_rng(4)
    pcm = {
        "silence": np.zeros(16000, np.int16),
        "clipping": np.clip(4 * tone(1.0, 440, 0.9).astype(np.int32), -32768, 32767).astype(np.int16),
        "quiet": rng.integers(-3, 4, 16000).astype(np.int16),
        "short": np.concatenate([tone(0.4, 1000, 0.3), np.zeros(16000 - 6400)]).astype(np.int16),
        "noise": rng.normal(0, 3000, 16000).clip(-32768, 32767).astype(np.int16),
    }
    report = compare_firmware(elf, "unicorn", model.read_bytes(), iter(pcm.items()))
    assert report["mismatches"] == [] and report["bit_exact"] == len(pcm)
    for samples in pcm.values():
        run = run_clip(elf, samples.astype("<i2").tobytes(), cycle_model=False)  # DWT counts instructions
        inference = int(run.result["inf"])
        assert 100_000 < inference <= INFERENCE_INSTRUCTIONS_MAX


def _fnv(values: np.ndarray, code: str) -> str:
    """FNV-1a over the values packed little-endian with struct (``code`` "f" or "b"), byte by byte."""
    import struct

    h = 2166136261
    for byte in struct.pack(f"<{values.size}{code}", *values.reshape(-1).tolist()):
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return f"0x{h:08x}"


def test_input_checksum_is_of_the_bytes_the_model_receives():
    """int8 inputs as bytes, float32 inputs as little-endian IEEE singles (not their int8 cast)."""
    from model.deploy.verify import input_checksum

    rng = np.random.default_rng(3)
    for _ in range(50):
        x = (rng.integers(0, 1024, (49, 40)) * np.float32(10.0 / 256.0)).astype(np.float32)
        assert input_checksum(x) == _fnv(x, "f") != input_checksum(x.astype(np.int8))
        q = rng.integers(-128, 128, (49, 40)).astype(np.int8)
        assert input_checksum(q) == _fnv(q, "b")


def test_check_result_int8_exact_float32_within_tolerance():
    from model.deploy.verify import FLOAT_RTOL, Expected, check_result, firmware_scores

    rng = np.random.default_rng(4)
    scores = rng.integers(-128, 128, 4).astype(np.int8)
    line = {"checksum": "0x00000001", "scores": ",".join(map(str, scores))}
    assert check_result(line, Expected("0x00000001", scores)) is None
    assert check_result(line, Expected("0x00000002", scores))["stage"] == "input"
    off = scores.copy()
    off[0] = off[0] + 1 if off[0] < 127 else off[0] - 1
    assert check_result(line, Expected("0x00000001", off))["stage"] == "model"

    for _ in range(200):
        p = rng.dirichlet(np.ones(4)).astype(np.float32)
        printed = firmware_scores(p)
        fields = {"checksum": "0x00000001", "scores": ",".join(map(str, printed))}
        assert check_result(fields, Expected("0x00000001", p)) is None
        # a probability within the relative tolerance of a rounding edge may round either way
        edge = np.float32((np.floor(p[0] * 256) + 0.5) / 256)
        p_edge = p.copy()
        p_edge[0] = edge * np.float32(1 + FLOAT_RTOL / 4)
        for q in (p_edge, p_edge * np.float32(1 - FLOAT_RTOL / 2)):
            near = {"checksum": "0x00000001", "scores": ",".join(map(str, firmware_scores(q)))}
            assert check_result(near, Expected("0x00000001", p_edge)) is None
        wrong = printed.copy()
        wrong[1] = wrong[1] - 2 if wrong[1] > -126 else wrong[1] + 2
        bad = {"checksum": "0x00000001", "scores": ",".join(map(str, wrong))}
        assert check_result(bad, Expected("0x00000001", p))["stage"] == "model"


def _tinyconv_with_empty_filters(x, rng):
    """TinyConv's shape with filters 0 and 5 all zero, as magnitude pruning leaves them: filter 0
    with a positive bias (a constant output above the zero point), filter 5 with a negative one."""
    import tensorflow as tf

    w = rng.normal(0, 0.1, (10, 8, 1, 8)).astype(np.float32)
    w[..., [0, 5]] = 0.0
    bias = rng.normal(0, 0.1, 8).astype(np.float32)
    bias[0], bias[5] = 0.37, -0.2
    y = tf.nn.relu(tf.nn.conv2d(x, tf.constant(w), strides=[1, 2, 2, 1], padding="SAME") + tf.constant(bias))
    return _dense_softmax(y, rng, 4)


def test_an_empty_filter_keeps_the_fast_requantization_and_stays_bit_exact():
    """The converter gives an all-zero filter a scale near 4e-9, beyond the shortcut's exponents;
    its channel is a constant, given to the shortcut as one (m4_layout.constant_channels)."""
    flatbuffer = tf_int8_model(_tinyconv_with_empty_filters)
    target = HostTarget(flatbuffer, "cortex_m4")
    assert ", 26, 1, 1}" in target.generated.source  # blocked output, the fast requantization
    inputs = clips(9, 40)
    for kernels, host in (("cortex_m4", target), ("reference", HostTarget(flatbuffer, "reference"))):
        report = compare(host, flatbuffer, iter(inputs))
        assert report["mismatches"] == [] and report["bit_exact"] == len(inputs), kernels


def test_requantize_in_python_equals_the_kernels(tmp_path):
    """model.deploy.codegen.requantize.requantize against kws_fixedpoint.h's kws_requantize, built
    for the host, on random and edge values at every shift TFLite's multipliers take."""
    from model.deploy.codegen.requantize import requantize

    kernels = config.ROOT / "firmware" / "kernels" / "include"
    source = tmp_path / "requantize.c"
    source.write_text(
        '#include "kws_fixedpoint.h"\n'
        "int32_t requantize(int32_t x, int32_t m, int32_t s) { return kws_requantize(x, m, s); }\n"
    )
    library = tmp_path / "librequantize.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", f"-I{kernels}", str(source), "-o", str(library)], check=True)
    c = ctypes.CDLL(str(library))
    c.requantize.argtypes = [ctypes.c_int32] * 3
    c.requantize.restype = ctypes.c_int32
    rng = np.random.default_rng(11)
    edges = [-(2**31), -(2**31) + 1, -(2**30), -1, 0, 1, 2**30, 2**31 - 1]
    xs = edges + rng.integers(-(2**31), 2**31, 3000).tolist() + rng.integers(-5000, 5000, 3000).tolist()
    ms = [0, 2**30, 2**31 - 1, *rng.integers(2**30, 2**31, 6).tolist()]
    shifts = list(range(-31, 8))
    cases = [(x, m, s) for x in xs for m in ms[:3] for s in shifts[::5]]
    cases += [(x, int(rng.choice(ms)), int(rng.choice(shifts))) for x in xs for _ in range(3)]
    wrong = [(x, m, s) for x, m, s in cases if requantize(x, m, s) != c.requantize(x, m, s)]
    assert not wrong, wrong[:5]
