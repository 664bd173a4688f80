"""The code generator's op modules and planner, each alone on small hand-built graphs (no
TensorFlow): what they accept, what they refuse and what they plan. The generated C is checked
bit-exact against TFLM in test_codegen.py and test_verify.py."""

from __future__ import annotations

import numpy as np
import pytest
import tflite

from model.deploy.codegen import affine_quantize, conv, fully_connected, pad, planner, reshape, softmax
from model.deploy.codegen.lowering import Lowering, Step
from model.deploy.codegen.requantize import activation_range_q, quantize_multiplier
from model.deploy.tflite_reader import Model, Operator, Quantization, Tensor
from model.errors import BadInput

OP = tflite.BuiltinOperator


def q(scale: float, zero_point: int = 0) -> Quantization:
    return Quantization(np.array([scale], np.float32), np.array([zero_point]), 0)


def act(index: int, shape: tuple[int, ...], dtype: str = "int8", quant: Quantization | None = None) -> Tensor:
    return Tensor(index, f"t{index}", shape, dtype, None, quant or q(0.5, -3))


def const(index: int, values: np.ndarray, quant: Quantization | None = None) -> Tensor:
    return Tensor(index, f"c{index}", values.shape, str(values.dtype), values, quant)


def lowering(tensors: list[Tensor], ops: list[Operator], inputs=(0,), outputs=None) -> Lowering:
    outputs = outputs if outputs is not None else (ops[-1].outputs[0],)
    g = Lowering(Model(tensors, ops, tuple(inputs), tuple(outputs)), "m.tflite")
    g.dtype = tensors[0].dtype
    return g


def conv_options(padding: str = "VALID", stride: int = 1, depth_multiplier: int | None = None) -> dict:
    options = {"padding": padding, "stride_w": stride, "stride_h": stride, "activation": "NONE",
               "dilation_w": 1, "dilation_h": 1}  # fmt: skip
    return options if depth_multiplier is None else {**options, "depth_multiplier": depth_multiplier}


# --- requantize ----------------------------------------------------------------------------


@pytest.mark.parametrize("real", [1e-9, 0.0003, 0.25, 0.5, 0.999999, 1.0, 3.75, 1234.5])
def test_quantize_multiplier_approximates_the_real_multiplier(real: float) -> None:
    """q · 2^(shift-31) is the Q31 rounding of ``real``: within half a unit of its last place."""
    multiplier, shift = quantize_multiplier(real)
    assert (1 << 30) <= multiplier < (1 << 31)
    assert abs(multiplier * 2.0 ** (shift - 31) - real) <= 2.0 ** (shift - 32)


def test_relu_clamps_at_the_quantized_zero() -> None:
    assert activation_range_q("RELU", 0.5, -3) == (-3, 127)
    assert activation_range_q("RELU6", 0.05, -128) == (-128, -8)  # 6 / 0.05 = 120 above -128
    assert activation_range_q("TANH", 0.5, 0) is None


# --- ops -----------------------------------------------------------------------------------


def test_reshape_aliases_inside_the_graph_and_copies_into_the_output() -> None:
    tensors = [act(0, (1, 4, 5)), act(1, (1, 20)), act(2, (1, 20))]
    ops = [Operator(0, OP.RESHAPE, (0,), (1,)), Operator(1, OP.RESHAPE, (1,), (2,))]
    g = lowering(tensors, ops)
    reshape.lower(g, ops[0], tensors[0], tensors[1])
    reshape.lower(g, ops[1], tensors[1], tensors[2])
    assert g.alias == {1: 0} and g.root(1) == 0
    assert [s.call for s in g.steps] == ["memcpy({out}, {in}, 20);"]
    with pytest.raises(BadInput, match="reshape of 20 values into shape"):
        reshape.lower(g, ops[0], tensors[1], act(3, (1, 21)))


def _pad_then_conv(padding: str) -> tuple[Lowering, list[Tensor], list[Operator]]:
    tensors = [
        act(0, (1, 6, 6, 1)),
        const(1, np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32)),
        act(2, (1, 8, 8, 1)),
        const(3, np.ones((2, 3, 3, 1), np.int8), q(0.1)),
        act(4, (1, 6, 6, 2) if padding == "VALID" else (1, 8, 8, 2)),
    ]
    ops = [Operator(0, OP.PAD, (0, 1), (2,)), Operator(1, OP.CONV_2D, (2, 3, -1), (4,), conv_options(padding))]
    return lowering(tensors, ops), tensors, ops


