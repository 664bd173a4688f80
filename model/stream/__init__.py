"""Keyword detection on a stream: the firmware's RecognizeCommands, run on the host."""
