"""Plan validation: each fixture yields exactly its one error; valid plans yield none.

Fixtures live in ``invalid/<CODE>_<what>.py``: a realistic small plan with exactly one
violation, a first line ``# expect: <CODE> line <N>`` (``# expect: <CODE> warning line
<N>`` for a warning, which must come with no error at all) and an optional second line
``# tools: a.b, c`` with the tools granted to the agent (without it, grants are unknown
and ADP406 is not checked).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agents_durable.plans._diagnostics import CODES, Diagnostic
from agents_durable.plans._policy import PlanPolicy
from agents_durable.plans._validate import parse_and_validate, validate_plan

INVALID = Path(__file__).parent / "invalid"
FIXTURES = sorted(INVALID.glob("*.py"))
GALLERY = Path(__file__).resolve().parents[2] / "plans"
_EXPECT = re.compile(r"\A# expect: (ADP\d{3}) (warning )?line (\d+)\n")
_TOOLS = re.compile(r"\A[^\n]*\n# tools: ([^\n]*)\n")

#: Codes that have no fixture file, each with the reason. Every code has one today.
CODES_WITHOUT_FIXTURE: dict[str, str] = {
    # reported by register_plan, which knows the agent's plans (validate_plan does not)
    "ADP415": "tests/evolve/test_children.py::test_a_literal_child_plan_name_must_exist",
}


def _expectation(path: Path) -> tuple[str, str, str, int, set[str] | None]:
    source = path.read_text(encoding="utf-8")
    expect = _EXPECT.match(source)
    assert expect, f"{path.name} must start with '# expect: ADPnnn line N'"
    tools = _TOOLS.match(source)
    granted = {t.strip() for t in tools.group(1).split(",") if t.strip()} if tools else None
    severity = "warning" if expect.group(2) else "error"
    return source, expect.group(1), severity, int(expect.group(3)), granted


def _errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]


def _codes(source: str, **kwargs: object) -> list[str]:
    return [d.code for d in _errors(validate_plan(source, **kwargs))]  # type: ignore[arg-type]


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_reports_exactly_its_violation(path: Path) -> None:
    source, code, severity, line, tools = _expectation(path)
    assert path.name.startswith(f"{code}_"), "a fixture is named for the code it expects"
    diagnostics = validate_plan(source, tools=tools)
    errors = [d for d in diagnostics if d.severity == severity]
    assert [(e.code, e.line) for e in errors] == [(code, line)], [str(e) for e in diagnostics]
    if severity == "warning":  # a warning fixture is otherwise a valid plan
        assert _errors(diagnostics) == [], [str(e) for e in diagnostics]
    error = errors[0]
    assert error.message.strip() and error.hint.strip()
    assert error.hint != error.message
    # The hint is an instruction: a full sentence saying what to write or do instead.
    assert error.hint[0].isupper() and error.hint.rstrip().endswith((".", ")")), error.hint
    assert len(error.hint.split()) >= 4, error.hint


def test_every_code_has_a_fixture() -> None:
    covered = {path.name.split("_", 1)[0] for path in FIXTURES}
    missing = set(CODES) - covered - set(CODES_WITHOUT_FIXTURE)
    assert not missing, f"codes without a fixture in {INVALID}: {sorted(missing)}"
    assert covered <= set(CODES), "fixtures for codes that do not exist"


# -- valid plans ------------------------------------------------------------------------

SPEC_EXAMPLE = '''
"""Follow up on an order until the customer confirms delivery."""

async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["order_id"]))
    await step.sleep("let the courier work", "2 days")
    try:
        reply = await step.wait_for_event("customer reply", type="delivery-confirmed",
                                          timeout="5 days")
    except EventTimeout:
        await step.do("escalate", lambda: tools.tickets.open(order["id"], "no confirmation"),
                      retries={"limit": 3, "delay": "30 seconds", "backoff": "exponential"})
        return {"order": order["id"], "confirmed": False}
    return {"order": order["id"], "confirmed": True, "note": reply["payload"].get("note")}
'''

LOOPS_AND_HELPERS = '''
"""Loops, helpers (sync and async), comprehensions and f-strings."""

import math
from datetime import timedelta

LIMIT = 10
WEIGHTS = {"small": 1, "large": LIMIT * 2}
LOW, HIGH = -1, 2.5


def score(order):
    """A pure helper."""
    total = sum([item["qty"] * WEIGHTS.get(item["size"], 1) for item in order["items"]])
    return math.ceil(total / 3)


async def load(step, order_id):
    return await step.do(f"load order {order_id}", lambda: tools.orders.get(order_id))


async def run(event, step):
    scores = {}
    counts = {"done": 0}
    for index, order_id in enumerate(event.payload["ids"][:LIMIT]):
        order = await load(step, order_id)
        scores[order_id] = score(order)
        counts["done"] += 1
        if index % 2:
            continue
        await step.sleep(f"pause {index}", timedelta(minutes=5))
    while counts["done"] < 3:
        counts["done"] = counts["done"] + 1
    best = max(scores, key=lambda key: scores[key]) if scores else None
    evens = {k: v for k, v in scores.items() if v % 2 == 0}
    labels = sorted({f"{k}:{v:>4}" for k, v in evens.items()})
    return {"best": best, "labels": labels, "pi": f"{math.pi:.3f}", "n": len(labels)}
'''

ERRORS_AND_DECORATOR = '''
"""Error handling, the decorator form, gather and deterministic helpers."""

async def run(event, step):
    started = await step.now()
    token = await step.uuid()
    roll = await step.random()

    @step.do("charge card", retries={"limit": 2, "delay": 5, "backoff": "linear"},
             timeout="1 minute")
    async def charge(ctx):
        result = await tools.billing.charge(event.payload["customer"], ctx.idempotency_key)
        if result["status"] == "declined":
            raise NonRetryableError(f"declined: {result['reason']}")
        return result

    try:
        receipt = await charge()
    except StepFailed as err:
        print(f"charge failed: {err}")
        receipt = None
    except (ValueError, KeyError):
        receipt = None

    quotes = await step.gather(
        step.do("quote a", lambda: tools.shipping.quote("a")),
        step.do("quote b", lambda: tools.shipping.quote("b"), timeout=30),
    )
    more = await step.gather(*[step.do(f"quote {c}", lambda c=c: tools.shipping.quote(c))
                               for c in event.payload["carriers"]])
    try:
        ack = await step.wait_for_event("ack", type="ack", timeout="12 months",
                                        match={"id": token})
    except EventTimeout:
        ack = None
    await step.sleep_until("end of trial", event.timestamp + timedelta(days=14))
    await step.sleep("nap", 1.5)
    return {"started": started.isoformat(), "roll": roll, "receipt": receipt,
            "quotes": quotes + more, "ack": ack}

from datetime import timedelta
'''

NAMES_THAT_SHADOW_BUILTINS = '''
"""Local names that happen to match builtins plans cannot use are fine."""

async def run(event, step):
    for id in event.payload["ids"]:
        type = "refund" if id % 2 else "charge"
        input = {"id": id, "type": type}
        await step.do(f"{type} {id}", lambda: tools.billing.apply(input))
    for _ in range(2):
        pass
    kind = type(event.payload)
    status = getattr(event, "instance_id", None)
    has_note = hasattr(event.payload, "get")
    return {"kind": str(kind), "status": status, "note": has_note}
'''

MATCH_AND_NONLOCAL = '''
"""`match` with every supported pattern form, and `nonlocal` in a nested helper."""

async def run(event, step):
    handled = 0

    def count():
        nonlocal handled
        handled += 1

    for message in event.payload["messages"]:
        match message:
            case {"type": "order", "id": order_id, **rest}:
                await step.do(f"load {order_id}", lambda: tools.orders.get(order_id))
            case {"type": "ping"} | {"type": "pong"}:
                pass
            case [first, *others] if others:
                print(first, others)
            case str(text) | bytes(text):
                print(text)
            case int() | float() as number if number > 0:
                print(number)
            case None | True | -1 | 2.5:
                pass
            case _:
                continue
        count()
    return {"handled": handled}
'''

STORED_STEP_CALLS = '''
"""Step calls collected first and awaited later, with loop values bound as defaults."""

async def run(event, step):
    calls = []
    for carrier in event.payload["carriers"]:
        calls.append(step.do(f"quote {carrier}", lambda carrier=carrier: tools.quote(carrier)))
    quotes = await step.gather(*calls)
    pending = step.do("book", lambda ctx: tools.book(quotes[0], ctx.idempotency_key))
    print("booking")
    booking = await pending
    checks = {name: step.do(f"check {name}", lambda name=name: tools.check(name))
              for name in event.payload["names"]}
    results = await step.gather(*checks.values())
    for order_id in event.payload["ids"]:
        await step.do(f"load {order_id}", lambda: tools.orders.get(order_id))

    async def load_and_wait(order_id):
        order = await step.do(f"load {order_id}", lambda: tools.orders.get(order_id))
        await step.sleep(f"settle {order_id}", "1 minute")
        return order

    orders = await step.gather(*[load_and_wait(i) for i in event.payload["ids"]])
    return {"booking": booking, "results": results, "orders": orders}
'''

STEP_FUNCTIONS = '''
"""The decorator form: step functions, called and awaited, with injected parameters."""

async def run(event, step):
    @step.do()
    async def load_order():
        return await tools.orders.get(event.payload["id"])

    @step.do("charge card", retries={"limit": 2})
    async def charge(ctx, load_order):
        return await tools.billing.charge(load_order["total"], ctx.idempotency_key)

    async def call(function):
        return await function()

    receipt = await charge()
    again = await call(load_order)
    return {"receipt": receipt, "order": again}
'''

VALID_PLANS = {
    "spec_example": SPEC_EXAMPLE,
    "match_and_nonlocal": MATCH_AND_NONLOCAL,
    "stored_step_calls": STORED_STEP_CALLS,
    "step_functions": STEP_FUNCTIONS,
    "loops_and_helpers": LOOPS_AND_HELPERS,
    "errors_and_decorator": ERRORS_AND_DECORATOR,
    "names_that_shadow_builtins": NAMES_THAT_SHADOW_BUILTINS,
}


@pytest.mark.parametrize("source", VALID_PLANS.values(), ids=VALID_PLANS.keys())
def test_valid_plan_has_no_diagnostics(source: str) -> None:
    assert validate_plan(source) == []
    granted = {"orders.get", "tickets.open", "billing.charge", "billing.apply",
               "shipping.quote", "quote", "book", "check"}
    assert validate_plan(source, tools=granted) == []


def _gallery_plans() -> list[Path]:
    if not GALLERY.is_dir():
        return []
    return sorted(p for p in GALLERY.glob("*.py")
                  if "async def run(" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", _gallery_plans(), ids=lambda p: p.stem)
def test_gallery_plans_are_valid(path: Path) -> None:
    diagnostics = validate_plan(path.read_text(encoding="utf-8"))
    assert diagnostics == [], [str(d) for d in diagnostics]


def test_readme_plan_is_valid() -> None:
    readme = (GALLERY.parent / "README.md").read_text(encoding="utf-8")
    plans = re.findall(r"PLAN = '''\n(.*?)'''", readme, re.S)
    assert plans, "the README shows a plan"
    for plan in plans:
        assert validate_plan(plan) == [], [str(d) for d in validate_plan(plan)]


def test_parse_and_validate_returns_the_tree() -> None:
    tree, diagnostics = parse_and_validate(SPEC_EXAMPLE)
    assert tree is not None and diagnostics == []
    assert tree.body[0].end_lineno == 2  # type: ignore[attr-defined]  # the docstring
    tree, diagnostics = parse_and_validate("async def run(event, step)\n    pass\n")
    assert tree is None and [d.code for d in diagnostics] == ["ADP100"]
    tree, diagnostics = parse_and_validate("import os\nasync def run(event, step):\n  pass\n")
    assert tree is not None and [d.code for d in diagnostics] == ["ADP201"]


# -- wording ----------------------------------------------------------------------------


def test_wording_is_deterministic() -> None:
    source = (INVALID / "ADP201_import_time.py").read_text(encoding="utf-8") + (
        "\nasync def helper(step):\n    step.do('x', f)\n    return eval('1')\n")
    first = validate_plan(source, tools={"b", "a", "c"})
    again = validate_plan(source, tools=["c", "b", "a", "a"])
    assert [d.model_dump() for d in first] == [d.model_dump() for d in again]
    assert len({d.code for d in first}) == 4  # ADP201, ADP203, ADP401, ADP406
    assert first == sorted(first, key=lambda d: (d.line, d.column, d.code))


@pytest.mark.parametrize(("statement", "fix"), [
    ("import time", "await step.now()"),
    ("from time import time", "await step.now()"),
    ("import random", "await step.random()"),
    ("import uuid", "await step.uuid()"),
    ("from uuid import uuid4", "await step.uuid()"),
])
def test_import_hint_names_the_step_helper(statement: str, fix: str) -> None:
    (error,) = _errors(validate_plan(f"{statement}\nasync def run(event, step):\n  pass\n"))
    assert error.code == "ADP201" and error.line == 1
    assert f"`{statement}` is not allowed in a plan." == error.message
    assert fix in error.hint and error.hint.startswith("Use ")


@pytest.mark.parametrize("module", ["requests", "os", "subprocess", "numpy", "os.path"])
def test_host_modules_hint_asks_for_a_tool(module: str) -> None:
    (error,) = _errors(validate_plan(f"import {module}\nasync def run(event, step):\n  pass\n"))
    assert error.code == "ADP201"
    assert error.hint.startswith("Ask the host for a tool that does this")
    assert "allowed modules: bisect, collections, datetime" in error.hint


def test_wall_clock_hint_names_step_now() -> None:
    source = "from datetime import datetime\nasync def run(event, step):\n  datetime.now()\n"
    (error,) = _errors(validate_plan(source))
    assert error.code == "ADP208" and "await step.now()" in error.hint


def test_hints_list_what_is_allowed() -> None:
    (error,) = _errors(validate_plan("from json import load\n"
                                     "async def run(event, step):\n  pass\n"))
    assert error.code == "ADP202" and error.hint.endswith("JSONDecodeError, dumps, loads.")
    (error,) = _errors(validate_plan("async def run(event, step):\n  await step.later()\n"))
    assert error.code == "ADP402" and "step.wait_for_event" in error.hint
    (error,) = _errors(validate_plan("async def run(event, step):\n"
                                     "  await step.sleep('a', '1 fortnight')\n"))
    assert error.code == "ADP403" and "second|minute|hour|day|week|month|year" in error.hint


# -- rules that need more than one fixture's worth of checking ---------------------------


def test_tool_grants() -> None:
    source = ("async def run(event, step):\n"
              "  await step.do('a', lambda: tools.orders.get(1))\n"
              "  await step.do('b', lambda: tools.payments.refund(1))\n")
    assert _codes(source) == []  # grants unknown: not checked
    assert _codes(source, tools={"orders.get", "payments.refund"}) == []
    assert _codes(source, tools={"orders"}) == ["ADP406", "ADP406"]  # no prefix match
    (error,) = _errors(validate_plan(source, tools={"orders.get", "search"}))
    assert error.line == 3 and "tools.orders.get, tools.search" in error.hint
    (error,) = _errors(validate_plan(source, tools={"payments.refund"}))
    assert error.line == 2
    assert all(e.code == "ADP406" and "no tools" in e.hint
               for e in _errors(validate_plan(source, tools=set())))


def test_tool_calls_belong_in_step_callbacks() -> None:
    source = ("async def run(event, step):\n"
              "  x = [tools.search(q) for q in event.payload['qs']]\n"
              "  async def fetch():\n"
              "    return await tools.search('x')\n"
              "  return await step.do('fetch', fetch)\n")
    assert _codes(source) == ["ADP407"]


def test_step_parameter_may_have_another_name() -> None:
    source = "async def run(ev, s):\n  s.do('x', f)\n  await s.sleep('nap', '1 day')\n"
    assert _codes(source) == ["ADP401"]
    assert _codes("async def run(ev, s):\n  await step.whatever()\n") == []


def test_gather_arguments_and_decorators() -> None:
    head = "async def run(event, step):\n"
    assert _codes(head + "  step.gather(step.do('a', f))\n") == ["ADP401"]
    assert _codes(head + "  await step.gather(*(step.do(str(i), f) for i in x))\n") == []
    assert _codes(head + "  @step.sleep('x', 1)\n  async def f():\n    pass\n") == ["ADP311"]
    assert _codes(head + "  @step.do('x', g)\n  async def f():\n    pass\n") == ["ADP408"]


def test_durations() -> None:
    head = "async def run(event, step):\n  await step.sleep('nap', {})\n"
    for good in ("1", "0", "2.5", "'1 second'", "' 3 Days '", "'1 year'", "'12 months'",
                 "'52 weeks'", "delay", "f'{n} days'", "timedelta(days=400)"):
        assert _codes(head.format(good)) == [], good
    for bad in ("-1", "'10ms'", "''", "'5 fortnights'", "'1.5.2 days'", "'-1 day'",
                "'53 weeks'", "'366 days'", "40000000", "True", "None", "[1]", "'1 sec'"):
        assert _codes(head.format(bad)) == ["ADP403"], bad


def test_step_names() -> None:
    head = "async def run(event, step):\n  await step.sleep({}, 1)\n"
    for good in ("'a'", "'x' * 300", "name", "f'page {i}'", "'é ü 日本'", repr("n" * 256)):
        assert _codes(head.format(good)) == [], good
    for bad in ("''", "'  '", repr("n" * 257), "'a\\tb'", "'a\\x00b'", "5", "None"):
        assert _codes(head.format(bad)) == ["ADP404"], bad


def test_forbidden_names_and_attributes() -> None:
    head = "async def run(event, step):\n  {}\n"
    for source, codes in {
        "x = __builtins__": ["ADP206"],
        "x = __import__": ["ADP203"],
        "x = breakpoint": ["ADP203"],
        "f = getattr": ["ADP204"],
        "t = type": ["ADP205"],
        "x = type('A', (), {})": ["ADP205"],
        "x = type(event)": [],
        "setattr(event, 'note', 1)": [],
        "setattr(event, '_note', 1)": ["ADP204"],
        "x = hasattr(event, name)": ["ADP204"],
        "x = getattr(event, 'format')": ["ADP204"],
        "x = event.payload.format_map({})": ["ADP203"],
        "x = event.mro": ["ADP207"],
        "x = event.__dict__": ["ADP207"],
        "x = printed": [],
        "print = 1": ["ADP309"],
        "x = builtins": ["ADP309"],
        "raise BaseException('x')": ["ADP203"],
        "x = lambda _getattr_=1: 1": ["ADP206"],
        "x = [_item for _item in event.payload]": ["ADP206"],
        "del _x": ["ADP206"],
    }.items():
        assert _codes(head.format(source)) == codes, source


def test_top_level_constants() -> None:
    tail = "\nasync def run(event, step):\n  pass\n"
    for good in ("A = 1", "A = -1.5", "A = (1, 'x')", "A, B = 1, 2", "A = {'k': [1, {2}]}",
                 "A = 2\nB = A * 3", "A = 'x' 'y'", "A = None", "A = abs(-1)",
                 "A = [x * 2 for x in range(3)]", "A = {'k': 1}\nB = {**A}",
                 "from decimal import Decimal\nCENT = Decimal('0.01')",
                 "from datetime import timedelta\nGRACE = timedelta(days=3)"):
        assert _codes(good + tail) == [], good
    for bad in ("A = event.payload", "A = step", "A = tools", "A = print(1)",
                "A.b = 1", "A = 1\nA += 1", "for x in y: pass", "x", "pass"):
        assert _codes(bad + tail) == ["ADP104"], bad


def test_run_shape() -> None:
    assert _codes("async def run(event, step, /):\n  pass\n") == []
    assert _codes("async def run(*args):\n  pass\n") == ["ADP103"]
    assert _codes("async def run(event, *, step):\n  pass\n") == ["ADP103"]
    assert _codes("async def run(event, step, **kw):\n  pass\n") == ["ADP103"]
    assert _codes("def run(event):\n  pass\n") == ["ADP102", "ADP103"]
    assert _codes("run = 1\n") == ["ADP101"]


def test_columns_are_one_based_characters() -> None:
    (error,) = _errors(validate_plan("async def run(event, step):\n    é = 'ü'; x = _y\n"))
    assert (error.line, error.column) == (2, 18)
    (error,) = _errors(validate_plan("async def run(event, step):\n    é = 1; break\n"))
    assert (error.code, error.line, error.column) == ("ADP100", 2, 12)


def test_python_warnings_are_warnings_not_errors() -> None:
    diagnostics = validate_plan("async def run(event, step):\n    return '\\d'\n")
    assert [(d.code, d.severity, d.line) for d in diagnostics] == [("ADP100", "warning", 2)]


# -- limits and hostile input -----------------------------------------------------------


@pytest.mark.parametrize(("source", "code"), [
    ("(" * 100_000 + ")" * 100_000, "ADP501"),
    ("-" * 100_000 + "1", "ADP501"),
    ("x = " + "a." * 100_000 + "b", "ADP501"),
    ("x = " + "1 + " * 100_000 + "1", "ADP501"),
    ("x = " + "[" * 80 + "]" * 80, "ADP501"),
    ("x = 1\n" * 60_000, "ADP501"),
    ("x = " + "9" * 5000, "ADP501"),
    ("".join(" " * i + "if x:\n" for i in range(120)) + " " * 120 + "pass\n", "ADP501"),
    ("async def run(event, step):\n    x = 1\x00\n", "ADP100"),
    ("async def run(event, step):\n    x = '\ud800'\n", "ADP100"),
    ("\ufeffasync def run(event, step):\n    pass\n", None),
    ("", "ADP101"),
    ("async def run(event, step):\n\tx = 1\n        y = 2\n", "ADP100"),
])
def test_hostile_sources_end_as_diagnostics(source: str, code: str | None) -> None:
    tree, diagnostics = parse_and_validate(source)
    assert [d.code for d in _errors(diagnostics)] == ([code] if code else [])
    if code in ("ADP100", "ADP501"):
        assert tree is None


def test_policy_limits_apply() -> None:
    assert _codes(SPEC_EXAMPLE, policy=PlanPolicy(max_source_bytes=100)) == ["ADP501"]
    assert _codes(SPEC_EXAMPLE, policy=PlanPolicy(max_ast_nodes=50)) == ["ADP501"]
    (error,) = _errors(validate_plan(SPEC_EXAMPLE, PlanPolicy(max_nesting=8)))
    assert error.code == "ADP501" and error.line > 4
    narrow = PlanPolicy(modules={"math": frozenset({"pi"})})
    assert _codes("from math import pi\nasync def run(event, step):\n  pass\n",
                  policy=narrow) == []
    assert _codes("import json\nasync def run(event, step):\n  pass\n",
                  policy=narrow) == ["ADP201"]


def test_every_reported_code_is_documented() -> None:
    sources = [path.read_text(encoding="utf-8") for path in FIXTURES]
    codes = {d.code for source in sources for d in validate_plan(source)}
    assert codes <= set(CODES)


# -- step flow: awaiting, callbacks, step functions, closures ----------------------------


def _findings(body: str) -> list[tuple[str, str]]:
    source = "async def run(event, step):\n" + "".join(
        f"    {line}\n" for line in body.splitlines())
    return [(d.code, d.severity) for d in validate_plan(source)]


@pytest.mark.parametrize(("body", "expected"), [
    # ADP401: never awaited, or used as something else than an awaitable
    ("step.do('a', f)", [("ADP401", "error")]),
    ("x = step.do('a', f)", [("ADP401", "error")]),
    ("x = step.do('a', f)\nprint(x)", [("ADP401", "error")]),
    ("x = step.do('a', f)\nreturn x.send", [("ADP401", "error")]),
    ("print(step.sleep('a', 1))", [("ADP401", "error")]),
    ("[step.do(str(i), f) for i in range(3)]", [("ADP401", "error")]),
    ("x = step.do('a', f)\nreturn await x", []),
    ("x = step.do('a', f)\ny = step.do('b', f)\nreturn await step.gather(x, y)", []),
    ("xs = [step.do(str(i), f) for i in range(3)]\nreturn await step.gather(*xs)", []),
    ("xs = []\nxs.append(step.do('a', f))\nfor x in xs:\n    await x", []),
    ("return step.do('a', f)", []),
    ("make = lambda i: step.do(str(i), f)\nreturn await make(1)", []),
    ("x = await (step.do('a', f) if event.payload else step.do('b', f))", []),
    # ADP409: steps inside step callbacks, directly or through a helper
    ("await step.do('a', lambda: step.now())", [("ADP409", "error")]),
    ("async def cb():\n    return await step.sleep('b', 1)\nawait step.do('a', cb)",
     [("ADP409", "error")]),
    ("async def helper():\n    return await step.now()\n"
     "await step.do('a', lambda: helper())", [("ADP409", "error")]),
    ("async def helper():\n    return await step.now()\nawait helper()", []),
    ("@step.do('a')\nasync def a():\n    return await step.gather()\nawait a()",
     [("ADP409", "error")]),
    ("@step.do('a')\nasync def a():\n    return 1\n"
     "@step.do('b')\nasync def b():\n    return await a()\nawait b()",
     [("ADP409", "error")]),
    # ADP410, ADP411, ADP413: step functions
    ("@step.do()\nasync def load():\n    return 1\nreturn await load", [("ADP410", "error")]),
    ("@step.do()\nasync def load():\n    return 1\nreturn await step.gather(load)",
     [("ADP410", "error")]),
    ("@step.do()\nasync def load():\n    return 1\nreturn await step.gather(load())", []),
    ("@step.do()\nasync def load():\n    return 1\nreturn 2", [("ADP411", "warning")]),
    ("@step.do()\nasync def load(order):\n    return 1\nreturn await load()",
     [("ADP413", "warning")]),
    ("@step.do()\nasync def load(order=None, *, ctx):\n    return 1\nreturn await load()",
     []),
    ("@step.do()\nasync def b(a):\n    return 1\n"
     "@step.do()\nasync def a():\n    return 1\nreturn await b()",
     [("ADP413", "warning"), ("ADP411", "warning")]),  # `a` is defined after `b`
    ("@step.do\nasync def load():\n    return 1\nreturn await load()", [("ADP311", "error")]),
    # ADP412: callbacks built in a loop but run after it moved on
    ("xs = []\nfor w in event.payload:\n    xs.append(step.do(w, lambda: tools.f(w)))\n"
     "await step.gather(*xs)", [("ADP412", "warning")]),
    ("await step.gather(*[step.do(w, lambda: tools.f(w)) for w in event.payload])",
     [("ADP412", "warning")]),
    ("xs = []\nfor o in event.payload:\n    oid = o['id']\n"
     "    xs.append(step.do(oid, lambda: tools.f(oid)))\nawait step.gather(*xs)",
     [("ADP412", "warning")]),
    ("xs = []\nfor w in event.payload:\n    def cb():\n        return tools.f(w)\n"
     "    xs.append(step.do(w, cb))\nawait step.gather(*xs)", [("ADP412", "warning")]),
    ("for w in event.payload:\n    await step.do(w, lambda: tools.f(w))", []),
    ("await step.gather(*[step.do(w, lambda w=w: tools.f(w)) for w in event.payload])", []),
    ("await step.gather(*[step.do(w, lambda ctx, w=w: tools.f(w, ctx.idempotency_key))\n"
     "                    for w in event.payload])", []),
    ("await step.gather(*[step.do(w, lambda: tools.f([w for w in 'ab'])) "
     "for w in event.payload])", []),
])
def test_step_flow(body: str, expected: list[tuple[str, str]]) -> None:
    assert _findings(body) == expected


def test_tools_in_helpers_that_run_calls_directly() -> None:
    helper = "async def load(i):\n    return await tools.orders.get(i)\n\n"
    run = "async def run(event, step):\n    {}\n"
    direct = helper + run.format("return await load(1)")
    assert _codes(direct) == ["ADP407"]
    (error,) = _errors(validate_plan(direct))
    assert error.line == 2 and "`load` is called directly (line 5)" in error.message
    gathered = helper + run.format("return await step.gather(load(1), load(2))")
    assert _codes(gathered) == ["ADP407"]  # one report per tool call, at the tool call
    nested = (helper + "async def outer():\n    return await load(1)\n\n"
              + run.format("return await outer()"))
    assert _codes(nested) == ["ADP407"]
    for fine in ("return await step.do('load', lambda: load(1))",
                 "return await step.do('load', load)",
                 "return 1"):
        assert _codes(helper + run.format(fine)) == [], fine


def test_finally_exits() -> None:
    head = "async def run(event, step):\n"
    (error,) = _errors(validate_plan(
        head + "    for i in range(3):\n        try:\n            pass\n"
               "        finally:\n            continue\n"))
    assert (error.code, error.line, error.column) == ("ADP312", 6, 13)
    assert "`continue`" in error.message and "PEP 765" in error.message
    assert _codes(head + "    try:\n        pass\n    finally:\n"
                         "        while True:\n            break\n") == []


def test_match_and_nonlocal_placement() -> None:
    assert _codes("match 1:\n    case _:\n        pass\n"
                  "async def run(event, step):\n    pass\n") == ["ADP104"]
    assert _codes("async def run(event, step):\n    nonlocal x\n") == ["ADP100"]
    assert _codes("async def run(event, step):\n    match event.payload:\n"
                  "        case _getattr_:\n            pass\n") == ["ADP206"]
    source = ("async def run(event, step):\n    str = 1\n    match event.payload:\n"
              "        case str():\n            pass\n")
    (error,) = _errors(validate_plan(source))
    assert error.code == "ADP313" and "a name this plan assigns" in error.message
