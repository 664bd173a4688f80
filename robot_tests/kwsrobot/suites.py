"""One suite per variant, generated from a template: robot_tests/firmware_variant.robot for the
emulators, robot_tests/board_variant.robot for a board.

A template is a complete suite (runnable by itself with ``--variable BUILD:... --variable
VARIANT:...``); a generated copy differs only in the values of a few variables, set through
Robot's own parser, so that every runner (robot, pabot, renode-test) sees plain suites named
after their variants.
"""

from __future__ import annotations

from pathlib import Path

from robot.api.parsing import ModelTransformer, Token, get_model

from kwsrobot.variants import Build

ROBOT_TESTS = Path(__file__).resolve().parent.parent
TEMPLATE = ROBOT_TESTS / "firmware_variant.robot"
BOARD_TEMPLATE = ROBOT_TESTS / "board_variant.robot"


class _SetVariables(ModelTransformer):
    def __init__(self, values: dict[str, str]) -> None:
        self.values = dict(values)

    def visit_Variable(self, node):
        value = self.values.pop(node.name, None)
        if value is not None:
            first, *rest = node.get_tokens(Token.ARGUMENT)
            first.value = value
            node.tokens = tuple(t for t in node.tokens if not any(t is r for r in rest))
        return node


def write_suites(build: Build, out: Path, template: Path = TEMPLATE, only: list[str] = ()) -> list[Path]:
    """``out/<variant>.robot`` for every variant of ``build`` (or those named in ``only``)."""
    variants = [build.variant(name) for name in only] if only else list(build.variants)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.robot"):
        stale.unlink()
    suites = []
    for variant in variants:
        values = {
            "${BUILD}": str(build.root),
            "${VARIANT}": variant.name,
            "${KWS_RESOURCES}": str(ROBOT_TESTS / "resources"),
        }
        setter = _SetVariables(values)
        model = setter.visit(get_model(template))
        if setter.values:
            raise RuntimeError(f"{template}: no variables {', '.join(setter.values)} to set")
        path = out / f"{variant.name}.robot"
        model.save(path)
        suites.append(path)
    return suites
