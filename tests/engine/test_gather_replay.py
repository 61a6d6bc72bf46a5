"""Replay of ``step.gather`` never depends on how its branches interleaved.

Each gather argument that is a call of the plan's own async helper runs in a branch scope:
a step's identity is the branch path plus kind, name and occurrence within the branch, so
a replay, which returns recorded steps at once, meets every step at the identity it was
recorded under however the branches interleaved the first time.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

pytestmark = pytest.mark.anyio


class Echo:
    """A host tool that records each call and takes a key-dependent time to answer."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, value: str) -> str:
        self.calls.append(value)
        # Different latencies make the branches interleave differently from a replay.
        await anyio.sleep(0.001 * (len(value) % 3))
        return value


async def _run(tmp_path: Path, source: str, scenario: list[tuple[str, object]],
               params: object = None) -> tuple[ad.InstanceStatus, Echo, ad.History]:
    """Run ``source`` through ``scenario``, reopening the engine (a replay) at each action."""
    clock = FakeClock()
    echo = Echo()
    path = tmp_path / "gather.db"
    async with ad.Engine.open(path, clock=clock) as engine:
        engine.tools.register("echo", echo)
        agent = engine.agent("a", tools=["echo"])
        await agent.register_plan("p", source)
        inst = await agent.create("p", params, id="g")
        await clock.settle()
    for kind, arg in scenario:
        async with ad.Engine.open(path, clock=clock) as engine:
            engine.tools.register("echo", echo)
            agent = engine.agent("a", tools=["echo"])
            inst = await agent.get("g")
            await clock.settle()
            if kind == "advance":
                await clock.advance(str(arg))
            elif kind == "event":
                event_type, payload = arg  # type: ignore[misc]
                await inst.send_event(event_type, payload)
            await clock.settle()
    async with ad.Engine.open(path, clock=clock) as engine:
        engine.tools.register("echo", echo)
        agent = engine.agent("a", tools=["echo"])
        inst = await agent.get("g")
        await clock.settle()
        final = await inst.wait(timeout=20)
        return final, echo, await inst.history()


TWO_STEP_HELPERS = '''
async def run(event, step):
    async def branch(name):
        a = await step.do(f"{name} first", lambda: tools.echo(name))
        return await step.do(f"{name} second", lambda: tools.echo(a + "!"))
    out = await step.gather(branch("x"), branch("yy"))
    await step.sleep("then wait", "1 minute")
    return out
'''


async def test_two_step_helpers_replay_after_a_sleep(tmp_path: Path) -> None:
    final, echo, _ = await _run(tmp_path, TWO_STEP_HELPERS, [("advance", "1 minute")])
    assert final.status == "complete", final.error
    assert final.output == ["x!", "yy!"]
    assert sorted(echo.calls) == ["x", "x!", "yy", "yy!"]  # each effect exactly once


SAME_NAMES = '''
async def run(event, step):
    async def fetch(item):
        first = await step.do("fetch", lambda: tools.echo(item))
        await step.sleep("breathe", "10 seconds")
        second = await step.do("fetch", lambda: tools.echo(first + "+"))
        return second
    results = await step.gather(*[fetch(i) for i in event.payload["items"]])
    await step.sleep("after", "1 hour")
    return results
'''


async def test_branches_reusing_step_names_replay_identically(tmp_path: Path) -> None:
    items = ["a", "bb", "ccc", "d"]
    final, echo, history = await _run(tmp_path, SAME_NAMES,
                                      [("advance", "10 seconds"), ("advance", "1 hour")],
                                      {"items": items})
    assert final.status == "complete", final.error
    assert final.output == [f"{i}+" for i in items]
    assert sorted(echo.calls) == sorted(items + [f"{i}+" for i in items])
    # Each branch's steps carry their own idempotency-relevant identity.
    assert len([s for s in history.steps if s.name == "fetch"]) == 8


