"""``match`` and ``nonlocal``: allowed in plans, and no door out of the sandbox.

Patterns run in C, without RestrictedPython's guards: a class pattern reads attributes
through ``__match_args__`` and keyword sub-patterns, a value pattern looks up a dotted
name, a mapping pattern calls ``get`` on the subject, a sequence pattern indexes it. So:

- names a pattern (or ``nonlocal``) binds go through the same checks as every binding;
- class patterns may only name builtin data types, with at most one positional
  sub-pattern (which matches the subject itself), and compile to the real type;
- keyword sub-patterns and dotted value patterns are refused by both lines;
- mapping and sequence patterns only ever look inside real containers: no object a plan
  can hold besides data is a mapping or a sequence to the interpreter.
"""

from __future__ import annotations

import collections

import pytest

import agents_durable as ad
from agents_durable.plans._guards import FACADE_ATTRIBUTES, STANDINS
from tests.security.conftest import (
    assert_output,
    assert_rejected,
    assert_stopped,
    codes,
    compile_codes,
)

pytestmark = pytest.mark.anyio

GUARDS = ["_getattr_", "_getitem_", "_write_", "_getiter_", "_tick_", "_match_str_"]

#: Binding forms new to plans -> source binding NAME (indented into run).
FORMS = {
    "nonlocal": "def outer():\n    NAME = 1\n    def inner():\n        nonlocal NAME\n"
                "        NAME = len\n    inner()\nouter()\n",
    "nonlocal_only": "def outer():\n    def inner():\n        nonlocal NAME\n"
                     "    return inner\n",
    "match_capture": "match event.payload:\n    case NAME:\n        pass\n",
    "match_as": "match event.payload:\n    case [1] as NAME:\n        pass\n",
    "match_star": "match event.payload:\n    case [*NAME]:\n        pass\n",
    "match_rest": "match event.payload:\n    case {**NAME}:\n        pass\n",
    "match_nested": "match event.payload:\n    case {\"k\": [1, NAME]}:\n        pass\n",
    "match_or": "match event.payload:\n    case [NAME] | (NAME, 1):\n        pass\n",
    "class_sub_pattern": "match event.payload:\n    case str(NAME):\n        pass\n",
}


def _plan(body: str) -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"async def run(event, step):\n{lines}\n    return event.payload\n"


# -- names: every new binding form is checked by both lines ------------------------------


@pytest.mark.parametrize("name", GUARDS)
@pytest.mark.parametrize("form", FORMS)
def test_binding_a_guard_name_is_rejected_by_both_lines(
        form: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _plan(FORMS[form].replace("NAME", name))
    assert "ADP206" in codes(source), codes(source)
    with pytest.raises(ad.PlanRejected):
        ad.compile_plan(source)
    monkeypatch.setattr("agents_durable.plans._compile.parse_and_validate",
                        lambda source, policy=None, tools=None: (__import__("ast").parse(
                            source), []))
    assert "ADP309" in compile_codes(source)


@pytest.mark.parametrize("form", [form for form in FORMS if form != "nonlocal_only"])
async def test_benign_binding_forms_run(engine: ad.Engine, form: str) -> None:
    source = _plan(FORMS[form].replace("NAME", "value"))
    assert codes(source) == []
    await assert_output(engine, source, ["x"], ["x"])


async def test_nonlocal_counter(engine: ad.Engine) -> None:
    source = _plan("total = 0\ndef add(n):\n    nonlocal total\n    total += n\n"
                   "    return total\nfor n in event.payload:\n    add(n)\n"
                   "return {\"total\": total}")
    await assert_output(engine, source, {"total": 6}, [1, 2, 3])


def test_nonlocal_cannot_reach_a_global() -> None:
    # `nonlocal` only reaches an enclosing function's variable: not tools, not a guard.
    for name in ("tools", "print", "_getattr_"):
        source = _plan(f"def inner():\n    nonlocal {name}\n    {name} = 1\ninner()")
        assert codes(source), name
        with pytest.raises(ad.PlanRejected):
            ad.compile_plan(source)


# -- class patterns ----------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [
    "Point(x=1)",  # a class of its own (and keyword sub-patterns)
    "Exception(args=a)",  # keyword sub-patterns read attributes in C
    "int(real=r)",
    "str(a, b)",  # more than one positional sub-pattern
    "math.floor()",  # a dotted class
    "event.payload",  # a dotted value: read without the attribute guard
    "event.__class__",
    "{math.pi: x}",  # a dotted mapping key
    "type(x)",  # `type` is not a data type here
    "dict(items=i)",
])
async def test_unguardable_patterns_are_refused_by_both_lines(
        engine: ad.Engine, unvalidated: None, pattern: str) -> None:
    source = "import math\n" + _plan(f"match event.payload:\n    case {pattern}:\n"
                                     "        return 'matched'")
    assert compile_codes(source) == ["ADP309"]


@pytest.mark.parametrize("pattern", ["Point(x=1)", "int(real=r)", "str(a, b)",
                                     "math.floor()", "math.pi", "{math.pi: x}"])
def test_unguardable_patterns_are_refused_by_validation(pattern: str) -> None:
    source = "import math\n" + _plan(f"match event.payload:\n    case {pattern}:\n"
                                     "        return 'matched'")
    assert_rejected(source, "ADP313")


def test_a_class_pattern_on_a_rebound_builtin_name_is_refused() -> None:
    source = _plan("str = type(event.payload)\nmatch event.payload:\n"
                   "    case str(x):\n        return x")
    assert_rejected(source, "ADP313")


