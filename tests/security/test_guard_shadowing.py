"""Category 5, guard shadowing: a plan binds a RestrictedPython hook name (or any other
``_``-prefixed name) through every binding form, hoping its own function replaces the
guard. Validation refuses every such name (ADP206, or the construct's own code for
``global``); RestrictedPython's compiler refuses them again on its own (ADP309).
"""

from __future__ import annotations

import ast
import sys

import pytest

import agents_durable as ad
from tests.security.conftest import assert_output, codes, compile_codes

pytestmark = pytest.mark.anyio

GUARDS = ["_getattr_", "_write_", "_getiter_", "_print_", "_tick_", "_render_"]

#: Binding form -> plan source binding NAME and then using an attribute (so the guard
#: would be called).
FORMS = {
    "parameter_default": "def helper(NAME=len):\n    return event.payload\n",
    "positional_only": "def helper(NAME, /):\n    return NAME\n",
    "keyword_only": "def helper(*, NAME=None):\n    return NAME\n",
    "star_args": "def helper(*NAME):\n    return NAME\n",
    "star_kwargs": "def helper(**NAME):\n    return NAME\n",
    "lambda_parameter": "helper = lambda NAME=len: event.payload\n",
    "walrus": "if (NAME := len):\n    pass\n",
    "loop_target": "for NAME in [len]:\n    pass\n",
    "comprehension_target": "xs = [event.payload for NAME in [len]]\n",
    "except_as": "try:\n    pass\nexcept Exception as NAME:\n    pass\n",
    "import_as": "import math as NAME\n",
    "from_import_as": "from math import sqrt as NAME\n",
    "assignment": "NAME = len\n",
    "tuple_target": "NAME, other = len, 1\n",
    "augmented": "NAME += 1\n",
    "delete": "del NAME\n",
    "global": "global NAME\n",
    "function_name": "def NAME():\n    return 1\n",
}


def _plan(form: str, name: str) -> str:
    body = FORMS[form].replace("NAME", name)
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"async def run(event, step):\n{lines}\n    return event.payload\n"


@pytest.mark.parametrize("name", GUARDS)
@pytest.mark.parametrize("form", FORMS)
def test_binding_a_guard_name_is_rejected_by_both_lines(
        form: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _plan(form, name)
    found = codes(source)
    expected = "ADP303" if form == "global" else "ADP206"
    assert expected in found, found
    with pytest.raises(ad.PlanRejected):
        ad.compile_plan(source)
    # Second line: RestrictedPython's compiler, with our validator out of the way.
    monkeypatch.setattr("agents_durable.plans._compile.parse_and_validate",
                        lambda source, policy=None, tools=None: (ast.parse(source), []))
    assert "ADP309" in compile_codes(source)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ parses PEP 695")
def test_pep695_type_parameter_does_not_parse_here() -> None:
    source = ("def helper[_getattr_](x):\n    return x\n\n"
              "async def run(event, step):\n    return 1\n")
    assert codes(source) == ["ADP100"]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="PEP 695 needs Python 3.12")
def test_pep695_type_parameter_is_rejected() -> None:  # pragma: no cover - 3.12+ only
    source = ("def helper[_getattr_](x):\n    return x\n\n"
              "async def run(event, step):\n    return 1\n")
    assert {"ADP206", "ADP311"} & set(codes(source))


async def test_benign_underscore_alone_is_a_normal_name(engine: ad.Engine) -> None:
    from tests.security.conftest import run

    status = await run(engine, "async def run(event, step):\n"
                               "    total = 0\n    for _ in range(3):\n        total += 1\n"
                               "    return total\n")
    assert (status.status, status.output) == ("complete", 3)


async def test_benign_plain_names_shadowing_builtins_work(engine: ad.Engine) -> None:
    await assert_output(engine, "async def run(event, step):\n    list = [1]\n"
                                "    len = 2\n    return [list, len]\n", [[1], 2])
