"""The ``kws`` command line.

Each command lives in its own module and exposes ``register(subparsers)``, which adds its
parser and sets ``func`` to a callable taking the parsed arguments and returning an exit
code. Heavy imports (torch, tensorflow) stay inside those callables so that ``--help`` and
input errors are fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from model.errors import BadInput


class _Parser(argparse.ArgumentParser):
    """argparse with the project's one-line usage errors (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: {message} (see --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    from model.compress import study
    from model.data import download, plots, synth
    from model.deploy import codegen, emulate, export, firmware, verify
    from model.pipeline import stages
    from model.stream import cli as stream_cli
    from model.sweep import command as sweep
    from model.train import evaluate, loso, profile, size, training

    parser = _Parser(prog="kws", description="TinyML keyword spotting: data, models, firmware, emulation.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the emulator's peripheral warnings")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    data = commands.add_parser("data", help="datasets and features")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="COMMAND", parser_class=_Parser)
    download.register(data_commands)
    synth.register(data_commands)
    plots.register(data_commands)
    training.register(commands)
    evaluate.register(commands)
    loso.register(commands)
    size.register(commands)
    profile.register(commands)
    study.register(commands)
    export.register(commands)
    codegen.register(commands)
    verify.register(commands)
    firmware.register(commands)
    emulate.register(commands)
    stages.register(commands)
    stream_cli.register(commands, _Parser)
    sweep.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Accesses to peripherals the emulator does not model are logged as Renode does; they stay
    # in each run's result, and reach the terminal only with --verbose.
    logging.basicConfig(format="%(name)s: %(message)s", level=logging.WARNING if args.verbose else logging.ERROR)
    try:
        return int(args.func(args) or 0)
    except BadInput as exc:
        sys.stderr.write(f"kws: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("kws: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
