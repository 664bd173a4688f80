"""``kws stream``: long streams with ground truth (``make``), detection measured on them
(``eval``, ``table4``) and the recognizer's settings searched on them (``tune``)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction, parser_class: type) -> None:
    from model.stream import evaluate, make, table4, tune

    stream = subparsers.add_parser("stream", help="keyword detection on long streams")
    commands = stream.add_subparsers(dest="stream_command", required=True, metavar="COMMAND", parser_class=parser_class)
    make.register(commands)
    evaluate.register(commands)
    table4.register(commands)
    tune.register(commands)
