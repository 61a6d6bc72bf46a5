"""The acceptance corpus: every blind plan against its task, and the harness itself.

``test_plan`` runs each task that has a plan under ``plans/`` through the runner (fresh
SQLite file, fake clock, a new engine after every suspension) and expects ``ok``. Plans
listed in ``known_failures.txt`` are strict expected failures: one that starts passing
fails the test until its line is removed.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

import agents_durable as ad
from agents_durable.engine._durations import parse_duration
from tests.corpus.render_brief import CLOSING, render_brief
from tests.corpus.runner import CORPUS, PLANS, load_task, plan_path, run_task, task_names

pytestmark = pytest.mark.anyio

SELFTEST = CORPUS / "selftest"
SELFTEST_TASK = "delivery_confirmation"
STATUSES = {"queued", "running", "waiting", "waiting_for_pause", "paused", "complete",
            "errored", "terminated"}


def known_failures() -> dict[str, str]:
    """``known_failures.txt``: task name -> why its plan does not pass yet."""
    entries = {}
    for line in (CORPUS / "known_failures.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, why = line.partition(" ")
            entries[name] = why.strip()
    return entries


def planned_tasks() -> list[str]:
    return [name for name in task_names() if plan_path(name).exists()]


# -- the blind plans -----------------------------------------------------------------------


@pytest.mark.parametrize("name", planned_tasks())
async def test_plan(name: str, tmp_path: Path) -> None:
    outcome = await run_task(name, plan_path(name).read_text(encoding="utf-8"),
                             tmp_path / "corpus.db")
    known = known_failures()
    if name in known:
        if outcome.outcome == "ok":
            pytest.fail(f"{name} passes now: remove it from known_failures.txt")
        pytest.xfail(f"{known[name]} [{outcome.outcome}: {outcome.summary()[:200]}]")
    assert outcome.outcome == "ok", f"{outcome.outcome}: {outcome.summary()}"


def test_known_failures_name_planned_tasks() -> None:
    planned = set(planned_tasks())
    for name, why in known_failures().items():
        assert name in planned, f"known_failures.txt lists {name!r}, which has no plan"
        assert why, f"known_failures.txt: say in one line why {name!r} fails"


# -- the tasks are well formed -------------------------------------------------------------


def test_there_are_84_tasks() -> None:
    assert len(task_names()) == 84, task_names()


def test_plans_directory_holds_only_task_plans() -> None:
    stray = {p.stem for p in PLANS.glob("*.py")} - set(task_names())
    assert not stray, f"plans without a task: {sorted(stray)}"


def _check_tool(name: str, fn: Any, task_text: str) -> None:
    parts = name.split(".")
    assert len(parts) >= 2 and all(p.isidentifier() for p in parts), name
    assert inspect.getdoc(fn), f"tool {name} needs a docstring: the plan author reads it"
    signature = inspect.signature(fn, eval_str=True)
    assert signature.return_annotation is not inspect.Signature.empty, name
    for param in signature.parameters.values():
        assert param.annotation is not inspect.Parameter.empty, (name, param.name)
    assert f"`{name}(" in task_text, f"the task text must name tool {name} as `{name}(...)`"


@pytest.mark.parametrize("name", task_names())
def test_task_is_well_formed(name: str) -> None:
    task = load_task(name)
    assert isinstance(task.TASK, str) and len(task.TASK) > 200, "TASK: the request text"
    assert "Params" in task.TASK and "Return" in task.TASK, "TASK: params and output shape"
    tools, state = task.make_tools()
    again, other_state = task.make_tools()
    assert tools and set(tools) == set(again), "make_tools: the same tools every time"
    assert state is not other_state, "make_tools: a fresh state per run"
    for tool_name, fn in tools.items():
        _check_tool(tool_name, fn, task.TASK)
    assert json.loads(json.dumps(task.PARAMS)) == task.PARAMS, "PARAMS: JSON data"
    for action in task.SCENARIO:
        if action[0] == "advance":
            assert parse_duration(action[1]) > 0, action
        elif action[0] == "event":
            _, event_type, payload = action
            assert isinstance(event_type, str) and event_type in task.TASK, action
            assert json.loads(json.dumps(payload)) == payload, action
        elif action[0] == "expect_status":
            assert action[1] in STATUSES, action
        else:
            assert action[0] == "probe" and callable(action[1]), action
    assert list(inspect.signature(task.check).parameters) == ["output", "state"]
    with pytest.raises(AssertionError):  # a check that cannot fail checks nothing
        task.check({"unexpected": True}, state)


async def test_brief_is_instructions_plus_task_and_nothing_else() -> None:
    task = load_task(SELFTEST_TASK)
    brief = await render_brief(SELFTEST_TASK)
    head, marker, tail = brief.partition("\n## Your task\n")
    assert marker and tail.strip() == f"{task.TASK.strip()}\n\n{CLOSING}"
    assert "# Writing durable plans" in head and "tools.orders.get(order_id: str) -> dict" in head
    for leak in ("def check", "SCENARIO", "at the neighbour's", "ORD-99", "make_tools"):
        assert leak not in brief, leak


# -- the runner classifies outcomes --------------------------------------------------------


async def test_runner_passes_the_reference_plan(tmp_path: Path) -> None:
    source = (SELFTEST / f"{SELFTEST_TASK}.py").read_text(encoding="utf-8")
    outcome = await run_task(SELFTEST_TASK, source, tmp_path / "corpus.db")
    assert outcome.outcome == "ok", outcome.summary()
    assert outcome.reopens >= 4, "the runner must replay on a new engine after each wake-up"


REJECTED = '''
"""Reads the clock directly."""
import time


async def run(event, step):
    return {"now": time.time()}
'''

ERRORED = '''
"""Fails on purpose after the first step."""


async def run(event, step):
    await step.do("load order", lambda: tools.orders.get(event.payload["order_id"]))
    raise ValueError("no idea what to do next")
'''

WRONG = '''
"""Never waits: claims the order was confirmed."""


async def run(event, step):
    return {"order_id": event.payload["order_id"], "confirmed": True, "reminded": False,
            "note": None, "ticket_id": None}
'''

# Effects outside a committed step would repeat on replay; this plan opens its ticket
# in a step, but a second time after the wait: the check counts effects, not steps.
DOUBLE_EFFECT = '''
"""Emails the customer twice."""


async def run(event, step):
    order = await step.do("load", lambda: tools.orders.get(event.payload["order_id"]))
    await step.do("mail 1", lambda: tools.email.send(order["email"], "a", "b"))
    await step.do("mail 2", lambda: tools.email.send(order["email"], "a", "b"))
    reply = await step.wait_for_event("c", type="delivery-confirmed", timeout="10 days",
                                      match={"order_id": event.payload["order_id"]})
    return {"order_id": event.payload["order_id"], "confirmed": True, "reminded": True,
            "note": reply["payload"]["note"], "ticket_id": None}
'''


@pytest.mark.parametrize(("source", "expected", "text"), [
    (REJECTED, "rejected", "ADP201"),
    (ERRORED, "errored", "no idea what to do next"),
    (WRONG, "wrong", "check failed"),
    (DOUBLE_EFFECT, "wrong", "check failed"),
], ids=["rejected", "errored", "wrong", "double-effect"])
async def test_runner_classifies(tmp_path: Path, source: str, expected: str,
                                 text: str) -> None:
    outcome = await run_task(SELFTEST_TASK, source, tmp_path / "corpus.db")
    assert outcome.outcome == expected, outcome
    assert text in outcome.summary(), outcome.summary()


BUSY = '''
"""Wakes up every second, forever."""


async def run(event, step):
    while True:
        await step.sleep("tick", 1)
'''


async def test_runner_stops_a_plan_that_wakes_too_often(tmp_path: Path) -> None:
    outcome = await run_task(SELFTEST_TASK, BUSY, tmp_path / "corpus.db", budget=1.0)
    assert outcome.outcome == "wrong", outcome
    assert "the run took more than 1 s of real time" in outcome.summary()


async def test_reopened_engine_sees_the_same_instance(tmp_path: Path) -> None:
    """The database the runner used holds the finished instance: nothing was in memory."""
    source = (SELFTEST / f"{SELFTEST_TASK}.py").read_text(encoding="utf-8")
    db = tmp_path / "corpus.db"
    await run_task(SELFTEST_TASK, source, db)
    async with ad.Engine.open(db, worker=False) as engine:
        rows = await engine.agent("corpus-agent").list()
        assert [(r.id, r.status) for r in rows.items] == [("corpus-run", "complete")]
