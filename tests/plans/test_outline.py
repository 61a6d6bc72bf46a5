"""The static outline: every step call with its kind, literal name (or "dynamic") and line."""

from __future__ import annotations

import ast
import json

import pytest
from pydantic import ValidationError

from agents_durable.plans._outline import OutlineEntry, extract_outline


def _outline(source: str) -> list[tuple[str, str, int]]:
    return [(e.kind, e.label, e.line) for e in extract_outline(ast.parse(source))]


def test_spec_example_outline() -> None:
    source = '''"""Follow up on an order."""

async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["id"]))
    await step.sleep("let the courier work", "2 days")
    try:
        reply = await step.wait_for_event("customer reply", type="delivery-confirmed",
                                          timeout="5 days")
    except EventTimeout:
        await step.do("escalate", lambda: tools.tickets.open(order["id"], "none"))
        return {"confirmed": False}
    return {"confirmed": True}
'''
    assert _outline(source) == [
        ("do", "load order", 4),
        ("sleep", "let the courier work", 5),
        ("wait_for_event", "customer reply", 7),
        ("do", "escalate", 10),
    ]


def test_dynamic_names_and_nameless_kinds() -> None:
    source = '''
async def run(event, step):
    started = await step.now()
    for i in range(3):
        await step.do(f"page {i}", lambda: tools.pages.get(i))
    name = "wait"
    await step.sleep_until(name, event.payload["when"])
    await step.sleep(name="keyword name", duration=5)
    return [await step.random(), await step.uuid(), started]
'''
    entries = extract_outline(ast.parse(source))
    assert [(e.kind, e.name, e.label, e.line) for e in entries] == [
        ("now", None, "dynamic", 3),
        ("do", None, "dynamic", 5),
        ("sleep_until", None, "dynamic", 7),
        ("sleep", "keyword name", "keyword name", 8),
        ("random", None, "dynamic", 9),
        ("uuid", None, "dynamic", 9),
    ]


def test_decorator_form_and_gather_in_source_order() -> None:
    source = '''
async def run(event, step):
    @step.do("charge card")
    async def charge():
        return await tools.billing.charge(event.payload["id"])

    receipt = await charge()
    quotes = await step.gather(
        step.do("quote a", lambda: tools.shipping.quote("a")),
        step.do("quote b", lambda: tools.shipping.quote("b")),
    )
    return [receipt, quotes]
'''
    assert _outline(source) == [
        ("do", "charge card", 3),
        ("gather", "dynamic", 8),
        ("do", "quote a", 9),
        ("do", "quote b", 10),
    ]


def test_helpers_and_renamed_step_parameter() -> None:
    source = '''
async def load(s, order_id):
    return await s.do("load", lambda: tools.orders.get(order_id))

async def run(ev, s):
    await step.do("not the step object", f)
    await s.sleep("nap", 1)
    return await load(s, 1)
'''
    assert _outline(source) == [("do", "load", 3), ("sleep", "nap", 7)]


def test_unknown_methods_and_other_objects_are_not_steps() -> None:
    source = '''
async def run(event, step):
    await step.retry("x", f)
    await other.do("y", f)
    await step.do.extra("z")
'''
    assert _outline(source) == []
    assert extract_outline(ast.parse("")) == []
    assert _outline("x = step.do('top level', f)\n") == [("do", "top level", 1)]


def test_entry_is_frozen_and_round_trips_as_json() -> None:
    entry = OutlineEntry(kind="do", name="load order", line=4)
    with pytest.raises(ValidationError):
        entry.name = "other"  # type: ignore[misc]
    data = json.loads(json.dumps([entry.model_dump()]))
    assert [OutlineEntry(**item) for item in data] == [entry]
    assert OutlineEntry(kind="now", line=2).label == "dynamic"


def test_a_nameless_step_decorator_takes_the_function_name() -> None:
    source = '''
async def run(event, step):
    @step.do()
    async def load_order():
        return 1

    @step.do("charge card")
    async def charge(ctx, load_order):
        return 2

    return await charge()
'''
    assert _outline(source) == [("do", "load_order", 3), ("do", "charge card", 7)]
