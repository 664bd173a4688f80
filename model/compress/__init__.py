"""Compression of a trained TinyConv: fake quantization in TFLite's scheme (PTQ, QAT), magnitude
and channel pruning, and ``kws compress``, the study of both."""

#: Filter norms that rank conv channels for structured pruning (``prune.channel_ranking``): the sum
#: of |w|, the Euclidean length, the largest |w|. Here, free of torch, for the command lines.
NORMS = ("l1", "l2", "linf")
