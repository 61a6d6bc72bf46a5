"""The Python a model naturally writes runs as written (issue: plans as models write them).

Late-binding lambdas, the Cloudflare-style decorator form, errors that name the plan line,
and deterministic failures that are not retried.
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

from ..conftest import run_plan

pytestmark = pytest.mark.anyio


def _echo(value: object) -> object:
    return value


async def test_default_argument_lambda_gets_its_value_not_the_context(engine) -> None:
    engine.tools.register("echo", _echo)
    status = await run_plan(engine, '''
async def run(event, step):
    out = []
    for w in ["a", "b"]:
        out.append(await step.do(f"send {w}", lambda w=w: tools.echo(w)))
    out.extend(await step.gather(
        *[step.do(f"g {w}", lambda w=w: tools.echo(w + "!")) for w in ["x", "y"]]))
    return out
''', tools=("echo",))
    assert status.status == "complete", status.error
    assert status.output == ["a", "b", "x!", "y!"]


async def test_a_required_first_parameter_gets_the_context(engine) -> None:
    status = await run_plan(engine, '''
async def run(event, step):
    def with_ctx(ctx, suffix="!"):
        return ctx.name + suffix
    return [await step.do("named", with_ctx), await step.do("plain", lambda *args: len(args))]
''')
    assert status.output == ["named!", 0]


DECORATED = '''
async def run(event, step):
    @step.do("load order")
    async def load():
        return {"id": event.payload["id"], "total": 30}

    @step.do("price")
    async def price(load):  # receives the result of the step function `load`
        return load["total"] * 2

    @step.do("stamp")
    def stamp(ctx):
        return ctx.name

    order = await load()
    doubled = await price()
    return [order["id"], doubled, await stamp()]
'''


async def test_decorator_form_matches_cloudflare(engine) -> None:
    status = await run_plan(engine, DECORATED, {"id": 7})
    assert status.status == "complete", status.error
    assert status.output == [7, 60, "stamp"]
    history = await (await engine.agent("agent-a").get(status.id)).history()
    assert [s.name for s in history.steps] == ["load order", "price", "stamp"]


async def test_decorated_steps_replay_and_gather(tmp_path) -> None:
    clock = FakeClock()
    calls: list[int] = []
    source = '''
async def run(event, step):
    @step.do("fetch")
    async def fetch(n):
        return await tools.count(n)

    first = await step.gather(fetch(1), fetch(2))
    await step.sleep("pause", "1 hour")
    return first + [await fetch(3)]
'''
    async with ad.Engine.open(tmp_path / "d.db", clock=clock) as engine:
        engine.tools.register("count", lambda n: calls.append(n) or n * 10)
        agent = engine.agent("a", tools=["count"])
        await agent.register_plan("p", source)
        inst = await agent.create("p")
        await clock.advance("1 hour")
        final = await inst.wait(timeout=20)
    assert final.status == "complete", final.error
    assert final.output == [10, 20, 30]
    assert sorted(calls) == [1, 2, 3]


async def test_awaiting_a_step_function_without_calling_it_says_how(engine,
                                                                    monkeypatch) -> None:
    import ast

    from agents_durable.plans import _compile

    monkeypatch.setattr(_compile, "parse_and_validate",
                        lambda source, policy=None, *, tools=None: (ast.parse(source), []))
    status = await run_plan(engine, '''
async def run(event, step):
    @step.do("load")
    async def load():
        return 1
    return await load
''')
    assert status.status == "errored"
    assert "await load()" in status.error.message


async def test_runtime_errors_name_the_plan_line(engine) -> None:
    status = await run_plan(engine, '''
async def run(event, step):
    invoice = await step.do("load invoice", lambda: {"total": 3})
    lines = invoice["lines"]
    return lines
''')
    assert status.status == "errored"
    assert status.error.name == "KeyError"
    assert status.error.line == 4
    assert status.error.source == 'lines = invoice["lines"]'


async def test_step_failures_name_the_callback_line_in_attempts(engine) -> None:
    status = await run_plan(engine, '''
def parse(text):
    return int(text)

async def run(event, step):
    return await step.do("parse", lambda: parse("x"), retries={"limit": 0})
''')
    assert status.status == "errored" and status.error.name == "StepFailed"
    assert status.error.line == 6
    history = await (await engine.agent("agent-a").get(status.id)).history()
    (attempt,) = history.steps[0].attempt_log
    assert attempt["line"] == 3 and attempt["source"] == "return int(text)"


@pytest.mark.parametrize(("callback", "cause"), [
    ("lambda: tools.echo({1, 2})", "ToolUsageError"),       # arguments that are not JSON
    ("lambda: getattr(tools, 'sec' + 'ret')()", "PlanAccessError"),  # not granted
    ("lambda: event.nothing", "PlanAccessError"),            # a sandbox access violation
    ("lambda: undefined_name", "NameError"),                 # a bug in the plan's own code
])
async def test_deterministic_failures_are_not_retried(engine, callback: str, cause: str,
                                                       monkeypatch) -> None:
    import ast

    from agents_durable.plans import _compile

    # The validator refuses some of these up front; the runtime must not retry them either.
    monkeypatch.setattr(_compile, "parse_and_validate",
                        lambda source, policy=None, *, tools=None: (ast.parse(source), []))
    engine.tools.register("echo", _echo)
    status = await run_plan(engine, f'''
async def run(event, step):
    try:
        await step.do("call", {callback})
    except StepFailed as failure:
        return [failure.cause, failure.attempts]
''', tools=("echo",))
    assert status.status == "complete", status.error
    assert status.output == [cause, 1]


async def test_tool_failures_are_still_retried(engine) -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("try again")
        return "ok"

    engine.tools.register("flaky", flaky)
    status = await run_plan(engine, '''
async def run(event, step):
    return await step.do("call", lambda: tools.flaky(), retries={"limit": 3, "delay": 0})
''', tools=("flaky",))
    assert status.output == "ok" and len(attempts) == 3


async def test_budget_trip_inside_a_callback_is_not_retried(engine) -> None:
    scope = engine.agent("agent-a", policy=ad.PlanPolicy(fuel=50_000))
    await scope.register_plan("spin", '''
async def run(event, step):
    def spin():
        while True:
            pass
    return await step.do("spin", spin)
''')
    inst = await scope.create("spin")
    final = await inst.wait(timeout=20)
    assert final.status == "errored" and final.error.name == "BudgetExceeded"
    assert (final.error.line, final.error.source) == (4, "while True:")
    history = await inst.history()
    assert history.steps == []  # nothing recorded, nothing scheduled for a retry


@pytest.mark.parametrize("retries", ['{"limit": 10**9, "delay": 0}', '{"limit": 101}',
                                     '{"limit": int("-1")}'])
async def test_absurd_retry_configs_are_clear_errors(engine, retries: str) -> None:
    status = await run_plan(engine, f'''
async def run(event, step):
    return await step.do("x", lambda: 1, retries={retries})
''')
    assert status.status == "errored"
    assert status.error.name == "PlanRuntimeError"
    assert "from 0 to 100" in status.error.message


async def test_exponential_backoff_arithmetic_is_clamped(engine, clock) -> None:
    status_task = None
    scope = engine.agent("agent-a")
    await scope.register_plan("p", '''
async def run(event, step):
    def fail():
        raise ValueError("no")
    try:
        await step.do("x", fail, retries={"limit": 100, "delay": "365 days"})
    except StepFailed as failure:
        return failure.attempts
''')
    inst = await scope.create("p")
    for _ in range(101):
        await clock.advance("365 days")
        if (await inst.status()).status == "complete":
            break
    status_task = await inst.wait(timeout=20)
    assert (status_task.status, status_task.output) == ("complete", 101)


async def test_toolkit_results_carry_the_plan_line(engine) -> None:
    from agents_durable.agents import PlanToolkit

    toolkit = PlanToolkit(engine, "agent-a")
    source = '''
async def run(event, step):
    def parse():
        return int("x")
    value = await step.do("parse", parse, retries={"limit": 0})
    return value
'''
    assert (await toolkit.submit_plan("parse", source)).ok
    started = await toolkit.start_plan("parse", {}, id="p-1")
    await (await engine.agent("agent-a").get("p-1")).wait(timeout=20)
    status = (await toolkit.plan_status("p-1")).model_dump(mode="json")
    assert status["error"]["line"] == 5
    assert status["error"]["source"].startswith('value = await step.do("parse", parse')
    history = (await toolkit.plan_history("p-1")).model_dump(mode="json")
    (attempt,) = history["steps"][0]["attempts"]
    assert (attempt["line"], attempt["source"]) == (4, 'return int("x")')
    assert started.ok


async def test_a_deadline_already_past_takes_a_buffered_event_or_times_out(engine,
                                                                          clock) -> None:
    scope = engine.agent("agent-a")
    await scope.register_plan("p", '''
async def run(event, step):
    await step.sleep("let events arrive", "1 minute")
    out = []
    for kind in ["sent", "missing"]:
        try:
            got = await step.wait_for_event(kind, type=kind, timeout=event.payload["left"])
            out.append(got["payload"])
        except EventTimeout:
            out.append(None)
    return out
''')
    inst = await scope.create("p", {"left": -30}, id="late")
    await clock.settle()
    await inst.send_event("sent", {"ok": True})
    await clock.advance("1 minute")
    final = await inst.wait(timeout=20)
    assert (final.status, final.output) == ("complete", [{"ok": True}, None])
