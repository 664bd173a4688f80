"""Compression of a trained TinyConv: fake quantization in TFLite's scheme (PTQ, QAT), magnitude
and channel pruning, and ``kws compress``, the study of both."""
