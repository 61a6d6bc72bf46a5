"""The step API, row by row of SPEC 2.2, through the public API with a fake clock."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock
from tests.conftest import run_plan

pytestmark = pytest.mark.anyio


class Recorder:
    """A host tool that records each call and the fake time it happened at."""

    def __init__(self, clock: FakeClock, fail_times: int = 0, error: type = RuntimeError):
        self.clock = clock
        self.calls: list[float] = []
        self.fail_times = fail_times
        self.error = error

    def __call__(self, value: Any = None) -> Any:
        self.calls.append(self.clock.now())
        if len(self.calls) <= self.fail_times:
            raise self.error(f"failure {len(self.calls)}")
        return {"value": value, "call": len(self.calls)}


async def start(engine: ad.Engine, source: str, params: Any = None, *, tools: tuple = (),
                id: str = "i1") -> ad.Instance:
    agent = engine.agent("agent-a", tools=tools)
    await agent.register_plan("plan", source)
    return await agent.create("plan", params, id=id)


async def test_do_persists_result_and_replay_does_not_call_again(engine, clock) -> None:
    recorder = Recorder(clock)
    engine.tools.register("rec", recorder)
    instance = await start(engine, '''
async def run(event, step):
    first = await step.do("call", lambda: tools.rec(1))
    await step.sleep("nap", "1 hour")
    return first
''', tools=("rec",))
    await clock.advance("2 hours")
    status = await instance.wait(timeout=10)
    assert status.output == {"value": 1, "call": 1}
    assert len(recorder.calls) == 1  # the second activation replayed it from the journal


@pytest.mark.parametrize(("backoff", "delays"), [
    ("exponential", [10, 20, 40]),
    ("linear", [10, 20, 30]),
    ("constant", [10, 10, 10]),
])
async def test_retry_delays_per_backoff(engine, clock, backoff, delays) -> None:
    recorder = Recorder(clock, fail_times=3)
    engine.tools.register("flaky", recorder)
    instance = await start(engine, f'''
async def run(event, step):
    return await step.do("flaky", lambda: tools.flaky(), retries={{"limit": 3,
                         "delay": "10 seconds", "backoff": "{backoff}"}})
''', tools=("flaky",))
    await clock.advance("10 minutes")
    status = await instance.wait(timeout=10)
    assert status.status == "complete"
    assert status.output == {"value": None, "call": 4}
    gaps = [b - a for a, b in zip(recorder.calls, recorder.calls[1:], strict=False)]
    assert gaps == delays
    history = await instance.history()
    assert history.steps[0].attempts == 4
    assert [a["attempt"] for a in history.steps[0].attempt_log] == [1, 2, 3, 4]


async def test_default_retries_are_five_with_exponential_ten_seconds(engine, clock) -> None:
    recorder = Recorder(clock, fail_times=100)
    engine.tools.register("broken", recorder)
    instance = await start(engine, '''
async def run(event, step):
    return await step.do("broken", lambda: tools.broken())
''', tools=("broken",))
    await clock.advance("1 hour")
    status = await instance.wait(timeout=10)
    assert len(recorder.calls) == 6
    gaps = [b - a for a, b in zip(recorder.calls, recorder.calls[1:], strict=False)]
    assert gaps == [10, 20, 40, 80, 160]
    assert status.status == "errored"
    assert status.error.name == "StepFailed"
    assert "ToolError" in status.error.message and "failure 6" in status.error.message
    assert status.error.step == "broken"


async def test_non_retryable_error_stops_at_once(engine, clock) -> None:
    recorder = Recorder(clock, fail_times=10, error=ad.NonRetryableError)
    engine.tools.register("refuses", recorder)
    status = await run_plan(engine, '''
async def run(event, step):
    try:
        await step.do("refuse", lambda: tools.refuses())
    except StepFailed as failure:
        return {"cause": failure.cause, "attempts": failure.attempts}
''', tools=("refuses",))
    assert status.output == {"cause": "NonRetryableError", "attempts": 1}
    assert len(recorder.calls) == 1


async def test_plan_raised_non_retryable_error_in_callback(engine) -> None:
    status = await run_plan(engine, '''
def check():
    raise NonRetryableError("bad input")

async def run(event, step):
    try:
        await step.do("check", check)
    except StepFailed as failure:
        return [failure.step, failure.cause, failure.message]
''')
    assert status.output == ["check", "NonRetryableError", "bad input"]


async def test_timed_out_attempt_is_retried(engine, clock) -> None:
    attempts: list[int] = []

    async def hangs_first(attempt: int) -> str:
        attempts.append(attempt)
        if attempt == 1:
            await anyio.sleep_forever()
        return "done"

    engine.tools.register("slow", hangs_first)
    instance = await start(engine, '''
async def run(event, step):
    async def call(ctx):
        return await tools.slow(ctx.attempt)
    return await step.do("slow", call, timeout="5 seconds",
                         retries={"limit": 2, "delay": "1 second"})
''', tools=("slow",))
    await clock.advance("1 minute")
    status = await instance.wait(timeout=10)
    assert status.output == "done"
    assert attempts == [1, 2]
    history = await instance.history()
    assert "TimeoutError" in history.steps[0].attempt_log[0]["error"]


async def test_step_failed_caught_and_identical_on_replay(engine, clock) -> None:
    engine.tools.register("broken", Recorder(clock, fail_times=100))
    instance = await start(engine, '''
async def run(event, step):
    try:
        await step.do("broken", lambda: tools.broken(), retries={"limit": 0})
    except StepFailed as failure:
        first = [failure.step, failure.cause, failure.message, failure.attempts]
    await step.sleep("after", "1 day")
    return first
''', tools=("broken",))
    await clock.advance("2 days")
    status = await instance.wait(timeout=10)
    assert status.output == ["broken", "ToolError",
                             "tools.broken failed: RuntimeError: failure 1", 1]


async def test_step_context_has_attempt_and_idempotency_key(engine, clock) -> None:
    status = await run_plan(engine, '''
async def run(event, step):
    seen = []
    for i in range(2):
        seen.append(await step.do("ctx", lambda c: [c.name, c.occurrence, c.attempt,
                                                     c.idempotency_key]))
    return seen
''', id="order-7")
    (first, second) = status.output
    assert first[:3] == ["ctx", 1, 1] and second[:3] == ["ctx", 2, 1]
    # <instance>/<name>/<occurrence>-<digest of agent, instance, branch, name, occurrence>
    assert first[3].startswith("order-7/ctx/1-") and second[3].startswith("order-7/ctx/2-")
    assert first[3] != second[3]


async def test_decorator_form(engine) -> None:
    status = await run_plan(engine, '''
async def run(event, step):
    @step.do("double")
    async def double():
        return event.payload["x"] * 2
    return await double()
''', {"x": 21})
    assert status.output == 42


async def test_sleep_suspends_and_wakes_after_due_time(engine, clock) -> None:
    instance = await start(engine, '''
async def run(event, step):
    await step.sleep("wait", "2 days")
    return "awake"
''')
    await clock.advance("1 day")
    assert (await instance.status()).status == "waiting"
    await clock.advance("1 day")
    assert (await instance.wait(timeout=5)).output == "awake"


async def test_sleep_until_in_the_past_completes_at_once(engine, clock) -> None:
    status = await run_plan(engine, '''
async def run(event, step):
    await step.sleep_until("long ago", "2001-01-01T00:00:00+00:00")
    return "done"
''')
    assert status.output == "done"


async def test_sleep_until_absolute_target(engine, clock) -> None:
    target = clock.now() + 3 * 86400
    instance = await start(engine, f'''
async def run(event, step):
    await step.sleep_until("target", {target})
    return (await step.now()).isoformat()
''')
    await clock.advance("2 days")
    assert (await instance.status()).status == "waiting"
    await clock.advance("2 days")
    status = await instance.wait(timeout=5)
    assert status.status == "complete"


async def test_event_sent_before_the_wait_is_delivered(engine, clock) -> None:
    instance = await start(engine, '''
async def run(event, step):
    await step.sleep("first", "1 hour")
    reply = await step.wait_for_event("reply", type="go")
    return reply["payload"]
''')
    await clock.settle()
    await instance.send_event("go", {"n": 1})
    await clock.advance("2 hours")
    assert (await instance.wait(timeout=5)).output == {"n": 1}


async def test_events_are_fifo_per_type_and_match_filters(engine, clock) -> None:
    instance = await start(engine, '''
async def run(event, step):
    await step.sleep("first", "1 hour")
    b = await step.wait_for_event("b", type="reply", match={"order": 2})
    a = await step.wait_for_event("a", type="reply")
    c = await step.wait_for_event("c", type="reply")
    return [a["payload"], b["payload"], c["payload"]]
''')
    await clock.settle()
    for payload in ({"order": 1}, {"order": 2}, {"order": 3}):
        await instance.send_event("reply", payload)
    await instance.send_event("other", {"order": 2})
    await clock.advance("2 hours")
    status = await instance.wait(timeout=5)
    assert status.output == [{"order": 1}, {"order": 2}, {"order": 3}]


async def test_wait_timeout_raises_event_timeout_persisted(engine, clock) -> None:
    instance = await start(engine, '''
async def run(event, step):
    try:
        await step.wait_for_event("reply", type="go", timeout="5 days")
    except EventTimeout as timeout:
        await step.sleep("after", "1 hour")
        return [timeout.step, timeout.type]
''')
    await clock.advance("4 days")
    assert (await instance.status()).status == "waiting"
    await clock.advance("2 days")
    status = await instance.wait(timeout=5)
    assert status.output == ["reply", "go"]


async def test_event_wakes_a_waiting_instance(engine, clock) -> None:
    instance = await start(engine, '''
async def run(event, step):
    reply = await step.wait_for_event("reply", type="approved", timeout="7 days")
    return reply["payload"]["by"]
''')
    await clock.settle()
    assert (await instance.status()).status == "waiting"
    await instance.send_event("approved", {"by": "ada"})
    assert (await instance.wait(timeout=5)).output == "ada"


async def test_now_random_uuid_are_recorded(engine, clock) -> None:
    instance = await start(engine, '''
async def run(event, step):
    values = [(await step.now()).isoformat(), await step.random(), await step.uuid()]
    await step.sleep("nap", "1 day")
    again = [(await step.now()).isoformat(), await step.random(), await step.uuid()]
    return [values, again]
''')
    await clock.advance("2 days")
    status = await instance.wait(timeout=5)
    first, second = status.output
    assert first[0] == "2026-01-01T00:00:00+00:00"
    assert 0 <= first[1] < 1 and len(first[2]) == 36
    history = await instance.history()
    recorded = [s.result for s in history.steps if s.kind in ("now", "random", "uuid")]
    assert recorded[1:3] == first[1:]  # replay returned the recorded values
    assert second[0] == "2026-01-02T00:00:00+00:00"


async def test_gather_runs_concurrently_in_argument_order(engine, clock) -> None:
    order: list[str] = []

    async def fetch(name: str, delay: float) -> str:
        await anyio.sleep(delay)
        order.append(name)
        return name.upper()

    engine.tools.register("fetch", fetch)
    status = await run_plan(engine, '''
async def run(event, step):
    return await step.gather(
        step.do("slow", lambda: tools.fetch("slow", 0.05)),
        step.do("fast", lambda: tools.fetch("fast", 0.0)),
    )
''', tools=("fetch",))
    assert status.output == ["SLOW", "FAST"]
    assert order == ["fast", "slow"]


async def test_gather_with_a_sleep_resumes_after_it(engine, clock) -> None:
    instance = await start(engine, '''
async def run(event, step):
    results = await step.gather(step.do("a", lambda: 1), step.sleep("s", "1 hour"),
                                step.do("b", lambda: 2))
    return results
''')
    await clock.advance("2 hours")
    assert (await instance.wait(timeout=5)).output == [1, None, 2]


async def test_non_json_result_fails_the_step_clearly(engine) -> None:
    status = await run_plan(engine, '''
async def run(event, step):
    return await step.do("bad", lambda: {1, 2})
''')
    assert status.status == "errored"
    assert status.error.name == "StepFailed"
    assert "JSON" in status.error.message


async def test_oversized_result_is_a_limit(engine) -> None:
    status = await run_plan(engine, '''
async def run(event, step):
    # 20 strings of 60,000 characters: within the sandbox's size budget, over 1 MiB as JSON
    return await step.do("big", lambda: ["x" * 60000 for _ in range(20)])
''')
    assert status.status == "errored"
    assert status.error.name == "LimitExceeded"


async def test_sleep_longer_than_a_year_is_a_limit(engine) -> None:
    status = await run_plan(engine, '''
async def run(event, step):
    await step.sleep("forever", event.payload["days"] * 86400)
''', {"days": 400})
    assert status.error.name == "LimitExceeded"


async def test_unknown_duration_unit_is_an_error_at_run_time(engine) -> None:
    status = await run_plan(engine, '''
async def run(event, step):
    unit = "fortnights"
    await step.sleep("odd", f"3 {unit}")
''')
    assert status.error.name == "InvalidDuration"
    assert "fortnights" in status.error.message


async def test_tool_outside_a_step_is_refused(engine) -> None:
    engine.tools.register("rec", lambda: 1)
    status = await run_plan(engine, '''
async def run(event, step):
    helper = lambda: tools.rec()
    return helper()
''', tools=("rec",))
    assert status.error.name == "ToolUsageError"
    assert "outside a step" in status.error.message


async def test_unawaited_step_fails_the_instance(engine) -> None:
    status = await run_plan(engine, '''
async def run(event, step):
    start = step.do  # hides the call from the validator's ADP401 check
    pending = [start("forgotten", lambda: 1)]
    return len(pending)
''')
    assert status.error.name == "PlanRuntimeError"
    assert "never awaited" in status.error.message


async def test_divergence_is_nondeterminism(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "engine.db"
    async with ad.Engine.open(path, clock=clock) as engine:
        instance = await start(engine, '''
async def run(event, step):
    await step.do("charge card", lambda: 1)
    await step.sleep("nap", "1 hour")
    return "done"
''')
        await clock.settle()
    with sqlite3.connect(path) as db:  # a journal written by other code
        db.execute("UPDATE steps SET name = 'refund card' WHERE seq = 0")
    async with ad.Engine.open(path, clock=clock) as engine:
        await clock.advance("2 hours")
        status = await (await engine.agent("agent-a").get(instance.id)).wait(timeout=5)
    assert status.status == "errored"
    assert status.error.name == "NondeterminismError"
    assert "refund card" in status.error.message and "charge card" in status.error.message


async def test_print_is_captured_once_across_replays(engine, clock) -> None:
    instance = await start(engine, '''
async def run(event, step):
    print("before")
    await step.sleep("nap", "1 hour")
    print("after", 1)
    return None
''')
    await clock.advance("2 hours")
    await instance.wait(timeout=5)
    history = await instance.history()
    assert [log.line for log in history.logs] == ["before", "after 1"]
