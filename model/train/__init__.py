"""TinyConv and its training: the model, the batches, ``kws train``, ``kws eval``, ``kws size``,
``kws profile``."""
