"""Typed command-line values: each checks its range when argparse reads it.

argparse turns an ``ArgumentTypeError`` into the project's one-line usage error naming the option
(``kws train: argument --threads: must be at least 1, got 0``, exit 2), so a bad value stops a
command before any work starts rather than deep inside torch.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _number(text: str, kind: type[T]) -> T:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {'an integer' if kind is int else 'a number'}: {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def int_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer in [low, high] (no upper bound when high is None)."""

    def parse(text: str) -> int:
        value = _number(text, int)
        if value < low or (high is not None and value > high):
            bound = f"at least {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def float_range(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Callable[[str], float]:
    """A finite number in the interval from low to high; each end closed unless said open."""
    left, right = "(" if low_open else "[", ")" if high_open else "]"

    def parse(text: str) -> float:
        value = _number(text, float)
        below = value <= low if low_open else value < low
        above = value >= high if high_open else value > high
        if below or above:
            raise argparse.ArgumentTypeError(f"must be in {left}{low:g}, {high:g}{right}, got {value:g}")
        return value

    parse.__name__ = "number"
    return parse


def positive_float(text: str) -> float:
    """A finite number above 0."""
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value:g}")
    return value


def list_of(item: Callable[[str], T], *, empty: bool = False) -> Callable[[str], list[T]]:
    """A comma-separated list, each value checked by ``item``; at least one value unless ``empty``
    (then ``""`` is the empty list: ``kws compress --sparsity ""`` skips that study)."""

    def parse(text: str) -> list[T]:
        if empty and not text.strip():
            return []
        parts = [part.strip() for part in text.split(",")]
        if not text.strip() or any(not part for part in parts):
            raise argparse.ArgumentTypeError(f"expected comma-separated values, got {text!r}")
        return [item(part) for part in parts]

    parse.__name__ = "list"
    return parse


positive_int = int_range(1)
non_negative_int = int_range(0)
threads = int_range(1, 256)
percent = int_range(0, 100)


def snr_db(text: str) -> float | None:
    """A signal-to-noise ratio in dB between -20 and 100, or ``clean`` (no noise): None."""
    if text.strip().lower() == "clean":
        return None
    value = _number(text, float)
    if not -20 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be 'clean' or a number of dB in [-20, 100], got {value:g}")
    return value
