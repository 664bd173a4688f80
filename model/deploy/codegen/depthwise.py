"""DEPTHWISE_CONV_2D: the convolution of :mod:`model.deploy.codegen.conv` with one filter per input
channel and depth multiplier (kws_depthwise_conv2d_s8 / _f32). TFLite stores TinyConv's
one-channel convolution this way."""

from __future__ import annotations

from model.deploy.codegen.conv import lower_conv
from model.deploy.codegen.lowering import Lowering
from model.deploy.tflite_reader import Operator, Tensor


def lower(g: Lowering, op: Operator, x: Tensor, y: Tensor) -> None:
    lower_conv(g, op, x, y, depthwise=True)
