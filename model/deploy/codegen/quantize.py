"""The model input's quantization: uint16 frontend features → int8 input through a lookup table
(:mod:`model.deploy.quantization`'s contract), or the float scaling of a float32 model, as the C function
``<name>_features_to_input``."""

from __future__ import annotations

from model.deploy.codegen.lowering import Lowering
from model.deploy.quantization import InputQuantization


def input_table(g: Lowering, name: str, quantization: InputQuantization) -> int:
    """Adds the int8 lookup table of every feature value; returns its size (0 for float32)."""
    if quantization.dtype != "int8":
        return 0
    table = quantization.table()
    g.array(f"{name}_input_table", "int8_t", table)
    return table.size


def features_to_input(name: str, ctype: str, table_size: int) -> list[str]:
    """C lines of ``<name>_features_to_input``: the table (clamped to its last entry) or the
    float scaling of training (feature · 10/256)."""
    lines = [
        f"void {name}_features_to_input(const uint16_t *features, {ctype} *input, size_t count)",
        "{",
        "    for (size_t i = 0; i < count; ++i) {",
    ]
    if table_size:
        lines += [
            f"        const uint16_t f = features[i] < {table_size} ? features[i] : {table_size - 1};",
            f"        input[i] = {name}_input_table[f];",
        ]
    else:
        lines += ["        input[i] = (float)features[i] * (10.0f / 256.0f);"]
    return [*lines, "    }", "}", ""]
