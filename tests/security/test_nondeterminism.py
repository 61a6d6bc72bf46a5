"""Category 10, nondeterminism: wall clock, randomness, ids and hash order outside steps.
The validator steers plans to ``step.now/random/uuid``; the runtime offers no clock or
entropy at all; divergence detection catches a plan whose step order changes.
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock
from tests.security.conftest import assert_output, assert_rejected, assert_stopped, run

pytestmark = pytest.mark.anyio


def _plan(body: str, imports: str = "") -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"{imports}\nasync def run(event, step):\n{lines}\n"


@pytest.mark.parametrize(("source", "code"), [
    (_plan("return str(datetime.datetime.now())", "import datetime"), "ADP208"),
    (_plan("return str(date.today())", "from datetime import date"), "ADP208"),
    (_plan("return str(datetime.datetime.utcnow())", "import datetime"), "ADP208"),
    (_plan("return time.time()", "import time"), "ADP201"),
    (_plan("return uuid.uuid4().hex", "import uuid"), "ADP201"),
    (_plan("return secrets.token_hex()", "import secrets"), "ADP201"),
    (_plan("return hash('a')"), "ADP203"),
    (_plan("return id(event)"), "ADP203"),
])
def test_nondeterministic_sources_are_rejected(source: str, code: str) -> None:
    assert_rejected(source, code)


@pytest.mark.parametrize("body", [
    'name = "n" + "ow"\nreturn str(getattr(datetime.datetime, name)())',
    'name = "to" + "day"\nreturn str(getattr(datetime.date, name)())',
])
async def test_clock_reads_are_closed_at_run_time(engine: ad.Engine, unvalidated: None,
                                                  body: str) -> None:
    await assert_stopped(engine, _plan(body, "import datetime"), "PlanAccessError")


@pytest.mark.parametrize("name", ["hash", "id"])
async def test_hash_and_id_are_absent_at_run_time(engine: ad.Engine, unvalidated: None,
                                                  name: str) -> None:
    await assert_stopped(engine, _plan(f"return {name}('a')"), "NameError")


async def test_step_names_from_recorded_ids_replay_exactly(engine: ad.Engine,
                                                           clock: FakeClock) -> None:
    # A step named from step.uuid() looks nondeterministic but is not: the id is recorded,
    # so the replay after the sleep asks for the same step and gets the recorded result
    # (the tool, which answers differently each call, is not called again).
    flips = iter(["a", "b", "b", "b"])
    engine.tools.register("flip", lambda: next(flips))
    source = _plan('async def pick():\n    return await tools.flip()\n'
                   'which = await step.do(await step.uuid(), pick)\n'
                   'await step.sleep("nap", "1 hour")\nreturn which')
    scope = engine.agent("attacker", tools=["flip"])
    await scope.register_plan("diverge", source)
    instance = await scope.create("diverge")
    await clock.advance("2 hours")
    status = await instance.wait(timeout=20)
    assert status.status == "complete"  # uuid is recorded: the step name replays exactly


async def test_benign_recorded_time_and_ids_replay_identically(engine: ad.Engine,
                                                               clock: FakeClock) -> None:
    source = _plan('now = await step.now()\nid = await step.uuid()\n'
                   'await step.sleep("nap", "1 hour")\n'
                   'return [now.isoformat(), id, (await step.now()) > now]')
    scope = engine.agent("attacker")
    await scope.register_plan("clocky", source)
    instance = await scope.create("clocky")
    await clock.advance("2 hours")
    status = await instance.wait(timeout=20)
    assert status.status == "complete"
    history = await instance.history()
    recorded_uuid = next(s.result for s in history.steps if s.kind == "uuid")
    assert status.output[1] == recorded_uuid and status.output[2] is True


async def test_set_iteration_is_deterministic_within_the_engine(engine: ad.Engine) -> None:
    # String hashes are randomised per process, not per activation: set order cannot
    # change between the activations of one engine. Sorting is the portable habit.
    await assert_output(engine, _plan('return sorted({"b", "a", "c"})'), ["a", "b", "c"])
    status = await run(engine, _plan('return list({"b", "a", "c"})'))
    assert sorted(status.output) == ["a", "b", "c"]
