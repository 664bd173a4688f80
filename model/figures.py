"""Figures as PNG bytes, at the one resolution every figure of the project uses."""

from __future__ import annotations

import io


def png_bytes(fig) -> bytes:
    """A figure as PNG bytes, at the resolution every figure of the project uses."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
