"""Run the Robot suites on the firmware variants of a BUILD.

    python robot_tests/run.py --build BUILD [--out DIR] [--backend unicorn|renode|board]
                              [--variant NAME]... [--processes N]

Writes one suite per variant of BUILD/variants.json (generated from firmware_variant.robot, or
board_variant.robot for ``--backend board``) into DIR/suites, runs them (in parallel with pabot
on the Unicorn backend, ``renode-test -j`` on Renode, one after the other on the one board),
leaves output.xml, log.html and report.html in DIR (default BUILD/robot, BUILD/robot-board),
prints a one-line summary and exits with the runner's code: 0 when every test passed (tests
tagged ``non_critical`` may be skipped, as with renode-test), 2 on bad input.

The board is the one KWS_BOARD_PORT names (emulation/board.py); ``emulated`` is the Unicorn
backend behind a pseudo-terminal, a dry run of the board suites without hardware.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kwsrobot.suites import BOARD_TEMPLATE, ROBOT_TESTS, TEMPLATE, write_suites
from kwsrobot.variants import BuildError, read_build

from emulation.board import NOT_CONFIGURED, BoardConfig, BoardError

RENODE_MISSING = "renode-test is not on PATH (Renode is not installed)"


def unicorn_command(suites: Path, out: Path, processes: int, passthrough: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pabot.pabot",
        "--no-pabotlib",
        "--command",  # the robot of this interpreter, whatever is on PATH
        sys.executable,
        "-m",
        "robot",
        "--end-command",
        "--processes",
        str(processes),
        "--pythonpath",
        str(ROBOT_TESTS),
        "--outputdir",
        str(out),
        "--skiponfailure",
        "non_critical",
        "--consolewidth",
        "100",
        *passthrough,
        str(suites),
    ]


def board_command(suites: Path, out: Path, passthrough: list[str]) -> list[str]:
    """One board: the suites run one after the other, each flashing its variant."""
    return [
        sys.executable,
        "-m",
        "robot",
        "--pythonpath",
        str(ROBOT_TESTS),
        "--outputdir",
        str(out),
        "--consolewidth",
        "100",
        *passthrough,
        str(suites),
    ]


def renode_command(
    renode_test: str, suites: list[Path], out: Path, processes: int, variables: list[str], tests: list[str] = ()
) -> list[str]:
    """renode-test injects its own keywords as ${RENODEKEYWORDS} and skips non_critical failures;
    its --fixture runs the tests whose name contains the given one."""
    command = [renode_test, "-j", str(processes), "--results-dir", str(out)]
    for variable in variables:
        command += ["--variable", variable]
    for test in tests:
        command += ["--fixture", test]
    return command + [str(s) for s in suites]


def renode_env(out: Path) -> dict[str, str]:
    """renode-test's environment. Its Python imports the suites' libraries (KwsLibrary: this
    repository's packages and kwsrobot, so it needs this project's requirements), and Renode gets a
    private TMPDIR: at start-up it deletes every renode-* folder in its temporary directory that
    no live Renode owns."""
    tmp = out / "renode-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    paths = [str(ROBOT_TESTS), str(ROBOT_TESTS.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": os.pathsep.join(paths)}


def summary(out: Path, backend: str) -> str:
    from robot.api import ExecutionResult

    output = out / "output.xml"
    if not output.is_file():  # renode-test merges its results into robot_output.xml
        output = out / "robot_output.xml"
    if not output.is_file():
        return f"robot: no {output} (the runner failed before writing results)"
    result = ExecutionResult(str(output))
    stats = result.statistics.total
    failed = [t.longname for t in _tests(result.suite) if t.status == "FAIL"]
    line = (
        f"robot ({backend}): {len(result.suite.suites) or 1} suites, {stats.total} tests: {stats.passed} passed, "
        f"{stats.failed} failed, {stats.skipped} skipped; {out / 'report.html'}"
    )
    return line + (f"; failed: {', '.join(failed)}" if failed else "")


def _tests(suite):
    yield from suite.tests
    for child in suite.suites:
        yield from _tests(child)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, help="a BUILD directory with variants.json")
    parser.add_argument("--out", help="results directory (default BUILD/robot)")
    parser.add_argument("--backend", choices=("unicorn", "renode", "board"), default="unicorn")
    parser.add_argument("--processes", type=int, default=2, help="suites run in parallel (default 2)")
    parser.add_argument("--variable", action="append", default=[], metavar="NAME:VALUE", help="passed to the suites")
    parser.add_argument("--test", action="append", default=[], metavar="NAME", help="run only these tests")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME", help="only these variants")
    parser.add_argument(
        "--skip-without-renode",
        action="store_true",
        help="with --backend renode: exit 0 with a message when Renode is not installed",
    )
    parser.add_argument(
        "--skip-without-board",
        action="store_true",
        help="with --backend board: exit 0 with a message when no board is configured (KWS_BOARD_PORT)",
    )
    args = parser.parse_args(argv)
    if args.backend == "board":
        try:
            board_config = BoardConfig.from_env()
        except BoardError as exc:
            print(f"run.py: {exc}", file=sys.stderr)
            return 2
        if board_config is None:
            if args.skip_without_board:
                print(f"robot (board): skipped: {NOT_CONFIGURED}")
                return 0
            print(f"run.py: --backend board: {NOT_CONFIGURED}", file=sys.stderr)
            return 2
    renode_test = os.environ.get("RENODE_TEST") or shutil.which("renode-test")
    if args.backend == "renode" and renode_test is None:
        if args.skip_without_renode:
            print(f"robot (renode): skipped: {RENODE_MISSING}; install Renode to run the suites on it")
            return 0
        print(f"run.py: --backend renode: {RENODE_MISSING}", file=sys.stderr)
        return 2
    try:
        build = read_build(args.build)
    except BuildError as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    board = args.backend == "board"
    out = Path(args.out).resolve() if args.out else build.root / ("robot-board" if board else "robot")
    try:
        suites = write_suites(build, out / "suites", BOARD_TEMPLATE if board else TEMPLATE, args.variant)
    except BuildError as exc:
        print(f"run.py: {exc}", file=sys.stderr)
        return 2
    passthrough = [f"--variable={v}" for v in args.variable] + [f"--test={t}" for t in args.test]
    if args.backend == "unicorn":
        processes = max(1, min(args.processes, len(suites)))
        command = unicorn_command(out / "suites", out, processes, passthrough)
    elif board:
        command = board_command(out / "suites", out, passthrough)
    else:
        if len(args.test) > 1:
            print("run.py: --test: renode-test takes one test name (its --fixture)", file=sys.stderr)
            return 2
        command = renode_command(renode_test, suites, out, args.processes, args.variable, args.test)
    env = renode_env(out) if args.backend == "renode" else None
    # pabot keeps its .pabotsuitenames in the working directory: keep it out of the source tree
    code = subprocess.run(command, cwd=out, check=False, env=env).returncode
    print(summary(out, args.backend))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
