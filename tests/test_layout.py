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


def missing_imports(folders: list[Path], root: Path = ROOT) -> list[str]:
    """Imports of the project's own modules (model, emulation), those inside functions included,
    that name a module or attribute that does not exist: a move the lazy imports did not follow."""
    import importlib

    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
                    continue
                if node.module.split(".")[0] not in ("model", "emulation"):
                    continue
                where = f"{path.relative_to(root)}:{node.lineno}"
                try:
                    module = importlib.import_module(node.module)
                except ModuleNotFoundError:
                    found.append(f"{where} {node.module}")
                    continue
                for alias in node.names:
                    if (
                        not hasattr(module, alias.name)
                        and importlib.util.find_spec(f"{node.module}.{alias.name}") is None
                    ):
                        found.append(f"{where} {node.module}.{alias.name}")
    return found


def test_every_lazy_import_resolves() -> None:
    folders = [ROOT / name for name in ("model", "emulation", "robot_tests", "benchmarks", "tools", "tests")]
    assert missing_imports(folders) == []


def test_the_import_check_sees_a_moved_module(tmp_path: Path) -> None:
    (tmp_path / "lazy.py").write_text(
        "def f():\n    from model.audio import pad_or_trim\n    from model import nothing\n"
    )
    assert missing_imports([tmp_path], tmp_path) == ["lazy.py:2 model.audio", "lazy.py:3 model.nothing"]
