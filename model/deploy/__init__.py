"""From a checkpoint to a firmware and back: export to ``.tflite``, the ``.tflite`` reader, the
code generator, the firmware build, ``kws emulate`` and ``kws verify`` (against TFLM)."""
