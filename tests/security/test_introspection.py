"""Category 1, introspection walks: class hierarchy, globals, code, frames, builtins.

First line: validation (ADP207 for attributes, ADP206 for names). Second line, with our
validator skipped: RestrictedPython refuses literal underscore attributes at compile
time (ADP309), and our attribute allow-list refuses the rest at run time.
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from tests.security.conftest import (
    assert_output,
    assert_rejected,
    assert_stopped,
    compile_codes,
)

pytestmark = pytest.mark.anyio

WALKS = {
    "subclasses": "return ().__class__.__mro__[1].__subclasses__()",
    "globals": "f = lambda: 0\nreturn f.__globals__",
    "code": "f = lambda: 0\nreturn f.__code__.co_consts",
    "builtin_self": "return len.__self__",
    "dict": "return event.__dict__",
    "frame_back": "c = step.now()\nreturn c.cr_frame.f_back",
    "gi_frame": "g = (x for x in [1])\nreturn g.gi_frame.f_globals",
    "tb_frame": "try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__.tb_frame",
    "cr_await": "c = step.now()\nreturn c.cr_await",
    "mro_method": "return int.mro()",
}


def _plan(body: str) -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"async def run(event, step):\n{lines}\n"


@pytest.mark.parametrize("body", WALKS.values(), ids=WALKS.keys())
def test_walk_is_rejected_by_validation(body: str) -> None:
    assert_rejected(_plan(body), "ADP207")


@pytest.mark.parametrize("body", [b for k, b in WALKS.items() if "__" in b],
                         ids=[k for k, b in WALKS.items() if "__" in b])
def test_restricted_compiler_refuses_dunder_walks_on_its_own(unvalidated: None,
                                                             body: str) -> None:
    assert "ADP309" in compile_codes(_plan(body))


def test_builtins_name_is_rejected() -> None:
    assert_rejected(_plan("return __builtins__"), "ADP206")


#: RestrictedPython refuses frame attributes written literally (ADP309); computed names
#: reach the runtime allow-list.
RUNTIME_WALKS = {
    "generator_frame": "g = (x for x in [1])\nreturn str(getattr(g, 'gi_' + 'frame'))",
    "coroutine_frame": "c = step.now()\nreturn str(getattr(c, 'cr_' + 'frame'))",
    "coroutine_await": "c = step.now()\nreturn str(getattr(c, 'cr_' + 'await'))",
    "yieldfrom": "g = (x for x in [1])\nreturn str(getattr(g, 'gi_' + 'yieldfrom'))",
    "mro": "return str(int.mro())",
    "function_attribute": "f = lambda: 0\nreturn str(f.func_globals)",
    "generator_send": "g = (x for x in [1])\nreturn str(g.send)",
}


@pytest.mark.parametrize("attribute", ["gi_frame", "cr_frame", "f_back", "tb_frame",
                                       "gi_yieldfrom", "cr_await"])
def test_restricted_compiler_refuses_frame_attributes(unvalidated: None,
                                                      attribute: str) -> None:
    assert "ADP309" in compile_codes(_plan(f"x = [1]\nreturn str(x.{attribute})"))


@pytest.mark.parametrize("body", RUNTIME_WALKS.values(), ids=RUNTIME_WALKS.keys())
async def test_runtime_allow_list_stops_walks_the_compiler_lets_through(
        engine: ad.Engine, unvalidated: None, body: str) -> None:
    await assert_stopped(engine, _plan(body), "PlanAccessError")


async def test_type_of_type_cannot_make_classes(engine: ad.Engine) -> None:
    # `type(int)` would be the metaclass `type`; with it a plan builds a class whose
    # __index__ lies to the size guards ("a" * C() with __index__ -> 10**10).
    source = _plan('t = type(int)\nC = t("C", (), {})\nreturn len("a" * C())')
    await assert_stopped(engine, source, "PlanAccessError")


async def test_benign_type_and_isinstance_still_work(engine: ad.Engine) -> None:
    source = _plan("return [type(1) is int, type([]) is list, isinstance('a', str), "
                   "type(1.5) == float, type(None) is type(None)]")
    await assert_output(engine, source, [True, True, True, True, True])