BRANCH_WAITS = '''
async def run(event, step):
    async def approval(who):
        await step.do(f"ask {who}", lambda: tools.echo(who))
        try:
            reply = await step.wait_for_event(f"reply {who}", type="reply",
                                              match={"who": who}, timeout="1 day")
            verdict = reply["payload"]["ok"]
        except EventTimeout:
            verdict = None
        return await step.do(f"record {who}", lambda: tools.echo(f"{who}={verdict}"))
    return await step.gather(approval("ann"), approval("bob"), approval("cy"))
'''


async def test_event_waits_inside_branches(tmp_path: Path) -> None:
    final, echo, _ = await _run(tmp_path, BRANCH_WAITS, [
        ("event", ("reply", {"who": "bob", "ok": True})),
        ("event", ("reply", {"who": "ann", "ok": False})),
        ("advance", "1 day"),
    ])
    assert final.status == "complete", final.error
    assert final.output == ["ann=False", "bob=True", "cy=None"]
    assert sorted(echo.calls) == sorted(["ann", "bob", "cy", "ann=False", "bob=True",
                                         "cy=None"])


NESTED = '''
async def run(event, step):
    async def leaf(name, n):
        out = []
        for i in range(n):
            out.append(await step.do(f"{name}", lambda i=i: tools.echo(f"{name}{i}")))
        return out

    async def group(name):
        left, right = await step.gather(leaf(name + "L", 1), leaf(name + "R", 3))
        await step.sleep(f"{name} pause", "1 minute")
        return left + right

    rounds = []
    for r in range(2):
        rounds.append(await step.gather(group(f"g{r}a"), group(f"g{r}b"),
                                        step.do("direct", lambda: tools.echo("d"))))
        await step.sleep("between rounds", "5 minutes")
    return rounds
'''


async def test_nested_gathers_inside_a_loop(tmp_path: Path) -> None:
    final, echo, _ = await _run(tmp_path, NESTED, [("advance", "1 minute"),
                                                    ("advance", "5 minutes"),
                                                    ("advance", "1 minute"),
                                                    ("advance", "5 minutes")])
    assert final.status == "complete", final.error
    expected_round = [
        ["gNaL0", "gNaR0", "gNaR1", "gNaR2"], ["gNbL0", "gNbR0", "gNbR1", "gNbR2"], "d"]
    assert final.output == [
        [[v.replace("N", str(r)) for v in part] if isinstance(part, list) else part
         for part in expected_round] for r in range(2)]
    assert len(echo.calls) == 2 * (8 + 1)


ONE_TO_THREE = '''
async def run(event, step):
    async def work(n):
        total = 0
        for i in range(n):
            total += len(await step.do(f"w{n}", lambda i=i: tools.echo("x" * (i + 1))))
        return total
    out = await step.gather(work(1), work(2), work(3))
    await step.sleep("rest", "1 minute")
    return out
'''


async def test_helpers_of_one_to_three_steps(tmp_path: Path) -> None:
    final, echo, _ = await _run(tmp_path, ONE_TO_THREE, [("advance", "1 minute")])
    assert final.status == "complete", final.error
    assert final.output == [1, 3, 6]
    assert len(echo.calls) == 6


async def test_idempotency_keys_differ_between_branches(tmp_path: Path) -> None:
    source = '''
async def run(event, step):
    async def charge(who):
        return await step.do("charge", lambda ctx: ctx.idempotency_key)
    keys = await step.gather(charge("a"), charge("b"))
    await step.sleep("s", "1 minute")
    again = await step.gather(charge("a"), charge("b"))
    return keys + again
'''
    final, _, _ = await _run(tmp_path, source, [("advance", "1 minute")])
    assert final.status == "complete", final.error
    assert len(set(final.output)) == 4


async def test_a_sleep_in_a_gather_does_not_drop_a_sibling_result(tmp_path: Path) -> None:
    # The sleep decides to wait at once; the sibling's tool still finishes, and its result
    # must be committed, or the next activation would repeat the effect.
    source = '''
async def run(event, step):
    out = await step.gather(step.sleep("nap", "1 hour"),
                            step.do("effect", lambda: tools.echo("sent")))
    return out[1]
'''
    final, echo, _ = await _run(tmp_path, source, [("advance", "1 hour")])
    assert (final.status, final.output) == ("complete", "sent")
    assert echo.calls == ["sent"]