async def test_class_patterns_use_the_real_builtin_even_when_rebound(
        engine: ad.Engine, unvalidated: None) -> None:
    # The compiled pattern names a hidden global bound to the real type: whatever the
    # plan binds to `str`, the pattern can never reach a class with `__match_args__`.
    source = _plan("str = len\nmatch event.payload:\n    case str(x):\n"
                   "        return ['str', x]\n    case _:\n        return 'other'")
    await assert_output(engine, source, ["str", "abc"], "abc")


async def test_the_hidden_class_globals_cannot_be_named(engine: ad.Engine,
                                                        unvalidated: None) -> None:
    source = _plan("return str(_match_str_)")
    assert "ADP206" in codes(source)
    assert compile_codes(source) == ["ADP309"]


# -- mapping and sequence patterns only look inside data ----------------------------------


def test_no_host_object_is_a_mapping_or_sequence_to_match() -> None:
    # Py_TPFLAGS_SEQUENCE (1 << 5) and Py_TPFLAGS_MAPPING (1 << 6) decide whether a
    # sequence or mapping pattern indexes the subject or calls its `get`.
    flags = (1 << 5) | (1 << 6)
    kinds = [*FACADE_ATTRIBUTES, *STANDINS]
    assert len(kinds) >= 5
    for kind in kinds:
        assert not kind.__flags__ & flags, kind


@pytest.mark.parametrize(("subject", "after"), [
    ("event", ""), ("step", ""), ("tools", ""), ("math", ""), ("print", ""), ("str", ""),
    ("len", ""), ("step.sleep('nap', 0)", "await subject\n"),
])
async def test_patterns_on_engine_objects_do_not_match(
        engine: ad.Engine, unvalidated: None, subject: str, after: str) -> None:
    source = "import math\n" + _plan(
        f"subject = {subject}\nmatch subject:\n"
        "    case {'payload': p}:\n        result = 'mapping'\n"
        "    case {**rest}:\n        result = 'rest'\n"
        "    case [x, *others]:\n        result = 'sequence'\n"
        "    case []:\n        result = 'empty'\n"
        "    case _:\n        result = 'no match'\n"
        f"{after}return result")
    await assert_output(engine, source, "no match", {"payload": 1})


async def test_a_mapping_pattern_does_not_fill_a_defaultdict(engine: ad.Engine) -> None:
    # Mapping patterns call `get`, which never runs a defaultdict's factory.
    source = "from collections import defaultdict\n" + _plan(
        "counts = defaultdict(list)\nmatch counts:\n    case {'missing': x}:\n"
        "        found = True\n    case _:\n        found = False\n"
        "return [found, len(counts)]")
    await assert_output(engine, source, [False, 0])


async def test_star_captures_are_plain_lists(engine: ad.Engine) -> None:
    source = _plan("match event.payload:\n    case [first, *rest]:\n"
                   "        rest.append(first)\n        return [isinstance(rest, list), rest]")
    await assert_output(engine, source, [True, [2, 3, 1]], [1, 2, 3])


async def test_a_deep_subject_is_still_bounded_by_the_budget(engine: ad.Engine) -> None:
    # Matching does not loop on its own; a loop around it still pays fuel.
    source = _plan("n = 0\nwhile True:\n    match [n]:\n        case [m]:\n"
                   "            n = m + 1")
    await assert_stopped(engine, source, "BudgetExceeded")


# -- the benign twin: every allowed form, run for real ------------------------------------

EVERY_FORM = '''
async def run(event, step):
    seen = []
    for item in event.payload:
        match item:
            case None | True:
                seen.append(["singleton", item])
            case 0 | -1 | 1.5:
                seen.append(["number", item])
            case "stop":
                seen.append("stop")
            case {"type": "order", "id": order_id, **rest}:
                seen.append(["order", order_id, sorted(rest)])
            case {"type": kind}:
                seen.append(["typed", kind])
            case [first, *others] if len(others) > 1:
                seen.append(["long", first, others])
            case (a, b) as pair:
                seen.append(["pair", a, b, list(pair)])
            case str(text) if text.startswith("x"):
                seen.append(["x-text", text])
            case str() | bytes():
                seen.append(["text", item])
            case int(number) | float(number):
                seen.append(["number", number])
            case dict() | list() | tuple() | set() | frozenset():
                seen.append("container")
            case _:
                seen.append("other")
    return seen
'''


async def test_every_allowed_pattern_form_runs(engine: ad.Engine) -> None:
    assert ad.validate_plan(EVERY_FORM) == []
    payload = [None, True, 0, 1.5, "stop", {"type": "order", "id": 7, "b": 1, "a": 2},
               {"type": "refund"}, [1, 2, 3], [1, 2], "xyz", "abc", 42, 2.5, {}, []]
    expected = [["singleton", None], ["singleton", True], ["number", 0], ["number", 1.5],
                "stop", ["order", 7, ["a", "b"]], ["typed", "refund"], ["long", 1, [2, 3]],
                ["pair", 1, 2, [1, 2]], ["x-text", "xyz"], ["text", "abc"], ["number", 42],
                ["number", 2.5], "container", "container"]
    await assert_output(engine, EVERY_FORM, expected, payload)


def test_defaultdict_is_a_mapping_to_match() -> None:
    # The guard in the test above must exercise a real mapping pattern.
    assert collections.defaultdict.__flags__ & (1 << 6)
