"""Executed instructions of the generated int8 model on the emulated Cortex-M4, per stage, with
the reference and the Cortex-M4 kernel sets side by side.

One TinyConv int8 model (random weights, C = 8, unless --model gives a .tflite) is built into the
nRF52840 firmware twice (``--kernels reference`` and ``cortex_m4``); each firmware classifies one
clip in the Unicorn backend, where the DWT counts executed instructions. The per-function
profile between the ``boot`` line (the boot's pacing inference is over by then) and the
``result`` line covers exactly one clip; the model's functions are summed per op. Counts of
the convolution and the fully connected layer do not depend on the data.

    .venv/bin/python benchmarks/bench_codegen.py [--model FILE.tflite]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from model import config
from model.deploy.tflite_reader import parse_model

#: kernel functions (and their static helpers) per op, for both kernel sets
STAGES = {
    "conv": ("kws_conv2d_s8", "kws_depthwise_conv2d_s8", "kws_m4_window10", "kws_m4_unpack", "kws_pad_s8"),
    "fully connected": ("kws_fully_connected_s8", "kws_m4_fc4"),
    "softmax": (
        "kws_softmax_s8",
        "exp_on_negative_values",
        "exp_quarter_interval",
        "one_over_one_plus_x",
        "count_leading_zeros",
        "scaled_diff",
    ),
}
#: TFLM on an emulated Cortex-M4, micro_speech's model (/work/shared/docs/kws-reference.md). Not
#: measured here: printed as anchors.
ANCHORS = (
    ("TFLM reference kernels", "invoke 9.31 M; depthwise conv 9.20 M (28.7 per MAC); fc 113k"),
    ("TFLM + CMSIS-NN", "invoke 1.50 M; depthwise conv 1.46 M (4.6 per MAC); fc 31k (1.9 per MAC)"),
)


def tinyconv_int8() -> bytes:
    import torch

    from model.deploy.export import export_tflite
    from model.train.tinyconv import TinyConv

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    features = rng.integers(0, 670, size=(200, config.NUM_FRAMES, config.NUM_CHANNELS)).astype(np.uint16)
    return export_tflite(TinyConv(8).eval(), features)


def macs(flatbuffer: bytes) -> dict[str, int]:
    """MACs of the conv and fc stages, from the model's shapes."""
    m = parse_model(flatbuffer)
    counts = {"conv": 0, "fully connected": 0}
    for op in m.operators:
        out = m.tensors[op.outputs[0]]
        w = m.tensors[op.inputs[1]] if len(op.inputs) > 1 else None
        if op.name == "CONV_2D":
            counts["conv"] += out.size * int(np.prod(w.shape[1:]))
        elif op.name == "DEPTHWISE_CONV_2D":
            counts["conv"] += out.size * w.shape[1] * w.shape[2]
        elif op.name == "FULLY_CONNECTED":
            counts["fully connected"] += out.size * w.shape[1]
    return counts


def measure(tflite: Path, kernels: str, out: Path, pcm: bytes) -> dict[str, int]:
    """Instructions per stage of one inference, the DWT's inference count, flash and arena."""
    from emulation.protocol import parse_line
    from emulation.unicorn_backend import Machine
    from model.deploy.firmware import build

    size = build(tflite, out, variant=f"bench-{kernels}", kernels=kernels)
    machine = Machine(out / "kws.elf", pcm)
    boot = machine.run(until_line=r"^boot ")
    before = machine.profile()
    result = machine.run(until_line=r"^result ")
    after = machine.profile()
    spent = {f: after[f] - before.get(f, 0) for f in after}
    figures = {stage: sum(spent.get(f, 0) for f in functions) for stage, functions in STAGES.items()}
    figures["inference"] = int(parse_line(result.lines[-1])[1]["inf"])
    figures["flash"] = size["flash_bytes"]
    figures["arena"] = int(parse_line(boot.lines[-1])[1]["arena"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="an int8 .tflite (default: a random TinyConv, C = 8)")
    args = parser.parse_args()
    flatbuffer = args.model.read_bytes() if args.model else tinyconv_int8()
    rng = np.random.default_rng(0)
    pcm = rng.normal(0, 3000, config.CLIP_SAMPLES).clip(-32768, 32767).astype("<i2").tobytes()
    with tempfile.TemporaryDirectory() as tmp:
        tflite = Path(tmp) / "bench.tflite"
        tflite.write_bytes(flatbuffer)
        results = {k: measure(tflite, k, Path(tmp) / k, pcm) for k in ("reference", "cortex_m4")}
    counts = macs(flatbuffer)
    counts["inference"] = sum(counts.values())
    ref, m4 = results["reference"], results["cortex_m4"]

    def per_mac(n: int, stage: str) -> str:
        return f"{n / counts[stage]:6.2f}" if counts.get(stage) else "     -"

    print("executed instructions of one inference (Unicorn, DWT = instructions)")
    print(f"{'stage':16} {'MACs':>8} | {'reference':>11} {'/MAC':>6} | {'cortex_m4':>11} {'/MAC':>6} | {'speed-up':>8}")
    for stage in (*STAGES, "inference"):
        r, c = ref[stage], m4[stage]
        macs_text = f"{counts[stage]:,}" if stage in counts else "-"
        label = "invoke (DWT)" if stage == "inference" else stage
        print(
            f"{label:16} {macs_text:>8} | {r:>11,} {per_mac(r, stage)} | {c:>11,} {per_mac(c, stage)} | "
            f"{r / max(c, 1):7.1f}x"
        )
    print(f"{'flash bytes':16} {'':>8} | {ref['flash']:>11,} {'':6} | {m4['flash']:>11,}")
    print(f"{'arena bytes':16} {'':>8} | {ref['arena']:>11,} {'':6} | {m4['arena']:>11,}")
    print("\nanchors, not measured here (micro_speech's model on an emulated Cortex-M4):")
    for name, figures in ANCHORS:
        print(f"  {name:24} {figures}")


if __name__ == "__main__":
    main()
