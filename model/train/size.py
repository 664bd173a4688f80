"""``kws size``: parameters, FLOPs, activation memory and nRF52840 flash/RAM fractions of TinyConv.

Definitions (the study's conventions):
  FLOPs            2 x multiply-accumulates + bias additions (one per bias parameter), per layer.
                   TinyConv (8 channels): conv 640,008, fc 32,004, total 672,024. The total
                   also counts the softmax that ends the deployed model, 3 FLOPs per class
                   (exp, add to the sum, divide): 12, the study's difference between its
                   total and the sum of its two layers.
  activation bytes peak size of the tensors live at the same time during inference: the
                   input and the conv output while the conv runs, the conv output and the fc
                   output while the fc runs (ReLU and dropout work in place). float32: 4 bytes
                   per value; int8: 1 byte per value.
  flash fraction   weight bytes / flash size. float32: every parameter in 4 bytes; int8: weights
                   in 1 byte, biases in int32 (4 bytes), as in TFLite's int8 scheme.
  RAM fraction     activation bytes / RAM size (weights stay in flash).
Figures are computed from the layer shapes, so they hold for any channel count.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from model import config

DTYPE_BYTES = {"float32": 4, "int8": 1}
INT8_BIAS_BYTES = 4
SOFTMAX_FLOPS_PER_CLASS = 3  # exp, add to the sum, divide


def _layers(model) -> dict[str, dict[str, int]]:
    """Per layer: parameters, weights, biases, MACs, FLOPs and output size, from the shapes."""
    from model.train.tinyconv import conv_output_shape

    out_t, out_f = conv_output_shape()
    conv, fc = model.conv, model.fc
    conv_out = conv.out_channels * out_t * out_f
    conv_macs = conv_out * conv.weight[0].numel()  # each output: in_channels x kernel taps
    fc_macs = fc.in_features * fc.out_features
    layers = {
        "conv": {"weights": conv.weight.numel(), "biases": conv.bias.numel(), "macs": conv_macs, "outputs": conv_out},
        "fc": {"weights": fc.weight.numel(), "biases": fc.bias.numel(), "macs": fc_macs, "outputs": fc.out_features},
    }
    for layer in layers.values():
        layer["params"] = layer["weights"] + layer["biases"]
        layer["flops"] = 2 * layer["macs"] + layer["biases"]
    return layers


def model_size(model) -> dict[str, Any]:
    """The ``kws size --json`` report of a TinyConv (contract 4, plus details)."""
    layers = _layers(model)
    inputs = config.NUM_FRAMES * config.NUM_CHANNELS
    conv_out, fc_out = layers["conv"]["outputs"], layers["fc"]["outputs"]
    peak_values = max(inputs + conv_out, conv_out + fc_out)
    weights = sum(layer["weights"] for layer in layers.values())
    biases = sum(layer["biases"] for layer in layers.values())
    softmax = SOFTMAX_FLOPS_PER_CLASS * fc_out
    weight_bytes = {"float32": 4 * (weights + biases), "int8": weights + INT8_BIAS_BYTES * biases}
    activation_bytes = {dtype: peak_values * size for dtype, size in DTYPE_BYTES.items()}
    return {
        "channels": model.channels,
        "params": weights + biases,
        "macs": {"total": sum(layer["macs"] for layer in layers.values()), **{k: v["macs"] for k, v in layers.items()}},
        "flops": {
            "total": sum(layer["flops"] for layer in layers.values()) + softmax,
            "by_layer": {name: layer["flops"] for name, layer in layers.items()},
            "softmax": softmax,
        },
        "params_by_layer": {name: layer["params"] for name, layer in layers.items()},
        "weight_bytes": weight_bytes,
        "activation_bytes": activation_bytes,
        "flash_fraction": {dtype: n / config.FLASH_BYTES for dtype, n in weight_bytes.items()},
        "ram_fraction": {dtype: n / config.RAM_BYTES for dtype, n in activation_bytes.items()},
        "flash_bytes": config.FLASH_BYTES,
        "ram_bytes": config.RAM_BYTES,
    }


def format_table(report: dict[str, Any], source: str) -> str:
    lines = [f"TinyConv, {report['channels']} conv channels ({source})", ""]
    lines.append(f"{'layer':<7} {'params':>8} {'MACs':>10} {'FLOPs':>10}")
    for name in ("conv", "fc"):
        params, macs, flops = report["params_by_layer"][name], report["macs"][name], report["flops"]["by_layer"][name]
        lines.append(f"{name:<7} {params:>8,} {macs:>10,} {flops:>10,}")
    lines.append(f"{'softmax':<7} {0:>8,} {0:>10,} {report['flops']['softmax']:>10,}")
    lines.append(f"{'total':<7} {report['params']:>8,} {report['macs']['total']:>10,} {report['flops']['total']:>10,}")
    lines += ["", f"{'':<18} {'float32':>18} {'int8':>18}"]
    for title, key, fraction, limit in (
        ("weights (flash)", "weight_bytes", "flash_fraction", report["flash_bytes"]),
        ("activations (RAM)", "activation_bytes", "ram_fraction", report["ram_bytes"]),
    ):
        cells = [f"{report[key][d]:>8,} B {100 * report[fraction][d]:>6.2f}%" for d in DTYPE_BYTES]
        lines.append(f"{title:<18} " + " ".join(f"{c:>18}" for c in cells) + f"   of {limit:,} B")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from model.train.tinyconv import TinyConv, load_checkpoint

    if args.checkpoint:
        model, _ = load_checkpoint(Path(args.checkpoint))
        source = str(args.checkpoint)
    else:
        model, source = TinyConv(), "default architecture, no checkpoint"
    report = model_size(model)
    print(json.dumps(report, indent=2) if args.json else format_table(report, source))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "size",
        help="parameters, FLOPs, activation memory and flash/RAM fractions of a TinyConv",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--checkpoint", metavar="FILE", help="a model.pt (default: the 8-channel architecture)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)
