"""``kws sweep``: search TinyConv's width, training and compression settings on Ray Tune for the
most accurate model that fits the chip, each candidate measured on the emulated nRF52840."""
