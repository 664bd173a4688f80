"""One suite per variant, generated from the template robot_tests/firmware_variant.robot.

The template is a complete suite (runnable by itself with ``--variable BUILD:... --variable
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


def write_suites(build: Build, out: Path) -> list[Path]:
    """``out/<variant>.robot`` for every variant of ``build``."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.robot"):
        stale.unlink()
    suites = []
    for variant in build.variants:
        values = {
            "${BUILD}": str(build.root),
            "${VARIANT}": variant.name,
            "${KWS_RESOURCES}": str(ROBOT_TESTS / "resources"),
        }
        setter = _SetVariables(values)
        model = setter.visit(get_model(TEMPLATE))
        if setter.values:
            raise RuntimeError(f"{TEMPLATE}: no variables {', '.join(setter.values)} to set")
        path = out / f"{variant.name}.robot"
        model.save(path)
        suites.append(path)
    return suites