def test_an_int8_pad_before_a_valid_conv_is_fused_into_it() -> None:
    g, tensors, ops = _pad_then_conv("VALID")
    pad.lower(g, ops[0], tensors[0], tensors[2])
    assert g.steps == [] and g.fused_pads == {2: (tensors[0], 1, 1)}
    conv.lower(g, ops[1], tensors[2], tensors[4])
    (step,) = g.steps
    assert step.input == 0 and step.params.startswith("{{6, 6, 1, 6, 6, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1}, 3, -3,")


def test_a_pad_before_a_same_conv_stays_a_kernel_call() -> None:
    g, tensors, ops = _pad_then_conv("SAME")
    pad.lower(g, ops[0], tensors[0], tensors[2])
    assert g.fused_pads == {} and g.steps[0].call == "kws_pad_s8(&op0, -3, {in}, {out});"


@pytest.mark.parametrize(
    ("padding", "stride", "out_hw", "pads"),
    [("VALID", 1, 4, (0, 0)), ("VALID", 2, 2, (0, 0)), ("SAME", 1, 6, (1, 1)), ("SAME", 2, 3, (0, 0))],
)
def test_conv_geometry_follows_tflite_output_sizes(padding, stride, out_hw, pads) -> None:
    """TFLite: VALID out = ceil((in - k + 1) / stride), SAME out = ceil(in / stride), padding the
    total shortfall, the smaller half before."""
    x, w, y = act(0, (1, 6, 6, 1)), const(1, np.ones((2, 3, 3, 1), np.int8), q(0.1)), act(2, (1, out_hw, out_hw, 2))
    op = Operator(0, OP.CONV_2D, (0, 1), (2,), conv_options(padding, stride))
    geo = conv.geometry(lowering([x, w, y], [op]), op, x, w, y, depthwise=False)
    assert (geo["out_h"], geo["out_w"], geo["pad_top"], geo["pad_left"]) == (out_hw, out_hw, *pads)
    wrong = act(2, (1, out_hw + 1, out_hw + 1, 2))
    with pytest.raises(BadInput, match="does not follow from input 6, kernel 3"):
        conv.geometry(lowering([x, w, wrong], [op]), op, x, w, wrong, depthwise=False)


def test_depthwise_channels_must_match_the_multiplier() -> None:
    x, w, y = act(0, (1, 5, 5, 1)), const(1, np.ones((1, 3, 3, 4), np.int8), q(0.1)), act(2, (1, 3, 3, 3))
    op = Operator(0, OP.DEPTHWISE_CONV_2D, (0, 1), (2,), conv_options(depth_multiplier=4))
    with pytest.raises(BadInput, match=r"input 1 channels x 4 != output 3"):
        conv.geometry(lowering([x, w, y], [op]), op, x, w, y, depthwise=True)


def test_fully_connected_shapes_and_quantization_are_checked() -> None:
    x, y = act(0, (1, 8)), act(2, (1, 3))
    options = {"activation": "NONE", "weights_format": 0, "keep_num_dims": False}
    good = const(1, np.ones((3, 8), np.int8), q(0.1))
    op = Operator(0, OP.FULLY_CONNECTED, (0, 1, -1), (2,), options)
    fully_connected.lower(lowering([x, good, y], [op]), op, x, y)
    asymmetric = const(1, np.ones((3, 8), np.int8), q(0.1, 5))
    with pytest.raises(BadInput, match="symmetric per-tensor or per-channel"):
        fully_connected.lower(lowering([x, asymmetric, y], [op]), op, x, y)
    wide = const(1, np.ones((3, 9), np.int8), q(0.1))
    with pytest.raises(BadInput, match="do not fit weights"):
        fully_connected.lower(lowering([x, wide, y], [op]), op, x, y)


# --- QUANTIZE / DEQUANTIZE ------------------------------------------------------------------


