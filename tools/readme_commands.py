"""The README's shell commands, checked and run in the order a reader meets them.

Every fenced ``sh`` block of the READMEs (``README.md``, then ``firmware/README.md``) is read in
order. An HTML comment on the line before a block says how it is tested::

    <!-- docs-test: bad-input: REASON -->                 quick, and each command must fail in one line, exit 2
    <!-- docs-test: long: needs make demo's tree -->      checked here; run by --run-all
    <!-- docs-test: manual: needs an nRF52840-DK -->     checked here; never run by this script
    <!-- docs-test: synopsis: placeholders in <...> -->  only the program, script or target is checked

A block without a comment is quick: ``tests/test_readme.py`` runs it (in a scratch directory
that links the repository's sources). Every command of every block is checked without running
it: a ``kws`` command must parse with the real argparse parser; a script must exist and know
each ``--option`` it is given; ``make``/``tox`` targets and environments must exist; and each
input path under ``build/`` or ``data/`` must be produced by ``make demo`` (its pipeline's
layout, ``DEMO_LAYOUT``) or by an earlier README command (a light model of each command's
outputs, ``outputs``). ``--run-all`` runs every quick and long block in order in the repository,
on a tree where ``make demo`` has run: the acceptance check "a fresh clone, ``make demo``, then
every README command in order, succeeds".

    python tools/readme_commands.py             # the static check, one line per problem
    python tools/readme_commands.py --list      # every command with its kind
    python tools/readme_commands.py --run-all [--from N] [--to M]   # run them (quick and long), in order
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import io
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READMES = ("README.md", "firmware/README.md")
KINDS = ("quick", "bad-input", "long", "manual", "synopsis")
MARKER = re.compile(r"<!--\s*docs-test:\s*([\w-]+)\s*:\s*(.*?)\s*-->")
SHELL_INFO = {"sh", "bash", "shell", "console"}
# Paths under these folders are made by commands; everything else must exist in the repository.
MADE = ("build/", "data/")
INPUT_OPTIONS = {"--data", "--checkpoint", "--model", "--elf", "--wav", "--streams", "--config", "--build"}

# What `kws pipeline --out OUT` leaves, stage by stage (model/pipeline/stages.py's docstring).
PIPELINE_LAYOUT = {
    "corpus": ["corpus", "corpus/*/*_nohash_*.wav", "corpus/_background_noise_/*.wav"],
    "features": ["features"],
    "train": ["run", "run/model.pt", "run/last.pt", "run/metrics.json", "run/report.md", "run/curves.png"],
    "export": ["models", "models/int8.tflite", "models/float32.tflite", "models/int4.tflite"],
    "firmware": [
        f"firmware/{variant}/{name}"
        for variant in ("int8", "int8-ref", "float32", "int4")
        for name in ("kws.elf", "kws.map", "size.json")
    ]
    + ["variants.json"],
    "emulate": [],
    "robot": ["robot", "robot/report.html", "robot/log.html", "robot/output.xml"],
    "report": ["report.md", "report.html"],
}
STAGES = tuple(PIPELINE_LAYOUT)
DEMO_OUT = "build/demo"


def pipeline_outputs(out: str, stop_after: str = "report") -> list[str]:
    """The paths ``kws pipeline --out OUT --stop-after STAGE`` produces."""
    stages = STAGES[: STAGES.index(stop_after) + 1]
    return [out] + [f"{out}/{path}" for stage in stages for path in PIPELINE_LAYOUT[stage]]


DEMO_LAYOUT = pipeline_outputs(DEMO_OUT)


@dataclass
class Block:
    """One fenced shell block: where it is, how it is tested, its commands."""

    readme: str
    line: int
    kind: str
    reason: str
    commands: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.readme}:{self.line}"


def read_blocks(readme: str, root: Path = ROOT) -> list[Block]:
    """The shell blocks of one README, continuation lines joined, comments and blanks dropped."""
    lines = (root / readme).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        fence = lines[index].strip()
        if not (fence.startswith("```") and fence[3:].strip() in SHELL_INFO):
            index += 1
            continue
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = MARKER.search(previous)
        kind, reason = (marker.group(1), marker.group(2)) if marker else ("quick", "")
        if kind not in KINDS:
            raise ValueError(f"{readme}:{index + 1}: unknown docs-test kind {kind!r} (one of {', '.join(KINDS)})")
        block = Block(readme, index + 1, kind, reason)
        index += 1
        pending = ""
        while index < len(lines) and not lines[index].strip().startswith("```"):
            text = pending + lines[index].strip()
            pending = text[:-1] + " " if text.endswith("\\") else ""
            if not pending and shlex.split(text, comments=True):
                block.commands.append(text)
            index += 1
        blocks.append(block)
        index += 1
    return blocks


def all_blocks(root: Path = ROOT) -> list[Block]:
    return [block for readme in READMES for block in read_blocks(readme, root)]


def split_command(command: str) -> tuple[dict[str, str], list[str]]:
    """Leading ``VAR=value`` words, then the words of the command (shell comments removed)."""
    words = shlex.split(command, comments=True)
    env: dict[str, str] = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return env, words


def _whole_words(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The parser and its subcommands' without abbreviations: a README spells options out, so that
    an option renamed to a longer name is not still accepted as a prefix of it."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in set(action.choices.values()):
                _whole_words(subparser)
    return parser


def _kws_parse(argv: list[str]) -> tuple[argparse.Namespace | None, str]:
    """Parse ``kws`` arguments with the real parser: (namespace, "") or (None, its one-line error).
    ``--help`` of a known command parses to an empty namespace (argparse exits 0)."""
    from model.cli import build_parser

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            return _whole_words(build_parser()).parse_args(argv), ""
        except SystemExit as exc:
            if exc.code == 0:
                return argparse.Namespace(), ""
    lines = stderr.getvalue().strip().splitlines()
    return None, lines[-1] if lines else "does not parse"


def _kws_paths(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(inputs, outputs) of a parsed ``kws`` command: the light model of what it reads and makes."""
    subcommands = ("data_command", "stream_command", "firmware_command")
    command = " ".join([args.command, *(getattr(args, name) for name in subcommands if getattr(args, name, None))])
    inputs = [
        str(getattr(args, name))
        for name in ("data", "checkpoint", "model", "elf", "wav", "streams", "config")
        if isinstance(getattr(args, name, None), str | Path)
    ]
    if command == "data plot":
        inputs += [str(wav) for wav in args.wavs]
    out = str(getattr(args, "out", "") or "")
    made = {
        "data synth": [out, f"{out}/*/*_nohash_*.wav", f"{out}/_background_noise_/*.wav"],
        "data download": [out, f"{out}/*/*.wav", f"{out}/_background_noise_/*.wav"],
        "data plot": [out, f"{out}/*.png"],
        "train": [f"{out}/{name}" for name in ("", "model.pt", "last.pt", "metrics.json", "report.md", "curves.png")],
        "compress": [f"{out}/{name}" for name in ("", "compress.json", "report.md", "compress.png", "models/*.pt")],
        "export": [out],
        "codegen": [out, f"{out}/*"],
        "firmware build": [f"{out}/{name}" for name in ("", "kws.elf", "kws.map", "size.json", "model/*")],
        "pipeline": pipeline_outputs(out, getattr(args, "stop_after", "report")),
        "stream make": [out, f"{out}/streams.json", f"{out}/*.wav"],
        "stream eval": [str(args.det)] if getattr(args, "det", None) else [],
        "sweep": [f"{out}/{name}" for name in ("", "sweep.json", "report.md", "pareto.png", "best", "best/*")],
    }.get(command, [])
    return inputs, [path.rstrip("/") for path in made]


