"""The sparse weight format of FULLY_CONNECTED (``kws_fully_connected_s8_sparse``, kws_kernels.h)
and the choice between it and the dense arrays (``kws codegen --weights``).

Per output row a bitmap of its nonzero weights, one bit per input, in 32-bit words: bit
``31 - k`` of word ``j`` stands for input ``32 j + k`` (most significant bit first, so that CLZ
gives the offset of the next nonzero weight); a row's last word is padded with zero bits. The
nonzero int8 weights follow in one array, row after row, in input order. A row costs
``4 * ceil(in_depth / 32)`` bytes of bitmap plus one byte per nonzero weight, so the format is
smaller than the dense ``in_depth`` bytes once more than 1/8 of the weights are zero.

A .tflite keeps the dense int8 weights (zeros included); the sparse form is made here, at code
generation, from those weights.
"""

from __future__ import annotations

import numpy as np

#: ``--weights``: dense arrays; the sparse format for every int8 FULLY_CONNECTED; or the sparse
#: format where it takes fewer bytes than the dense one.
FORMATS = ("dense", "sparse", "auto")
#: The default: auto never enlarges a model (an unpruned fc stays dense) and shrinks a pruned one's
#: flash by 16 to 33 % at 50 to 90 % sparsity, for up to 15 % more inference cycles (README,
#: Compression: benchmarks/bench_sparse.py).
DEFAULT_FORMAT = "auto"


def words_per_row(in_depth: int) -> int:
    return -(-in_depth // 32)


def encode(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights [out][in] → (bitmap as uint32 [out * words_per_row], nonzero values as int8)."""
    weights = np.asarray(weights, np.int64)
    out_depth, in_depth = weights.shape
    words = words_per_row(in_depth)
    bits = np.zeros((out_depth, 32 * words), np.uint64)
    bits[:, :in_depth] = weights != 0
    place = np.uint64(1) << (np.uint64(31) - np.arange(32, dtype=np.uint64))
    bitmap = (bits.reshape(out_depth, words, 32) * place).sum(axis=-1, dtype=np.uint64)
    return bitmap.reshape(-1).astype(np.uint32), weights[weights != 0].astype(np.int8)


def sparse_bytes(weights: np.ndarray) -> int:
    """Flash of the sparse form: the bitmap words and the nonzero values (the array padded to a word)."""
    out_depth, in_depth = weights.shape
    nonzero = int(np.count_nonzero(weights))
    return 4 * out_depth * words_per_row(in_depth) + 4 * -(-nonzero // 4)


def choose(mode: str, weights: np.ndarray) -> bool:
    """Whether an int8 fully connected layer is stored sparse under ``--weights mode``."""
    if mode == "auto":
        return sparse_bytes(weights) < weights.size
    return mode == "sparse"