def test_quantize_and_dequantize_convert_between_float_and_int8_only() -> None:
    f_in, i8, f_out = act(0, (1, 6), "float32", None), act(1, (1, 6), quant=q(0.25, -3)), act(2, (1, 6), "float32")
    quantize = Operator(0, OP.QUANTIZE, (0,), (1,), {})
    dequantize = Operator(1, OP.DEQUANTIZE, (1,), (2,), {})
    g = lowering([f_in, i8, f_out], [quantize, dequantize])
    affine_quantize.lower_quantize(g, quantize, f_in, i8)
    affine_quantize.lower_dequantize(g, dequantize, i8, f_out)
    assert [(s.param_type, s.params) for s in g.steps] == [
        ("kws_quantize_params", "{6, 0.25f, -3}"),
        ("kws_dequantize_params", "{6, 0x1.0000000000000p-2, -3}"),
    ]
    requantize = Operator(0, OP.QUANTIZE, (1,), (0,), {})
    with pytest.raises(BadInput, match="operator 0 \\(QUANTIZE\\): input 't1' has type int8; this model needs float32"):
        affine_quantize.lower_quantize(g, requantize, i8, act(3, (1, 6)))


def test_a_scale_that_is_not_positive_and_finite_is_refused() -> None:
    f_in = act(0, (1, 6), "float32", None)
    quantize = Operator(0, OP.QUANTIZE, (0,), (1,), {})
    for scale in (0.0, -0.5, float("nan"), float("inf")):
        i8 = act(1, (1, 6), quant=q(scale))
        with pytest.raises(BadInput, match="a positive finite one is needed"):
            affine_quantize.lower_quantize(lowering([f_in, i8], [quantize]), quantize, f_in, i8)


