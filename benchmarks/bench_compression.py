"""Weight flash and inference cycles of the Cortex-M4 firmware, side by side in one run: int8
weights, int4 weights (TFLite INT4, packed two per byte), 50 % channel pruning (trained TinyConv
only) and unstructured magnitude pruning at 50, 75 and 90 % with the fc stored sparse.

Each variant is built into the nRF52840 firmware (``cortex_m4`` kernels) and classifies one noise
clip in the Unicorn backend with the Cortex-M4 cycle model (DWT = modelled cycles). Flash figures
come from the ELF: ``weights`` sums the symbols the code generator emits for filters (the
``op<N>_weights`` arrays, and ``op<N>_bitmap`` of a sparse layer: for the fast conv its whole word
stream, biases and requantization words included), ``constants`` every ``op<N>_...`` array,
``flash`` the loaded sections. Every firmware is built with ``kws firmware build``'s default
``--weights auto``: dense unless the sparse form is smaller (the pruned models' fc).

The model: a random TinyConv (C = 8, untrained; its channel ranking means nothing, so no pruned
variant) or ``--checkpoint model.pt`` (a trained one: the pruned variant keeps its 50 % of
filters with the largest L1 norm, no fine-tuning). The magnitude-pruned variants zero the same
share of conv and fc weights (no fine-tuning: flash and cycles depend on where the zeros are, not
on the values left). ``benchmarks/bench_sparse.py`` compares dense and sparse storage alone.

    .venv/bin/python benchmarks/bench_compression.py [--checkpoint run/model.pt]
"""

from __future__ import annotations

import argparse
import copy
import tempfile
from pathlib import Path

import numpy as np
from firmware_measure import measure, noise_clip

from model import config

#: issue 11's goals relative to int8: int4 weight bytes and cycles, 50 % channels' cycles
GOALS = {"weights": 0.55, "inference": 1.15, "channels": 0.55}
#: unstructured magnitude pruning levels shown (the fc stored sparse)
SPARSITIES = (0.5, 0.75, 0.9)


def models(checkpoint: Path | None) -> dict[str, bytes]:
    """int8, int4, (trained checkpoint only) 50 % channel-pruned and magnitude-pruned int8 flatbuffers."""
    import torch

    from model.compress.prune import apply_masks, magnitude_masks, prune_channels
    from model.deploy.export import export_tflite
    from model.deploy.int4 import int4_flatbuffer
    from model.train.tinyconv import TinyConv, load_checkpoint

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    features = rng.integers(0, 670, size=(200, config.NUM_FRAMES, config.NUM_CHANNELS)).astype(np.uint16)
    model = load_checkpoint(checkpoint)[0] if checkpoint else TinyConv(8).eval()
    int8 = export_tflite(model, features)
    variants = {"int8": int8, "int4": int4_flatbuffer(int8)}
    if checkpoint:
        pruned = prune_channels(model, model.channels // 2).eval()
        variants["int8, 50 % channels"] = export_tflite(pruned, features)
    for sparsity in SPARSITIES:
        zeroed = copy.deepcopy(model)
        apply_masks(zeroed, magnitude_masks(zeroed, sparsity))
        variants[f"int8, {sparsity:.0%} zeroed, sparse"] = export_tflite(zeroed, features)
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="a trained model.pt (default: a random TinyConv, C = 8)")
    args = parser.parse_args()
    pcm = noise_clip()
    with tempfile.TemporaryDirectory() as tmp:
        results = {
            name: measure(fb, Path(tmp) / str(i), pcm) for i, (name, fb) in enumerate(models(args.checkpoint).items())
        }
    base = results["int8"]
    print("Cortex-M4 firmware, one inference in Unicorn with the cycle model (DWT = modelled cycles)")
    print(
        f"{'variant':28} | {'weights B':>9} {'x int8':>7} | {'consts B':>8} | {'flash B':>8} | "
        f"{'cycles':>9} {'x int8':>7}"
    )
    for name, r in results.items():
        print(
            f"{name:28} | {r['weights']:>9,} {r['weights'] / base['weights']:>7.3f} | {r['constants']:>8,} | "
            f"{r['flash']:>8,} | {r['inference']:>9,} {r['inference'] / base['inference']:>7.3f}"
        )
    print(
        f"goals: int4 weights <= {GOALS['weights']:.2f} x int8 and cycles <= {GOALS['inference']:.2f} x int8; "
        f"50 % channels cycles <= {GOALS['channels']:.2f} x int8"
    )


if __name__ == "__main__":
    main()