def _script_problems(words: list[str], where: Path) -> tuple[list[str], list[str], list[str]]:
    """(problems, inputs, outputs) of ``python SCRIPT args``: the script exists and knows each option."""
    script = where / words[0]
    if not script.is_file():
        return [f"no such script {words[0]}"], [], []
    source = script.read_text(encoding="utf-8")
    problems, inputs, outputs = [], [], []
    for position, word in enumerate(words[1:], start=1):
        option = word.split("=", 1)[0]
        if option.startswith("--") and f'"{option}"' not in source:
            problems.append(f"{words[0]} has no option {option}")
        if option in INPUT_OPTIONS and position + 1 < len(words):
            inputs.append(words[position + 1])
    if words[0] == "robot_tests/run.py" and "--build" in words:
        build = words[words.index("--build") + 1]
        outputs += [f"{build}/robot", f"{build}/robot/report.html", f"{build}/robot/log.html"]
    return problems, inputs, outputs


def _make_targets(makefile: Path) -> set[str]:
    text = makefile.read_text(encoding="utf-8")
    return {match.group(1) for match in re.finditer(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.MULTILINE)}


def _tox_envs() -> set[str]:
    text = (ROOT / "tox.ini").read_text(encoding="utf-8")
    return {match.group(1) for match in re.finditer(r"^\[testenv:([\w-]+)\]", text, re.MULTILINE)}


