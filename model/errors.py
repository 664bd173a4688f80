"""Errors the CLI reports as one line with exit code 2 (bad input or usage)."""

from __future__ import annotations

from pathlib import Path


class BadInput(Exception):
    """Input the user can fix: a file that is missing, malformed or of the wrong kind.

    The message is shown as ``kws: <path>: <reason>`` with exit code 2 and no traceback.
    """

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = None if path is None else str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path else reason)
