"""The code stays walkable: no function in model/ or emulation/ longer than a reader can hold
(60 lines, decorators and docstring included). The layering of imports is import-linter's job
(`lint-imports`, in tox's lint env; contracts in pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 60


def long_functions(package: Path, root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if node.end_lineno - start + 1 > MAX_LINES:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({node.end_lineno - start + 1})")
    return found


def test_no_function_is_longer_than_a_reader_can_hold() -> None:
    assert long_functions(ROOT / "model") + long_functions(ROOT / "emulation") == []


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n")
    assert long_functions(tmp_path, tmp_path) == [f"long.py:1 long ({MAX_LINES + 1})"]
