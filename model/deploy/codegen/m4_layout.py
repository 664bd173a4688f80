"""Constants laid out for the Cortex-M4 kernels (firmware/kernels/cortex_m4), and the rules that
say when those kernels take their fast paths.

Each rule here has a C twin the kernel checks at run time (named in its docstring); the code
generator (:mod:`model.deploy.codegen`) emits the fast layout only when the rule holds, otherwise the
reference layout, so kernel and data always agree. The requantization shortcut is proven
exact here, from bounds on the accumulator computed from the actual weights and biases.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: int32 words per padded row of an unpacked strip (cortex_m4/conv_1ch.h, KWS_M4_STRIP_WORDS).
STRIP_WORDS = 12
#: the conv's strip is unpacked in this many chunks of output rows: fewer chunks re-unpack fewer
#: overlapping rows, more need less scratch RAM (TinyConv, 3 chunks: 26 rows, 1,248 bytes).
CONV_CHUNKS = 3
_INT32_MAX = (1 << 31) - 1


def conv_fast(g: dict[str, int]) -> bool:
    """The geometry part of ``kws_m4_conv_fast`` (conv_1ch.h); the C side also needs scratch."""
    return (
        g["in_c"] == 1
        and g["k_w"] == 8
        and g["stride_w"] == 2
        and g["dilation_h"] == 1
        and g["dilation_w"] == 1
        and g["out_w"] % 4 == 0
    )


def scratch_rows(g: dict[str, int]) -> int:
    """Padded rows per strip chunk: the kernel rows of ceil(out_h / CONV_CHUNKS) output rows."""
    rows_out = -(-g["out_h"] // CONV_CHUNKS)
    return g["k_h"] + g["stride_h"] * (rows_out - 1)


def acc_bound(weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Per channel, max |bias + sum(w * x)| over int8 x: the kernels' accumulator bound.

    ``weights`` is (channels, taps), ``bias`` the folded bias (input offset included)."""
    return np.abs(bias.astype(np.int64)) + 128 * np.abs(weights.astype(np.int64)).sum(axis=1)


def fits_doubled(bound: np.ndarray) -> bool:
    """The conv fast path accumulates 2 * acc in int32: every |acc| must stay below 2^30."""
    return bool((bound < 1 << 30).all())


def fits_sixteenfold(bound: np.ndarray) -> bool:
    """The int4 conv fast path accumulates 16 * acc in int32: every |acc| must stay below 2^27."""
    return bool((bound < 1 << 27).all())


def fast_requant(
    multipliers: list[int],
    shifts: list[int],
    zero_point: int,
    act: tuple[int, int],
    bound: np.ndarray,
    constants: dict[int, int] | None = None,
) -> list[tuple[int, int, int]] | None:
    """(multiplier, k, exponent) per channel for ``kws_m4_requantize`` (requantize_m4.h), or None
    when the shortcut is not proven exact for this layer.

    Exact when: output zero point -128 and range [-128, 127] (so outputs of negative
    intermediate sums are -128 either way), shift <= 0, |acc| < 2^30 (2 * acc fits), and
    SMMLAR's sum t + k cannot wrap: |t| <= |acc| + 1 and |k| <= 2^(e-1) + 128 * 2^e.
    A channel of ``constants`` (channel → its one output, see :func:`constant_channels`) gets
    (0, output, 0): SMMLAR then yields k whatever the sum, and SSAT keeps it.
    """
    if zero_point != -128 or act != (-128, 127):
        return None
    constants = constants or {}
    words = []
    for channel, (m, shift, b) in enumerate(zip(multipliers, shifts, bound.tolist(), strict=True)):
        if channel in constants:
            words.append((0, constants[channel], 0))
            continue
        e = -shift
        if shift > 0 or m < 0 or b >= 1 << 30:
            return None
        k = requant_k(e)
        if b + 1 + abs(k) > _INT32_MAX:
            return None
        words.append((m, k, e))
    return words


def constant_channels(
    weights: np.ndarray, folded: np.ndarray, mults: list[tuple[int, int]], zero_point: int, act: tuple[int, int]
) -> dict[int, int]:
    """Channels whose filter is all zero, each with its one output: the requantized folded bias.

    Pruning can empty a filter, and TFLite's converter gives such a filter a scale near 4e-9,
    whose exponent no shortcut covers; its output is a constant all the same (TFLite's
    arithmetic, ``requantize.requantize``). ``weights`` is (channels, taps)."""
    from model.deploy.codegen.requantize import requantize

    lo, hi = act
    return {
        c: min(max(requantize(int(folded[c]), *mults[c]) + zero_point, lo), hi)
        for c in np.flatnonzero(~weights.any(axis=1)).tolist()
    }


def conv_requant(
    weights: np.ndarray,
    folded: np.ndarray,
    mults: list[tuple[int, int]],
    output: tuple[int, int, int],
    fits: Callable[[np.ndarray], bool],
) -> tuple[np.ndarray, list[tuple[int, int, int]] | None] | None:
    """The fast conv's starting sums and its shortcut words (None: the exact requantization), or
    None when its doubled sums could overflow. ``output`` is (zero point, clamp low, clamp high);
    ``weights`` (channels, taps). A constant channel's sum goes unused by the shortcut, so it starts
    at 0 and does not bound the others."""
    zero_point, act = output[0], (output[1], output[2])
    constants = constant_channels(weights, folded, mults, zero_point, act)
    shortcut = folded.copy()
    shortcut[list(constants)] = 0
    bound = acc_bound(weights, shortcut)
    multipliers, shifts = [m for m, _ in mults], [s for _, s in mults]
    requant = fast_requant(multipliers, shifts, zero_point, act, bound, constants) if fits(bound) else None
    if requant is not None:
        return shortcut, requant
    return (folded, None) if fits(acc_bound(weights, folded)) else None


