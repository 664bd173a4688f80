"""Host time per inference of the generated C model next to tflite_micro (TFLM's reference kernels).

A TinyConv (C = 8, random weights) is exported to int8 and float32; each model runs through the
generated C (reference and cortex_m4 kernels, the latter with its DSP intrinsics emulated in
portable C on the host) and through ``tflite_micro`` on the same inputs, warmed up, interleaved
over several rounds; the best round counts. Times include the ctypes / Python binding call,
which is the same order for both.

    .venv/bin/python benchmarks/bench_codegen.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from model import config

ROUNDS = 3
INFERENCES = 200


def _seconds(run: Callable[[np.ndarray], np.ndarray], inputs: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for x in inputs:
        run(x)
    return time.perf_counter() - start


def main() -> None:
    import torch

    from model.export import TFLMRunner, export_tflite
    from model.tinyconv import TinyConv
    from model.verify import HostTarget

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = TinyConv(8).eval()
    rng = np.random.default_rng(0)
    features = rng.integers(0, 670, size=(INFERENCES, config.NUM_FRAMES, config.NUM_CHANNELS)).astype(np.uint16)
    print(f"{'model':8} {'kernels':10} {'generated C':>12} {'tflite_micro':>13} {'speed-up':>9}")
    for kind, representative in (("int8", features), ("float32", None)):
        flatbuffer = export_tflite(model, representative)
        tflm = TFLMRunner(flatbuffer)
        inputs = [tflm.quantization.model_input(f) for f in features]
        for kernels in ("reference", "cortex_m4"):
            target = HostTarget(flatbuffer, kernels)
            for x in inputs[:10]:
                target.invoke(x), tflm.run_input(x)
            best_c = best_tflm = float("inf")
            for _ in range(ROUNDS):
                best_c = min(best_c, _seconds(target.invoke, inputs))
                best_tflm = min(best_tflm, _seconds(tflm.run_input, inputs))
            per_c, per_tflm = best_c / len(inputs) * 1e6, best_tflm / len(inputs) * 1e6
            print(f"{kind:8} {kernels:10} {per_c:9.1f} µs {per_tflm:10.1f} µs {per_tflm / per_c:8.1f}x")


if __name__ == "__main__":
    main()
