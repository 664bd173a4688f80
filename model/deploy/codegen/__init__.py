"""``kws codegen``: a .tflite model as C source, run without an interpreter.

:func:`generate` reads the flatbuffer (:mod:`model.deploy.tflite_reader`, no TensorFlow), checks that
every op, type and shape is one the kernels handle (``BadInput`` naming it otherwise) and emits

- ``<name>.h``: input/output shapes and types, input scale and zero point, labels, arena size,
  ``<name>_invoke(input, output)`` and ``<name>_features_to_input(features, input)``;
- ``<name>.c``: weights, biases and requantization constants as ``const`` data (flash), one
  parameter struct per op, the activation arena planned here, the input lookup table and the
  invoke function: a straight sequence of kernel calls.

Laid out as TFLM lays out kernels, one module per job:

- :mod:`~model.deploy.codegen.lowering`: the graph walk and what the op modules build (arrays, steps);
- one module per op: :mod:`~model.deploy.codegen.pad`, :mod:`~model.deploy.codegen.conv`,
  :mod:`~model.deploy.codegen.depthwise`, :mod:`~model.deploy.codegen.fully_connected`,
  :mod:`~model.deploy.codegen.pool`,
  :mod:`~model.deploy.codegen.softmax`, :mod:`~model.deploy.codegen.reshape`,
  :mod:`~model.deploy.codegen.affine_quantize` (QUANTIZE and DEQUANTIZE around int8 layers of a
  float32-in, float32-out model), and the model input's :mod:`~model.deploy.codegen.quantize`;
- :mod:`~model.deploy.codegen.requantize`: QuantizeMultiplier and activation clamps, as TFLite computes them;
- :mod:`~model.deploy.codegen.m4_layout`: constants in the order the Cortex-M4 kernels consume them, and
  the proofs that their fast paths are exact;
- :mod:`~model.deploy.codegen.planner`: the arena (tensor lifetimes, greedy placement);
- :mod:`~model.deploy.codegen.emitter`: the C text, with what differs between kernel sets under ``#if``.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.deploy.codegen import (
    affine_quantize,
    conv,
    depthwise,
    emitter,
    fully_connected,
    pad,
    pool,
    reshape,
    softmax,
    sparse,
)
from model.deploy.codegen.emitter import KERNEL_SETS
from model.deploy.codegen.lowering import Lowering
from model.deploy.codegen.quantize import input_table
from model.deploy.codegen.requantize import quantize_multiplier
from model.deploy.quantization import InputQuantization
from model.deploy.tflite_reader import parse_model
from model.errors import BadInput

__all__ = ["KERNEL_SETS", "SUPPORTED_OPS", "WEIGHT_FORMATS", "Generated", "generate", "quantize_multiplier", "write"]

#: TFLite builtin op → the module that lowers it.
OPS = {
    "QUANTIZE": affine_quantize.lower_quantize,
    "DEQUANTIZE": affine_quantize.lower_dequantize,
    "PAD": pad.lower,
    "CONV_2D": conv.lower,
    "DEPTHWISE_CONV_2D": depthwise.lower,
    "FULLY_CONNECTED": fully_connected.lower,
    "MAX_POOL_2D": pool.lower_max,
    "AVERAGE_POOL_2D": pool.lower_average,
    "RESHAPE": reshape.lower,
    "SOFTMAX": softmax.lower,
}
SUPPORTED_OPS = tuple(OPS)
WEIGHT_FORMATS = sparse.FORMATS
DEFAULT_WEIGHTS = sparse.DEFAULT_FORMAT


@dataclass
class Generated:
    name: str
    header: str
    source: str
    arena_bytes: dict[str, int]  # per kernel set
    weight_bytes: dict[str, int]
    input: InputQuantization
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    dtype: str
    ops: list[str] = field(default_factory=list)

    def files(self) -> dict[str, str]:
        return {f"{self.name}.h": self.header, f"{self.name}.c": self.source}

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.dtype,
            "ops": self.ops,
            "arena_bytes": self.arena_bytes,
            "weight_bytes": self.weight_bytes,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "input_scale": self.input.scale,
            "input_zero_point": self.input.zero_point,
        }


def generate(
    flatbuffer: bytes, name: str = "kws_model", path: str | Path = "<model>", weights: str = DEFAULT_WEIGHTS
) -> Generated:
    """C source of a .tflite model (see the module docstring); BadInput if it is unsupported.
    ``weights`` stores int8 fully connected weights dense, sparse, or sparse where that is smaller
    (:mod:`model.deploy.codegen.sparse`)."""
    if not name.isidentifier():
        raise BadInput(None, f"model name {name!r} is not a C identifier")
    if weights not in WEIGHT_FORMATS:
        raise BadInput(None, f"weight format {weights!r} is not one of {', '.join(WEIGHT_FORMATS)}")
    g = Lowering(parse_model(flatbuffer, path), str(path), weights)
    g.lower(OPS)
    programs = {k: emitter.program(g, k) for k in KERNEL_SETS}
    quantization = InputQuantization.from_tflite(flatbuffer)
    table_size = input_table(g, name, quantization)
    arenas = {k: programs[k][0] for k in KERNEL_SETS}
    return Generated(
        name,
        emitter.header(g, name, arenas, quantization, table_size),
        emitter.source(g, name, programs, table_size),
        arenas,
        {k: sum(a.nbytes for a in g.arrays if a.kernels in (None, k)) for k in KERNEL_SETS},
        quantization,
        g.m.tensors[g.m.inputs[0]].shape,
        g.m.tensors[g.m.outputs[0]].shape,
        g.dtype,
        [s.op.name for s in g.steps],
    )


def write(generated: Generated, out_dir: Path) -> list[Path]:
    """Write the generated files into ``out_dir`` (atomically each); return their paths."""
    from model.atomic import atomic_write_text

    paths = []
    for filename, text in generated.files().items():
        path = Path(out_dir) / filename
        atomic_write_text(path, text)
        paths.append(path)
    return paths


def _c_name(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,30}", text):
        raise argparse.ArgumentTypeError(f"must be a C identifier of at most 31 characters, got {text!r}")
    return text


def run(args: argparse.Namespace) -> int:
    from model.deploy.tflite_reader import read_model

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise BadInput(out, "--out names an existing file; it must be a directory")
    _, flatbuffer = read_model(args.model)
    generated = generate(flatbuffer, args.name, args.model, args.weights)
    paths = write(generated, out)
    summary = {**generated.summary(), "files": [str(p) for p in paths]}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"wrote {', '.join(str(p) for p in paths)}")
        print(
            f"ops: {' → '.join(generated.ops)}; arena {generated.arena_bytes['reference']:,} / "
            f"{generated.arena_bytes['cortex_m4']:,} bytes, const data {generated.weight_bytes['reference']:,} / "
            f"{generated.weight_bytes['cortex_m4']:,} bytes (reference / cortex_m4 kernels)"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "codegen",
        help="generate C source (weights, static arena, invoke function) from a .tflite model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, metavar="FILE.tflite", help="an int8 or float32 model")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for <name>.h and <name>.c")
    parser.add_argument("--name", type=_c_name, default="kws_model", help="C name prefix (default kws_model)")
    add_weights_option(parser)
    parser.add_argument("--json", action="store_true", help="print a summary as JSON")
    parser.set_defaults(func=run)


def add_weights_option(parser: argparse.ArgumentParser) -> None:
    """``--weights`` of kws codegen and kws firmware build."""
    parser.add_argument(
        "--weights",
        choices=WEIGHT_FORMATS,
        default=DEFAULT_WEIGHTS,
        help="int8 fully connected weights: dense arrays; sparse, a bitmap of the nonzero weights and "
        "their values (for pruned models: less flash, more cycles below ~90 %% zeros); auto, sparse "
        f"where that takes fewer bytes (default {DEFAULT_WEIGHTS}; README, Compression)",
    )
