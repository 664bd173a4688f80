"""A small report document rendered twice: Markdown that links its figures, HTML that embeds them.

The pipeline builds its report as a list of blocks (headings, paragraphs, tables, figures) and
renders the same list to both formats, so the two never disagree. Paragraph and cell text may use
``code`` spans in backticks; everything else is escaped for HTML.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    #: Per column: True for right-aligned (numbers).
    numeric: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Figure:
    path: Path  # absolute, or relative to the report's directory
    caption: str


Block = Heading | Paragraph | Table | Figure


def table(header: list[str], rows: list[list[object]], numeric: list[bool] | None = None) -> Table:
    """A table from any cell values (str() of each)."""
    return Table(tuple(header), tuple(tuple(str(c) for c in row) for row in rows), tuple(numeric or ()))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(blocks: list[Block], base: Path) -> str:
    """Markdown; figures as links relative to ``base`` (the report's directory)."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Paragraph):
            out += [block.text, ""]
        elif isinstance(block, Table):
            align = [
                ("---:" if block.numeric[i] else "---") if i < len(block.numeric) else "---"
                for i in range(len(block.header))
            ]
            out.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
            out.append("|" + "|".join(align) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("")
        elif isinstance(block, Figure):
            out += [f"![{block.caption}]({_relative(block.path, base)})", ""]
    return "\n".join(out)


def _relative(path: Path, base: Path) -> str:
    path = base / path if not path.is_absolute() else path
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _inline(text: str) -> str:
    """HTML-escaped text with `code` spans."""
    parts = _CODE.split(text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9rem; }
code { background: #f3f3f3; padding: 0 0.2rem; }
"""


def to_html(blocks: list[Block], base: Path, title: str) -> str:
    """A self-contained HTML page: figures embedded as base64 PNG."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
    ]
    for block in blocks:
        if isinstance(block, Heading):
            out.append(f"<h{block.level}>{_inline(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            out.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Table):
            out.append("<table><thead><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in block.header) + "</tr></thead>")
            out.append("<tbody>")
            for row in block.rows:
                cells = []
                for i, cell in enumerate(row):
                    numeric = i < len(block.numeric) and block.numeric[i]
                    cells.append(f'<td class="num">{_inline(cell)}</td>' if numeric else f"<td>{_inline(cell)}</td>")
                out.append("<tr>" + "".join(cells) + "</tr>")
            out.append("</tbody></table>")
        elif isinstance(block, Figure):
            path = block.path if block.path.is_absolute() else base / block.path
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            caption = html.escape(block.caption)
            out.append(
                f'<figure><img alt="{caption}" src="data:image/png;base64,{data}">'
                f"<figcaption>{caption}</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out) + "\n"
