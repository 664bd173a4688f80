"""PAD: constant padding of up to 4-D tensors (kws_pad_s8 / kws_pad_f32), or no kernel at all when
an int8 PAD of H and W feeds only a VALID convolution, which then skips the border taps itself."""

from __future__ import annotations

import numpy as np

from model.deploy.codegen.lowering import Lowering, Step
from model.deploy.tflite_reader import Operator, Tensor


def _dims(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> tuple[list[int], list[int], list[int]]:
    """Input dims, output dims and leading pads, each widened to 4-D."""
    paddings = g.tensor(op, 1, const=True)
    if len(op.inputs) > 2:
        raise g.fail(op, "constant_values input is not supported")
    pads = np.asarray(paddings.data, dtype=np.int64)
    if len(x.shape) > 4 or pads.shape != (len(x.shape), 2) or (pads < 0).any():
        raise g.fail(op, f"paddings of shape {list(pads.shape)} for a {len(x.shape)}-D input")
    lead = 4 - len(x.shape)
    in_dims = [1] * lead + list(x.shape)
    before = [0] * lead + pads[:, 0].tolist()
    out_dims = [d + int(a) + int(b) for d, (a, b) in zip(in_dims, [(0, 0)] * lead + pads.tolist(), strict=True)]
    if int(np.prod(out_dims)) != y.size:
        raise g.fail(op, f"padded shape {out_dims} does not match output shape {list(y.shape)}")
    return in_dims, out_dims, before


def fusable(g: Lowering, y: Tensor, in_dims: list[int], out_dims: list[int], before: list[int]) -> bool:
    """Whether an int8 PAD of H and W feeds only a VALID convolution, which can then take the
    unpadded input and skip the border taps: a border value (the zero point) plus the input
    offset is 0, so the sums are TFLM's either way, and the padded copy is never stored."""
    users = g.consumers(y.index)
    return (
        y.index not in g.m.outputs
        and len(users) == 1
        and users[0].name in ("CONV_2D", "DEPTHWISE_CONV_2D")
        and users[0].inputs[0] == y.index
        and users[0].options["padding"] == "VALID"
        and before[0] == before[3] == 0
        and in_dims[0] == out_dims[0]
        and in_dims[3] == out_dims[3]
    )


def lower(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> None:
    in_dims, out_dims, before = _dims(g, op, x, y)
    init = (
        f"{{{{{', '.join(map(str, in_dims))}}}, {{{', '.join(map(str, out_dims))}}}, "
        f"{{{', '.join(map(str, before))}}}}}"
    )
    if x.dtype == "int8":
        s_in, zp_in = g.qparams(op, x)
        s_out, zp_out = g.qparams(op, y)
        if zp_in != zp_out or np.float32(s_in) != np.float32(s_out):
            raise g.fail(op, "input and output quantization differ")
        if fusable(g, y, in_dims, out_dims, before):
            g.fused_pads[y.index] = (x, before[1], before[2])
            return
        call = f"kws_pad_s8(&op{op.index}, {zp_out}, {{in}}, {{out}});"
    else:
        call = f"kws_pad_f32(&op{op.index}, {{in}}, {{out}});"
    g.steps.append(Step(op, init, "kws_pad_params", call, x.index, y.index))
