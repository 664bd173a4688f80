"""Keyword spotting with TinyConv, from audio to firmware: one subpackage per stage of the flow.

- :mod:`model.data`: WAV files, the Speech Commands download and loader, the synthetic corpus,
  the C micro frontend's features (:func:`model.features.microfrontend`), clip plots;
- :mod:`model.train`: TinyConv, training batches, training, evaluation, size and CPU profile;
- :mod:`model.compress`: fake quantization (PTQ, QAT), pruning, and the study of both;
- :mod:`model.deploy`: int8/float32 export, the ``.tflite`` reader, the code generator, the
  firmware build, emulation of clips and verification against the TFLM reference;
- :mod:`model.stream`: keyword detection on long streams: streams with ground truth, the host
  engine (frontend, model, the firmware's RecognizeCommands) and the firmware engine, metrics;
- :mod:`model.pipeline`: the main job's stages, their records and the report;
- :mod:`model.cli`: the ``kws`` command.

Imports point up that list only (``make test`` checks it with import-linter): the pipeline
uses stream, deploy and compress; stream uses deploy (it runs models); deploy and compress use
train; train uses data. Below them all sits the shared ground: :mod:`model.config` (constants,
read from the firmware's header), :mod:`model.errors`, :mod:`model.atomic`, :mod:`model.options`, :mod:`model.figures`.
"""