def _sxtb16_pairs(word: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What SXTB16 and SXTB16 ROR #8 make of uint32 words: bytes (0, 2) and (1, 3), sign-extended."""
    b = ((word[..., None] >> (8 * np.arange(4))) & 0xFF).astype(np.uint8).view(np.int8).astype(np.int64)
    return b[..., [0, 2]], b[..., [1, 3]]


def _unpack_like_the_m4(word: np.ndarray) -> np.ndarray:
    """The Cortex-M4 int4 unpacking in numpy: bytes of (word << 4) & 0xF0F0F0F0 and of
    word & 0xF0F0F0F0, each divided by 16, in the order the kernels' SXTB16s give them."""
    lo = (word << 4) & 0xF0F0F0F0
    hi = word & 0xF0F0F0F0
    return np.stack([np.concatenate(_sxtb16_pairs(w), axis=-1) // 16 for w in (lo, hi)], axis=-2)


def test_int4_fully_connected_is_packed_for_both_kernel_sets() -> None:
    """int4 weights: TFLite's packing for the reference set, the two-words-per-block layout for
    cortex_m4, whose unpacking (emulated here) gives each row's weights back; the _s4 kernel."""
    from model.deploy.int4 import pack_int4

    rng = np.random.default_rng(3)
    values = rng.integers(-8, 8, (8, 12)).astype(np.int8)
    w = Tensor(1, "w", values.shape, "int4", values, q(0.1), packed=pack_int4(values))
    x, y = act(0, (1, 12)), act(2, (1, 8))
    options = {"activation": "NONE", "weights_format": 0, "keep_num_dims": False}
    op = Operator(0, OP.FULLY_CONNECTED, (0, 1, -1), (2,), options)
    g = lowering([x, w, y], [op])
    fully_connected.lower(g, op, x, y)
    arrays = {a.kernels: a for a in g.arrays if a.name == "op0_weights"}
    assert arrays["reference"].ctype == arrays["cortex_m4"].ctype == "uint8_t"
    assert arrays["reference"].values.tolist() == pack_int4(values).tolist()
    assert g.steps[0].call.startswith("kws_fully_connected_s4(")
    words = arrays["cortex_m4"].values.astype(np.uint8).view("<u4").astype(np.int64)
    # per [o/4][d/4] two words; each unpacks to (even row, odd row) x (w0, w2, w1, w3)
    unpacked = _unpack_like_the_m4(words.reshape(2, 3, 2))  # [o/4][d/4][word][lo/hi][4]
    order = [0, 2, 1, 3]
    for o in range(8):
        for d in range(12):
            got = unpacked[o // 4, d // 4, (o % 4) // 2, o % 2, order.index(d % 4)]
            assert got == values[o, d], (o, d)


def test_int4_conv_stream_unpacks_to_the_pairs_of_the_int8_stream() -> None:
    """conv_stream_s4's row words, unpacked as the kernel does, are the int8 stream's weight pair
    words divided by 2 (16 · w against 2 · w), bias words 8 times theirs, the tail the same."""
    from model.deploy.codegen import m4_layout

    rng = np.random.default_rng(4)
    weights = rng.integers(-8, 8, (3, 5, 8))
    bias = rng.integers(-1000, 1000, 3)
    tail = [(1 << 30, -3 - c, 0) for c in range(3)]
    s8 = m4_layout.conv_stream(weights, bias, [], [], tail).reshape(3, -1)
    s4 = m4_layout.conv_stream_s4(weights, bias, [], [], tail).reshape(3, -1)
    assert (s4[:, :4] == 8 * s8[:, :4]).all() and (s4[:, -3:] == s8[:, -3:]).all()
    rows = s4[:, 4:-3] & 0xFFFFFFFF  # (channels, k_h)
    lo_e, lo_o = _sxtb16_pairs((rows << 4) & 0xF0F0F0F0)
    hi_e, hi_o = _sxtb16_pairs(rows & 0xF0F0F0F0)
    pair_words = np.stack([lo_e, lo_o, hi_e, hi_o], axis=-2)  # (c, k_h, 4 words, 2 halfwords) of 16 * w
    e8 = s8[:, 4:-3].reshape(3, 5, 4) & 0xFFFFFFFF
    halves = np.stack([e8 & 0xFFFF, e8 >> 16], axis=-1).astype(np.uint16).view(np.int16).astype(np.int64)
    assert (pair_words == 8 * halves).all()


def test_int8_softmax_constants_and_refusals() -> None:
    """TFLM's softmax: multiplier and shift of beta · input scale · 2^26, diff_min the largest
    difference whose exp is still representable; outputs at scale 1/256, zero point -128."""
    multiplier, shift, diff_min = softmax.int8_constants(1 / 16, 1.0)
    assert (multiplier, shift) == quantize_multiplier(2.0**22)
    assert diff_min == -((31 << 26) >> shift)
    assert softmax.int8_constants(2.0**-27, 1.0) is None
    x, bad_out = act(0, (1, 4), quant=q(1 / 16, 0)), act(1, (1, 4), quant=q(1 / 128, -128))
    op = Operator(0, OP.SOFTMAX, (0,), (1,), {"beta": 1.0})
    with pytest.raises(BadInput, match="int8 output needs scale 1/256"):
        softmax.lower(lowering([x, bad_out], [op]), op, x, bad_out)


# --- planner -------------------------------------------------------------------------------


def test_the_arena_reuses_memory_of_dead_tensors_and_keeps_live_ones_apart() -> None:
    """A chain in → a → b → c → out: a and c never live together and share offset 0; b, live
    with both, sits after the larger; every offset aligned."""
    tensors = [act(0, (10,)), act(1, (100,)), act(2, (30,)), act(3, (50,)), act(4, (4,))]
    ops = [Operator(i, OP.RESHAPE, (i,), (i + 1,)) for i in range(4)]
    g = lowering(tensors, ops, inputs=(0,), outputs=(4,))
    g.steps = [Step(op, "", "", "", op.inputs[0], op.outputs[0]) for op in ops]
    offsets, arena = planner.plan(g, "reference")
    assert offsets[1] == offsets[3] == 0 and offsets[2] == 104 and arena == 136
    assert all(offset % planner.ARENA_ALIGN == 0 for offset in offsets.values())
    g.steps[1].scratch = {"cortex_m4": 64}
    offsets, arena = planner.plan(g, "cortex_m4")
    # largest first: a at 0, c at 0, the 64-byte scratch (live with a) at 104, b (live with all) at 168
    assert (offsets[1], offsets[3], offsets[-2], offsets[2], arena) == (0, 0, 104, 168, 200)
