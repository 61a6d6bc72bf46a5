"""Category 2, dynamic attribute names: computed ``getattr`` names, ``vars``/``dir``,
``operator.attrgetter``, ``functools.partial``.

Validation refuses non-literal getattr names (ADP204) and the introspection builtins
(ADP203). With the validator skipped, the runtime ``getattr`` is the same allow-list as
the dot operator, and the builtins are simply absent.
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from tests.security.conftest import assert_output, assert_rejected, assert_stopped

pytestmark = pytest.mark.anyio


def _plan(body: str, imports: str = "") -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"{imports}\nasync def run(event, step):\n{lines}\n"


DYNAMIC = {
    "concatenated_dunder": 'return str(getattr((), "_" + "_class__"))',
    "joined_dunder": 'return str(getattr(event, "".join(["__", "dict", "__"])))',
    "from_params": 'return str(getattr(step, event.payload["name"]))',
    "format_method": 'name = "for" + "mat"\nreturn getattr("{0}", name)(1)',
    "hasattr_probe": 'name = "_" + "activation"\nreturn str(getattr(step, name))',
    "default_swallows_nothing": 'return str(getattr(len, "_" + "_self__", None) is None)',
}


@pytest.mark.parametrize("body", DYNAMIC.values(), ids=DYNAMIC.keys())
def test_computed_attribute_names_are_rejected(body: str) -> None:
    assert_rejected(_plan(body), "ADP204")


@pytest.mark.parametrize("body", list(DYNAMIC.values())[:5], ids=list(DYNAMIC)[:5])
async def test_runtime_getattr_applies_the_same_allow_list(engine: ad.Engine,
                                                           unvalidated: None,
                                                           body: str) -> None:
    await assert_stopped(engine, _plan(body), "PlanAccessError",
                         params={"name": "_activation"})


async def test_getattr_default_hides_private_attributes(engine: ad.Engine,
                                                        unvalidated: None) -> None:
    await assert_output(engine, _plan(DYNAMIC["default_swallows_nothing"]), "True")


async def test_hasattr_reports_private_attributes_as_missing(engine: ad.Engine,
                                                             unvalidated: None) -> None:
    source = _plan('return [hasattr(step, "_" + "activation"), hasattr("a", "upper")]')
    await assert_output(engine, source, [False, True])


@pytest.mark.parametrize("name", ["vars", "dir", "globals", "locals"])
def test_introspection_builtins_are_rejected(name: str) -> None:
    assert_rejected(_plan(f"return {name}(event)"), "ADP203")


@pytest.mark.parametrize("name", ["vars", "dir", "globals", "locals"])
async def test_introspection_builtins_do_not_exist_at_run_time(engine: ad.Engine,
                                                               unvalidated: None,
                                                               name: str) -> None:
    await assert_stopped(engine, _plan(f"return str({name}())"), "NameError")


@pytest.mark.parametrize("imports", ["import operator", "from operator import attrgetter",
                                     "import functools", "from functools import partial"])
def test_operator_and_functools_are_rejected(imports: str) -> None:
    assert_rejected(_plan("return 1", imports), "ADP201")


async def test_getattr_on_the_getattr_builtin_is_closed(engine: ad.Engine,
                                                        unvalidated: None) -> None:
    # A partial-like trick: hold the guarded getattr and reach its closure.
    source = _plan('g = getattr\nreturn str(getattr(g, "_" + "_closure__"))')
    await assert_stopped(engine, source, "PlanAccessError")


async def test_benign_literal_getattr_works(engine: ad.Engine) -> None:
    source = _plan('return [getattr("abc", "upper")(), getattr({}, "missing", 5)]')
    await assert_output(engine, source, ["ABC", 5])