def requant_k(exponent: int) -> int:
    """SMMLAR's addend for ``kws_m4_requantize``: the rounding half 2^(e-1) and the output zero
    point -128, both scaled by 2^e."""
    return (1 << (exponent - 1) if exponent > 0 else 0) - 128 * (1 << exponent)


def smlad_pairs(weights: np.ndarray) -> np.ndarray:
    """int weights (channels, k_h, k_w), k_w % 4 == 0 → int32 words {w0, w2}, {w1, w3} per group
    of 4 taps, low halfword first (SXTB16 leaves byte 0, resp. 1, of an input word there)."""
    c, k_h, k_w = weights.shape
    groups = weights.reshape(c, k_h, k_w // 4, 4).astype(np.int64)
    even = (groups[..., 0] & 0xFFFF) | ((groups[..., 2] & 0xFFFF) << 16)
    odd = (groups[..., 1] & 0xFFFF) | ((groups[..., 3] & 0xFFFF) << 16)
    words = np.stack([even, odd], axis=-1).reshape(c, -1)
    return np.where(words >= 1 << 31, words - (1 << 32), words)


def conv_stream(
    weights: np.ndarray,
    bias: np.ndarray,
    multipliers: list[int],
    shifts: list[int],
    requant: list[tuple[int, int, int]] | None,
) -> np.ndarray:
    """The fast conv's int32 words per channel in consumption order (kws_kernels.h): 2 * bias
    four times (one load starts the block's four sums), the doubled weight pairs row by row,
    then (multiplier, k, exponent) or (multiplier, shift, 0).

    ``weights`` is (channels, k_h, 8), ``bias`` the folded bias."""
    pairs = smlad_pairs(2 * weights.astype(np.int64))
    tail = requant if requant is not None else [(m, s, 0) for m, s in zip(multipliers, shifts, strict=True)]
    start = np.repeat(2 * bias.reshape(-1, 1).astype(np.int64), 4, axis=1)
    return np.concatenate([start, pairs, np.array(tail, np.int64)], axis=1).reshape(-1)


def conv_stream_s4(
    weights: np.ndarray,
    bias: np.ndarray,
    multipliers: list[int],
    shifts: list[int],
    requant: list[tuple[int, int, int]] | None,
) -> np.ndarray:
    """:func:`conv_stream` for int4 weights (values in [-8, 7]): 16 * bias four times, one word per
    kernel row, byte j = w_j | w_(j+4) << 4 (conv_1ch.h, kws_m4_s4_row), then the requantization
    words. ``weights`` is (channels, k_h, 8)."""
    c, k_h, k_w = weights.shape
    nibbles = np.asarray(weights, np.int64).reshape(c, k_h, 2, k_w // 2) & 0xF
    rows = nibbles[:, :, 0] | (nibbles[:, :, 1] << 4)  # (c, k_h, 4) bytes
    words = (rows << (8 * np.arange(4))).sum(axis=-1)
    words = np.where(words >= 1 << 31, words - (1 << 32), words)
    tail = requant if requant is not None else [(m, s, 0) for m, s in zip(multipliers, shifts, strict=True)]
    start = np.repeat(16 * bias.reshape(-1, 1).astype(np.int64), 4, axis=1)
    return np.concatenate([start, words, np.array(tail, np.int64)], axis=1).reshape(-1)


def blocked_order(out_h: int, out_w: int, out_c: int) -> np.ndarray:
    """NHWC index of each position of the fast conv's blocked output [oy][ox / 4][c][ox % 4]."""
    oy, block, c, p = np.meshgrid(
        np.arange(out_h), np.arange(out_w // 4), np.arange(out_c), np.arange(4), indexing="ij"
    )
    return ((oy * out_w + 4 * block + p) * out_c + c).reshape(-1)


def fc_fast(in_depth: int, out_depth: int) -> bool:
    """``kws_m4_fc_fast`` (kws_kernels.h)."""
    return in_depth % 4 == 0 and out_depth % 4 == 0


def fc_interleave(weights: np.ndarray) -> np.ndarray:
    """int8 [out][in] → [out / 4][in / 4][out % 4][in % 4]: one 16-byte load per 4 x 4 MACs."""
    out_depth, in_depth = weights.shape
    return weights.reshape(out_depth // 4, 4, in_depth // 4, 4).transpose(0, 2, 1, 3).reshape(-1)


def fc_interleave_s4(weights: np.ndarray) -> np.ndarray:
    """int4 values [out][in] → packed bytes, per group of 4 outputs and 4 inputs two words: in
    the first, byte k holds row 0's input k in the low nibble and row 1's in the high nibble;
    the second rows 2 and 3. Masked with 0xF0F0F0F0 as they stand and shifted left by 4 first,
    each word gives two rows' weights as 16 * w bytes, in the places SXTB16 expects."""
    out_depth, in_depth = weights.shape
    blocks = (np.asarray(weights, np.int64) & 0xF).reshape(out_depth // 4, 2, 2, in_depth // 4, 4)
    low, high = blocks[:, :, 0], blocks[:, :, 1]  # rows 0, 2 and rows 1, 3 of each group
    packed = (low | (high << 4)).transpose(0, 2, 1, 3)  # [o/4][d/4][word][k]
    return packed.reshape(-1).astype(np.uint8)


def fc_s4_fits(in_depth: int) -> bool:
    """The int4 fast path sums 16 * w * x, |w| <= 8, |x| <= 128, in int32: ``in_depth`` terms fit."""
    return 16 * 8 * 128 * in_depth < 1 << 31


def check_int32(values: np.ndarray) -> bool:
    return bool(((values >= -(1 << 31)) & (values <= _INT32_MAX)).all())
