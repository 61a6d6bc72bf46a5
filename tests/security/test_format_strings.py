"""Category 4, format strings: ``str.format``/``format_map`` reach attributes through
fields, ``string.Formatter`` is a module away, ``%`` with mappings and computed widths,
f-string format specs that are computed or huge.
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from tests.security.conftest import (
    assert_output,
    assert_rejected,
    assert_stopped,
    codes,
    compile_codes,
)

pytestmark = pytest.mark.anyio


def _plan(body: str, imports: str = "") -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"{imports}\nasync def run(event, step):\n{lines}\n"


@pytest.mark.parametrize("body", [
    'return "{0.__class__}".format(event)',
    'return "{e.__class__}".format_map({"e": event})',
    'f = "x".format\nreturn f()',
    'return format(event, "")',
])
def test_format_methods_are_rejected(body: str) -> None:
    assert "ADP203" in codes(_plan(body)), codes(_plan(body))


@pytest.mark.parametrize("body", [
    'name = "for" + "mat"\nreturn getattr("{0.__class__}", name)(event)',
    'name = "format" + "_map"\nreturn getattr("{e}", name)({"e": event})',
])
async def test_format_methods_are_not_on_the_str_allow_list(engine: ad.Engine,
                                                            unvalidated: None,
                                                            body: str) -> None:
    await assert_stopped(engine, _plan(body), "PlanAccessError")


async def test_format_builtin_is_absent_at_run_time(engine: ad.Engine,
                                                    unvalidated: None) -> None:
    await assert_stopped(engine, _plan('return format(1, "x")'), "NameError")


def test_string_formatter_is_rejected() -> None:
    assert_rejected(_plan("return string.Formatter().format('{0}', 1)", "import string"),
                    "ADP201")


@pytest.mark.parametrize("body", ['return "%*d" % (10 ** 9, 1)',
                                  'return "%2000000000d" % 1',
                                  'return "%(a)1000001s" % {"a": 1}'])
async def test_percent_format_widths_are_checked(engine: ad.Engine, body: str) -> None:
    await assert_stopped(engine, _plan(body), "PlanAccessError")


async def test_percent_bytes_format_is_refused(engine: ad.Engine) -> None:
    await assert_stopped(engine, _plan('return str(b"%s" % (b"x",))'), "PlanAccessError")


@pytest.mark.parametrize("body", ['w = 10 ** 9\nreturn f"{1:>{w}}"',
                                  'return f"{1:>1000000000}"'])
def test_f_string_specs_that_are_computed_or_wide_are_rejected(body: str) -> None:
    assert_rejected(_plan(body), "ADP308")


@pytest.mark.parametrize("body", ['w = 10 ** 9\nreturn f"{1:>{w}}"',
                                  'return f"{1:>1000000000}"',
                                  'return f"{1:.999999999f}"'])
def test_the_compiler_refuses_such_specs_on_its_own(unvalidated: None, body: str) -> None:
    assert "ADP309" in compile_codes(_plan(body))


async def test_benign_formatting_works(engine: ad.Engine) -> None:
    source = _plan('x = 3.14159\nname = "pi"\n'
                   'return [f"{name}: {x:>10.2f}", "%(n)s=%d" % ({"n": 1}, 2) '
                   'if False else "%s=%d" % ("n", 2), "%(n)s!" % {"n": "hi"}, f"{[1, 2]!r}"]')
    await assert_output(engine, source, ["pi:       3.14", "n=2", "hi!", "[1, 2]"])