def workdir(readme: str, command: str) -> Path:
    """Where a README's command runs: ``make`` in the README's folder (its Makefile), the rest
    from the repository root (firmware/README.md says so)."""
    return (ROOT / readme).parent if program_of(split_command(command)[1]) == "make" else ROOT


def program_of(words: list[str]) -> str:
    """The program a command runs, ``.venv/bin/`` dropped: kws, python, tox, make, ..."""
    return words[0].removeprefix(".venv/bin/") if words else ""


def check_command(
    command: str, readme: str, synopsis: bool = False, bad_input: bool = False
) -> tuple[list[str], list[str], list[str]]:
    """(problems, inputs, outputs) of one README command, without running it. A bad-input example
    may be refused by the parser (that is its point): it makes nothing."""
    where = workdir(readme, command)
    _, words = split_command(command)
    program = program_of(words)
    if program == "kws":
        if synopsis:
            return [], [], []
        args, error = _kws_parse(words[1:])
        if args is None and bad_input:
            return [], [], []
        if args is None:
            return [f"kws does not parse {' '.join(words[1:])!r}: {error}"], [], []
        if not hasattr(args, "command"):
            return [], [], []
        inputs, outputs = _kws_paths(args)
        return [], inputs, [] if bad_input else outputs
    if program in ("python", "python3"):
        return _script_problems(words[1:], where) if not synopsis else ([], [], [])
    if program == "make":
        makefile = where / "Makefile"
        targets = [word for word in words[1:] if not word.startswith("-") and "=" not in word]
        targets = targets[:1] if synopsis else targets
        missing = [target for target in targets if target not in _make_targets(makefile)]
        outputs = pipeline_outputs(DEMO_OUT) if "demo" in targets else []
        return [f"{makefile.relative_to(ROOT)} has no target {target}" for target in missing], [], outputs
    if program == "tox":
        envs = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-e"]
        known = _tox_envs() | {"py"}  # py: tox's default environment, [testenv] itself
        return [f"tox.ini has no environment {env}" for env in envs if env not in known], [], []
    if program == "." and words[1:] == [".venv/bin/activate"]:
        return [], [], []
    if program == "pip" and words[1:3] == ["install", "-e"]:
        extra = re.fullmatch(r"\.\[(\w+)\]", words[3]) if len(words) > 3 else None
        pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
        known = extra and f"\n{extra.group(1)} = " in pyproject
        return ([] if known else [f"pyproject.toml has no extra in {words[3:]}"]), [], []
    if program == "ray" and words[1:2] == ["start"]:
        return [], [], []
    return [f"unknown command {command!r}"], [], []


def produced(path: str, outputs: list[str]) -> bool:
    """Whether a path is one of the outputs, or inside one (a glob pattern matches it)."""
    path = os.path.normpath(path)
    return any(fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern + "/") for pattern in outputs)


def static_problems(blocks: list[Block] | None = None) -> list[str]:
    """Every problem of the READMEs' commands, in order: ``README.md:LINE: problem``."""
    outputs = list(DEMO_LAYOUT)
    problems = []
    for block in blocks if blocks is not None else all_blocks():
        for command in block.commands:
            found, inputs, made = check_command(
                command, block.readme, synopsis=block.kind == "synopsis", bad_input=block.kind == "bad-input"
            )
            problems += [f"{block.where}: {problem}" for problem in found]
            base = workdir(block.readme, command).relative_to(ROOT)
            for path in inputs:
                relative = os.path.normpath(base / path)
                if relative.startswith(MADE):
                    if not produced(relative, outputs):
                        problems.append(f"{block.where}: {path} is made neither by make demo nor by a command before")
                elif not (ROOT / relative).exists():
                    problems.append(f"{block.where}: no such file {path}")
            outputs += [os.path.normpath(base / path) if not path.startswith("/") else path for path in made]
    return problems


