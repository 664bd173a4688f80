"""The firmware's UART line protocol (contract 5): ``<record> key=value key=value ...``."""

from __future__ import annotations

RECORDS = ("boot", "result", "heard", "profile", "fault", "ok", "error")


def parse_line(line: str) -> tuple[str, dict[str, str]]:
    """The record type and the fields of one line; ValueError when it is not a protocol line."""
    words = line.split()
    if not words:
        raise ValueError(f"not a protocol line (empty): {line!r}")
    record, *pairs = words
    if record not in RECORDS:
        raise ValueError(f"not a protocol line (unknown record {record!r}): {line!r}")
    fields = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"field without '=' in {line!r}")
        fields[key] = value
    return record, fields
