"""The pipeline's ``streams`` stage: keyword detection of every firmware variant, measured as a user
meets it, on streams of the test split (``kws stream make``, then ``kws stream eval --build``).

The streams are made with ``kws stream make``'s own parser and defaults, at the SNRs of
``STREAM_ARGUMENTS``; each variant is heard by the host engine paced as its firmware paces itself
(``model.stream.evaluate.evaluate_variants``), the first one (int8, the product) also over the
detection threshold for its DET curve.
"""

from __future__ import annotations

import argparse
from pathlib import Path

#: What ``kws stream make`` is asked for: clean and 10 dB (issue 12's operating point) keyword
#: streams and ten minutes of keyword-free audio at 10 dB for the false accepts.
STREAM_ARGUMENTS = ("--snr", "clean,10", "--free-minutes", "10")


def make_streams(corpus: Path, out: Path) -> None:
    """``kws stream make --data corpus --out out`` with ``STREAM_ARGUMENTS``, quietly."""
    from model.stream import make

    parser = argparse.ArgumentParser(prog="kws stream")
    make.register(parser.add_subparsers())
    make.write_streams(parser.parse_args(["make", "--data", str(corpus), "--out", str(out), *STREAM_ARGUMENTS]))
