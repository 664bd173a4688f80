"""RESHAPE: no kernel. The output shares its input's storage, or is copied when it is the model's
output (the caller's buffer)."""

from __future__ import annotations

from model.deploy.codegen.lowering import Lowering, Step
from model.deploy.tflite_reader import Operator, Tensor


def lower(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> None:
    if x.size != y.size:
        raise g.fail(op, f"reshape of {x.size} values into shape {list(y.shape)}")
    if y.index in g.m.outputs:
        g.steps.append(Step(op, "", "", f"memcpy({{out}}, {{in}}, {y.nbytes});", x.index, y.index))
    else:
        g.alias[y.index] = x.index