def runnable(words: list[str], env: dict[str, str], python: str = sys.executable) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run a README command here: ``kws`` and ``.venv/bin/python``
    become this interpreter on the repository's sources (a README assumes ``make``'s venv)."""
    program = program_of(words)
    environment = dict(os.environ, **env)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    if program == "kws":
        return [python, "-m", "model.cli", *words[1:]], environment
    if program in ("python", "python3"):
        return [python, *words[1:]], environment
    if words[0].startswith(".venv/bin/"):
        return [str(Path(python).parent / program), *words[1:]], environment
    return words, environment


#: Exit code given to a command stopped at ``run_block``'s time limit (as coreutils' timeout does).
TIMED_OUT = 124


def run_block(
    block: Block, cwd: Path, python: str = sys.executable, limit: float | None = None
) -> Iterator[tuple[str, int, float]]:
    """Run a block's commands one after the other in cwd: (command, exit code, seconds) each. In a
    bad-input block a command passes (code 0) when it exits 2 with one line on stderr. A command
    still running after ``limit`` seconds is stopped and gets TIMED_OUT (a quick block that is not)."""
    for command in block.commands:
        env, words = split_command(command)
        if program_of(words) == ".":
            yield command, 0, 0.0  # the venv's activation: runnable() already uses its interpreter
            continue
        argv, environment = runnable(words, env, python)
        start = time.monotonic()
        folder = cwd / workdir(block.readme, command).relative_to(ROOT)
        try:
            if block.kind == "bad-input":
                result = subprocess.run(
                    argv, cwd=folder, env=environment, check=False, capture_output=True, text=True, timeout=limit
                )
                lines = result.stderr.strip().splitlines()
                print(f"exit {result.returncode}: {result.stderr.strip()}", flush=True)
                code = 0 if result.returncode == 2 and len(lines) == 1 else result.returncode or 1
            else:
                code = subprocess.run(argv, cwd=folder, env=environment, check=False, timeout=limit).returncode
        except subprocess.TimeoutExpired:
            code = TIMED_OUT
        yield command, code, time.monotonic() - start
        if code != 0:
            return


def _run_all(blocks: list[Block], start: int, stop: int | None = None) -> int:
    """Run every quick and long command in order from the start-th (to the stop-th); stop at the first failure."""
    number = 0
    for block in blocks:
        for command in block.commands:
            number += 1
            if number < start or (stop is not None and number > stop):
                continue
            if block.kind in ("manual", "synopsis"):
                print(f"[{number}] not run ({block.kind}: {block.reason}): {command}", flush=True)
                continue
            print(f"[{number}] {block.where}: {command}", flush=True)
            single = Block(block.readme, block.line, block.kind, block.reason, [command])
            for _, code, seconds in run_block(single, ROOT):
                print(f"[{number}] {'ok' if code == 0 else f'failed (exit {code})'} after {seconds:.1f} s", flush=True)
                if code != 0:
                    print(f"readme_commands: command {number} failed; rerun with --from {number}", file=sys.stderr)
                    return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print every command with its number and kind")
    parser.add_argument("--run-all", action="store_true", help="run every quick and long command, in order")
    parser.add_argument("--from", dest="start", type=int, default=1, help="with --run-all: start at command N (1)")
    parser.add_argument("--to", dest="stop", type=int, help="with --run-all: end after command N (default: the last)")
    args = parser.parse_args(argv)
    blocks = all_blocks()
    if args.list:
        number = 0
        for block in blocks:
            for command in block.commands:
                number += 1
                print(f"{number:3d} {block.kind:8s} {block.where}: {command}")
        return 0
    problems = static_problems(blocks)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    return _run_all(blocks, args.start, args.stop) if args.run_all else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
