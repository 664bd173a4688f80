"""Dense vs sparse fully connected weights in the Cortex-M4 firmware, side by side, at 50, 75 and
90 % unstructured magnitude pruning (and unpruned, 0 %, for reference).

Per sparsity, the model's conv and fc weights are pruned by magnitude (``model.compress.prune``,
the same share of each layer, no fine-tuning: the zeros are what counts here), exported to one
dense int8 .tflite, and built twice into the nRF52840 firmware (``cortex_m4`` kernels): with
``--weights dense`` and ``--weights sparse`` (model/deploy/codegen/sparse.py). Each firmware
classifies the same noise clip in the Unicorn backend with the Cortex-M4 cycle model (DWT =
modelled cycles). From the ELF: ``weights`` sums the code generator's filter symbols
(``op<N>_weights``, and ``op<N>_bitmap`` of a sparse layer: for the fast conv its whole word
stream), ``flash`` and ``RAM`` as ``kws firmware build`` reports them.

The model: a random TinyConv (C = 8, untrained) or ``--checkpoint model.pt`` (a trained one).
Flash and cycles depend on how many weights are zero and where, not on their values.

    .venv/bin/python benchmarks/bench_sparse.py [--checkpoint run/model.pt]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from firmware_measure import measure, noise_clip

from model import config

SPARSITIES = (0.0, 0.5, 0.75, 0.9)
FORMATS = ("dense", "sparse")


def pruned_models(checkpoint: Path | None) -> dict[float, bytes]:
    """The dense int8 flatbuffer of the model pruned at each of SPARSITIES."""
    import torch

    from model.compress.prune import apply_masks, magnitude_masks
    from model.deploy.export import export_tflite
    from model.train.tinyconv import TinyConv, load_checkpoint

    rng = np.random.default_rng(0)
    features = rng.integers(0, 670, size=(200, config.NUM_FRAMES, config.NUM_CHANNELS)).astype(np.uint16)
    models = {}
    for sparsity in SPARSITIES:
        torch.manual_seed(0)
        model = load_checkpoint(checkpoint)[0] if checkpoint else TinyConv(8).eval()
        apply_masks(model, magnitude_masks(model, sparsity))
        models[sparsity] = export_tflite(model, features)
    return models


def fc_zeros(flatbuffer: bytes) -> float:
    """Share of zero weights in the exported fc (the int8 rounding may add a few to the pruned ones)."""
    from model.deploy.tflite_reader import parse_model

    model = parse_model(flatbuffer)
    (op,) = [op for op in model.operators if op.name == "FULLY_CONNECTED"]
    w = np.asarray(model.tensors[op.inputs[1]].data)
    return float(np.mean(w == 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="a trained model.pt (default: a random TinyConv, C = 8)")
    args = parser.parse_args()
    pcm = noise_clip()
    models = pruned_models(args.checkpoint)
    with tempfile.TemporaryDirectory() as tmp:
        results = {
            (s, f): measure(fb, Path(tmp) / f"{s}-{f}", pcm, weights=f) for s, fb in models.items() for f in FORMATS
        }
    print("Cortex-M4 firmware, one inference in Unicorn with the cycle model (DWT = modelled cycles)")
    print(
        f"{'sparsity':>8} {'fc zeros':>8} | {'weights':9} {'dense B':>8} {'sparse B':>8} {'ratio':>6} | "
        f"{'flash dense':>11} {'sparse':>8} {'ratio':>6} | {'RAM dense':>9} {'sparse':>7} | "
        f"{'cycles dense':>12} {'sparse':>9} {'ratio':>6}"
    )
    for s, fb in models.items():
        d, p = results[(s, "dense")], results[(s, "sparse")]
        print(
            f"{s:>8.0%} {fc_zeros(fb):>8.1%} | {'':9} {d['weights']:>8,} {p['weights']:>8,} "
            f"{p['weights'] / d['weights']:>6.3f} | {d['flash']:>11,} {p['flash']:>8,} "
            f"{p['flash'] / d['flash']:>6.3f} | "
            f"{d['ram']:>9,} {p['ram']:>7,} | {d['inference']:>12,} {p['inference']:>9,} "
            f"{p['inference'] / d['inference']:>6.3f}"
        )


if __name__ == "__main__":
    main()
