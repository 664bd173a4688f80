"""The READMEs' commands run as written (tools/readme_commands.py) and their figures are the
recorded ones (tools/readme_figures.py).

Every shell block is checked without running it (the real ``kws`` parser, scripts and their
options, make and tox targets, inputs made by ``make demo`` or an earlier command); the quick
blocks also run here, in a scratch directory; the long ones are run by
``python tools/readme_commands.py --run-all`` on a tree where ``make demo`` has run.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


commands = _tool("readme_commands")
figures = _tool("readme_figures")
QUICK = [block for block in commands.all_blocks() if block.kind in ("quick", "bad-input")]


def test_every_readme_command_is_known_and_its_inputs_are_made_before() -> None:
    assert commands.static_problems() == []


def test_the_check_finds_renamed_options_missing_inputs_and_unknown_commands(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(
        "```sh\n"
        "kws train --data build/demo/corpus --out build/r --step 10   # a renamed option\n"
        "kws eval --checkpoint build/nowhere/model.pt --data build/demo/corpus\n"
        "kws size --checkpoint build/r/model.pt   # the first line would make it, had it parsed\n"
        ".venv/bin/python benchmarks/bench_cycles.py --build build/demo --clips 3\n"
        ".venv/bin/python benchmarks/no_such_bench.py\n"
        "make no-such-target\n"
        "frobnicate --all\n"
        "```\n"
    )
    blocks = commands.read_blocks("README.md", tmp_path)
    problems = commands.static_problems(blocks)
    expected = [
        "kws does not parse",
        "build/nowhere/model.pt is made neither by make demo nor by a command before",
        "build/r/model.pt is made neither",
        "bench_cycles.py has no option --clips",
        "no such script benchmarks/no_such_bench.py",
        "Makefile has no target no-such-target",
        "unknown command 'frobnicate --all'",
    ]
    assert len(problems) == len(expected), problems
    for problem, text in zip(problems, expected, strict=True):
        assert text in problem


def test_a_marker_names_a_known_kind(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("<!-- docs-test: slow: typo -->\n```sh\nkws --help\n```\n")
    with pytest.raises(ValueError, match="unknown docs-test kind 'slow'"):
        commands.read_blocks("README.md", tmp_path)


def test_the_readmes_have_quick_long_and_manual_blocks() -> None:
    kinds = {block.kind for block in commands.all_blocks()}
    assert {"quick", "bad-input", "long", "manual"} <= kinds
    assert all(block.reason for block in commands.all_blocks() if block.kind != "quick")


#: What a block without a marker may take per command before the docs test calls it long.
QUICK_SECONDS = 120


@pytest.mark.parametrize("block", QUICK, ids=[block.where for block in QUICK])
def test_quick_block_runs(block, tmp_path: Path) -> None:
    """Run in a scratch copy of the layout: the sources linked, build/ fresh."""
    for entry in ROOT.iterdir():
        if entry.name not in ("build", ".git", ".tox", ".venv", "data"):
            (tmp_path / entry.name).symlink_to(entry)
    for command, code, _ in commands.run_block(block, tmp_path, limit=QUICK_SECONDS):
        assert code != commands.TIMED_OUT, f"{block.where}: {command} ran over {QUICK_SECONDS} s: mark its block long"
        assert code == 0, f"{block.where}: {command} exited {code}"
        found, _, outputs = commands.check_command(command, block.readme, bad_input=block.kind == "bad-input")
        assert not found
        for path in outputs:  # the light model of its outputs holds for what it really wrote
            assert list(tmp_path.glob(path)), f"{command} did not make {path}"


def test_the_pipeline_layout_model_holds_for_a_demo_tree() -> None:
    tree = Path(os.environ.get("KWS_DEMO_BUILD", ROOT / "build" / "demo"))
    if not (tree / "report.md").is_file():
        pytest.skip(f"no finished make demo tree at {tree} (set KWS_DEMO_BUILD)")
    for path in commands.pipeline_outputs(".", "report")[1:]:
        assert list(tree.glob(path.removeprefix("./"))), f"{tree} has nothing at {path}"


def test_every_figure_block_is_its_record_rendered() -> None:
    assert figures.problems() == []


def test_a_figure_edited_by_hand_fails_the_check(tmp_path: Path) -> None:
    records = figures.load_records()
    assert records, "no figure records in docs/figures"
    name = sorted(records)[0]
    for readme in figures.READMES:
        text = (ROOT / readme).read_text(encoding="utf-8")
        match = next((m for m in figures.blocks(text) if m.group("name") == name), None)
        if match is not None:
            body = match.group("body")
            digit = next(i for i, char in enumerate(body) if char.isdigit())
            edited = body[:digit] + str((int(body[digit]) + 1) % 10) + body[digit + 1 :]
            text = text[: match.start("body")] + edited + text[match.end("body") :]
        (tmp_path / readme).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / readme).write_text(text, encoding="utf-8")
    found = figures.problems(tmp_path)
    assert found == [
        f"{readme}: figures:{name}: differs from docs/figures/{name}.json (rerun {records[name]['command']})"
        for readme in figures.READMES
        if any(m.group("name") == name for m in figures.blocks((ROOT / readme).read_text()))
    ]


def test_a_block_needs_a_known_script_and_a_record(tmp_path: Path) -> None:
    (tmp_path / "firmware").mkdir()
    (tmp_path / "firmware" / "README.md").write_text("")
    (tmp_path / "README.md").write_text(
        "<!-- figures:train begin: python tools/other.py -->\nold\n<!-- figures:train end -->\n"
        "<!-- figures:train begin: python tools/readme_figures.py --build b -->\nold\n<!-- figures:train end -->\n"
    )
    found = figures.problems(tmp_path, tmp_path / "no-records")
    assert [problem.split(": ", 2)[2] for problem in found] == [
        "names no figure of tools/readme_figures.py ('python tools/other.py')",
        "no record docs/figures/train.json",
    ]


def test_a_bad_input_example_that_succeeds_fails_the_block() -> None:
    block = commands.Block("README.md", 1, "bad-input", "must fail", ["kws --help"])
    [(_, code, _)] = list(commands.run_block(block, ROOT))
    assert code != 0


def test_a_quick_block_over_its_time_limit_is_stopped() -> None:
    block = commands.Block("README.md", 1, "quick", "", ["python -c 'import time; time.sleep(30)'"])
    [(_, code, seconds)] = list(commands.run_block(block, ROOT, limit=0.5))
    assert code == commands.TIMED_OUT and seconds < 30
