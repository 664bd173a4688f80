"""Per-function instruction profiles as collapsed stacks (Brendan Gregg's format, opened by speedscope)."""

from __future__ import annotations


def collapsed_stacks(counts: dict[str, int]) -> str:
    """One `frame;frame count` line per stack; the Unicorn backend's profile is flat (one frame)."""
    return "".join(f"{name.replace(' ', '_')} {count}\n" for name, count in counts.items() if count > 0)
