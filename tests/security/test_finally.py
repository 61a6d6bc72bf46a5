"""``return``, ``break`` and ``continue`` in ``finally``: refused by both lines.

Leaving a ``finally`` block that way discards the exception in flight: a plan could
swallow a budget trip (and spin on), or the engine's suspension (and run past a step
whose result is not there yet). Python 3.14 deprecates it (PEP 765). The validator says
so with ADP312 and the line; RestrictedPython's compiler, as we configure it, refuses it
again on its own (ADP309). Exits that stay inside the block (a loop or a function
defined within it) are fine.
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from tests.security.conftest import assert_output, assert_rejected, codes, compile_codes

pytestmark = pytest.mark.anyio


def _plan(body: str) -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"async def run(event, step):\n{lines}\n    return 'done'\n"


#: Each swallows whatever is raised in the `try` body: here, a budget trip.
SWALLOWING = {
    "return": "try:\n    while True:\n        pass\nfinally:\n    return 'swallowed'",
    "break": "for i in range(3):\n    try:\n        while True:\n            pass\n"
             "    finally:\n        break",
    "continue": "for i in range(3):\n    try:\n        while True:\n            pass\n"
                "    finally:\n        continue",
    "nested_if": "try:\n    while True:\n        pass\nfinally:\n    if True:\n"
                 "        return 'swallowed'",
    "return_in_loop": "try:\n    while True:\n        pass\nfinally:\n"
                      "    for i in range(2):\n        return 'swallowed'",
    "loop_else": "for i in range(3):\n    try:\n        pass\n    finally:\n"
                 "        for j in range(2):\n            pass\n        else:\n"
                 "            break",
    "inner_try": "try:\n    pass\nfinally:\n    try:\n        pass\n    except Exception:\n"
                 "        return 'swallowed'",
    "in_helper": "def helper():\n    try:\n        return 1\n    finally:\n"
                 "        return 2\nhelper()",
}


@pytest.mark.parametrize("form", SWALLOWING)
def test_exits_from_finally_are_rejected_by_validation(form: str) -> None:
    source = _plan(SWALLOWING[form])
    assert_rejected(source, "ADP312")
    (diagnostic,) = [d for d in ad.validate_plan(source) if d.code == "ADP312"]
    assert "PEP 765" in diagnostic.message
    assert "after the `try` statement" in diagnostic.hint
    line = source.splitlines()[diagnostic.line - 1].strip()
    assert line.split()[0] in {"return", "break", "continue"}, line


@pytest.mark.parametrize("form", SWALLOWING)
def test_exits_from_finally_are_refused_by_the_compiler(form: str, unvalidated: None) -> None:
    assert compile_codes(_plan(SWALLOWING[form])) == ["ADP309"]


#: Exits that stay inside the `finally` block, or are not in one.
CONTAINED = {
    "loop_inside": "total = 0\ntry:\n    total = 3\nfinally:\n    for i in range(5):\n"
                   "        if i == 2:\n            break\n        if i == 0:\n"
                   "            continue\n        total += i\nreturn total",
    "function_inside": "try:\n    value = 1\nfinally:\n    def double(n):\n"
                       "        return n * 2\n    value = double(2)\nreturn value",
    "lambda_inside": "try:\n    value = 1\nfinally:\n    value = (lambda n: n + 1)(3)\n"
                     "return value",
    "return_in_try": "def helper():\n    try:\n        return 4\n    finally:\n"
                     "        print('cleanup')\nreturn helper()",
    "return_in_except": "try:\n    value = 1 // 0\nexcept ZeroDivisionError:\n    return 4\n"
                        "finally:\n    print('cleanup')",
    "flag_then_return": "stop = False\ntry:\n    value = 4\nfinally:\n    stop = True\n"
                        "if stop:\n    return value",
}


@pytest.mark.parametrize("form", CONTAINED)
async def test_contained_exits_are_fine(engine: ad.Engine, form: str) -> None:
    source = _plan(CONTAINED[form])
    assert codes(source) == []
    await assert_output(engine, source, 4)
