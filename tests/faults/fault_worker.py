"""A worker process for the fault tests: ``python fault_worker.py DB SIDE_LOG MODE``.

- ``long``: ``--count`` instances ``crash-000``... of ten steps without a rest between
  them (one long activation each), every step's tool taking ``--pause`` seconds.
- ``killer``: ten healthy instances of the five-step crash-test plan and one, ``killer``,
  whose first step SIGKILLs this very process (a plan that crashes the engine).
- ``effects``: twenty instances whose one step calls a tool that takes ``--pause`` real
  seconds and appends its key to SIDE_LOG when it is done (its effect); with
  ``--hang`` one more instance hangs in a sync tool forever. Stops on SIGTERM, draining
  with ``--grace`` seconds; prints the shutdown report.

Each exits 0 once every instance is finished (or, for ``effects``, on SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import anyio

if __package__ in (None, ""):  # run as a script: make ``agents_durable`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import agents_durable as ad
from tests.engine.crash_worker import AGENT, PLAN, make_tools

KILLER = '''
async def run(event, step):
    await step.do("die", lambda ctx: tools.die(ctx.idempotency_key, ctx.attempt))
    return "survived"
'''

EFFECT = '''
async def run(event, step):
    first = await step.do("effect", lambda ctx: tools.effect(ctx.idempotency_key))
    second = await step.do("again", lambda ctx: tools.effect(ctx.idempotency_key))
    return [first, second]
'''

LONG = '''
async def run(event, step):
    n = event.payload["n"]
    total = 0
    for k in range(1, 11):
        total += await step.do(
            "s" + str(k), lambda ctx: tools.work(ctx.idempotency_key, ctx.attempt, n),
            retries={"limit": 3, "delay": 0.05, "backoff": "constant"})
    return total
'''

HANG = '''
async def run(event, step):
    return await step.do("hang", lambda: tools.hang(), timeout="1 hour")
'''


async def killer(db: str, side_log: str) -> None:
    tools = make_tools(side_log)
    note = os.open(side_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def die(key: str, attempt: int) -> None:
        os.write(note, f"{key}\t{attempt}\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)

    async with ad.Engine.open(db, poll_interval=0.05) as engine:
        engine.tools.register("work", tools["work"])  # type: ignore[arg-type]
        engine.tools.register("die", die)
        agent = engine.agent(AGENT, tools=["work", "die"])
        await agent.register_plan("steps", PLAN)
        await agent.register_plan("killer", KILLER)
        items = [{"plan": "steps", "params": {"n": n}, "id": f"crash-{n:03d}"}
                 for n in range(10)]
        items.insert(3, {"plan": "killer", "id": "killer"})
        with contextlib.suppress(ad.InstanceExists):
            await agent.create_batch(items)
        while not all(s.finished for s in (await agent.list(limit=100)).items):
            await anyio.sleep(0.05)
    print("all finished", flush=True)


async def long(db: str, side_log: str, count: int, pause: float) -> None:
    tools = make_tools(side_log, pause=pause)
    async with ad.Engine.open(db, poll_interval=0.05) as engine:
        engine.tools.register("work", tools["work"])  # type: ignore[arg-type]
        agent = engine.agent(AGENT, tools=["work"])
        await agent.register_plan("long", LONG)
        with contextlib.suppress(ad.InstanceExists):
            await agent.create_batch([{"plan": "long", "params": {"n": n},
                                       "id": f"crash-{n:03d}"} for n in range(count)])
        while not all(s.finished for s in (await agent.list(limit=1000)).items):
            await anyio.sleep(0.05)
    print("all finished", flush=True)


async def effects(db: str, side_log: str, pause: float, grace: float, hang: bool) -> None:
    out = os.open(side_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def effect(key: str) -> str:
        time.sleep(pause)
        os.write(out, f"{key}\n".encode())  # the effect: done once the tool returns
        return key

    def hang_forever() -> None:
        time.sleep(3600)

    async with ad.Engine.open(db, poll_interval=0.05, grace_period=grace) as engine:
        engine.tools.register("effect", effect)
        engine.tools.register("hang", hang_forever)
        agent = engine.agent(AGENT, tools=["effect", "hang"])
        await agent.register_plan("effect", EFFECT)
        await agent.register_plan("hang", HANG)
        items = [{"plan": "effect", "id": f"e{n:02d}"} for n in range(20)]
        if hang:
            items.append({"plan": "hang", "id": "hung"})
        with contextlib.suppress(ad.InstanceExists):
            await agent.create_batch(items)
        print("ready", flush=True)
        with anyio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                break
    print("report " + json.dumps(engine.shutdown_report), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("side_log")
    parser.add_argument("mode", choices=("killer", "effects", "long"))
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--pause", type=float, default=0.5)
    parser.add_argument("--grace", type=float, default=30.0)
    parser.add_argument("--hang", action="store_true")
    arguments = parser.parse_args()
    if arguments.mode == "killer":
        anyio.run(killer, arguments.db, arguments.side_log)
    elif arguments.mode == "long":
        anyio.run(long, arguments.db, arguments.side_log, arguments.count, arguments.pause)
    else:
        anyio.run(effects, arguments.db, arguments.side_log, arguments.pause,
                  arguments.grace, arguments.hang)
