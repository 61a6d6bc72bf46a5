"""An engine worker process that tests kill with SIGKILL and start again.

    python tests/engine/crash_worker.py DB SIDE_LOG --count 200 [--mode steps|hang]

It opens the engine on the SQLite file ``DB`` with the real clock, registers a plan,
creates its instances (idempotently: on a restart the ids already exist), and runs until
every instance is finished, then exits 0. Every execution of a step's tool appends one
line ``<instance>/<step>/<occurrence>\\t<attempt>`` to ``SIDE_LOG`` *before* doing its work,
so the test can compare what really ran with what the journal says was committed.

Modes:
- ``steps``: ``--count`` instances ``crash-000``... of a five-step plan with short real
  sleeps between the steps; some instances fail their second step once and retry.
- ``hang``: three quick instances and one, ``stuck``, whose only step blocks forever.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

import anyio

if __package__ in (None, ""):  # run as a script: make ``agents_durable`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import agents_durable as ad

__all__ = ["AGENT", "HANG_PLAN", "PLAN", "QUICK_PLAN", "STEPS_PER_ACTIVATION", "instance_ids",
           "make_tools", "params"]

AGENT = "crash-test"

#: Five steps; a short real sleep follows s2, s3 and s5, so an activation commits at most
#: two steps (s1+s2, s3, s4+s5) and then suspends (ends) on a fresh sleep. Steps that run
#: back to back in one activation let the test see a result handed to the plan (the next
#: step started) that a kill then lost.
PLAN = '''
"""Five durable steps with rests between some of them."""

async def run(event, step):
    n = event.payload["n"]
    results = []
    for name in ["s1", "s2", "s3", "s4", "s5"]:
        value = await step.do(
            name, lambda ctx: tools.work(ctx.idempotency_key, ctx.attempt, n),
            retries={"limit": 3, "delay": 0.05, "backoff": "constant"})
        results.append(value)
        if name in ["s2", "s3", "s5"]:
            await step.sleep("rest after " + name, 0.1)
    return {"n": n, "results": results, "total": sum(results)}
'''

#: The most steps one activation of ``PLAN`` can commit.
STEPS_PER_ACTIVATION = 2

QUICK_PLAN = '''
async def run(event, step):
    return await step.do("quick", lambda ctx: tools.work(ctx.idempotency_key, ctx.attempt,
                                                         event.payload["n"]))
'''

HANG_PLAN = '''
async def run(event, step):
    await step.do("hang", lambda ctx: tools.hang(ctx.idempotency_key, ctx.attempt))
    return "unreachable"
'''


def instance_ids(count: int) -> list[str]:
    return [f"crash-{i:03d}" for i in range(count)]


def params(instance_id: str) -> dict[str, int]:
    return {"n": int(instance_id.rsplit("-", 1)[1])}


def make_tools(side_log: str | os.PathLike[str], *,
               pause: float = 0.005) -> dict[str, object]:
    """The host tools, logging each execution to ``side_log`` before it does anything.

    ``pause`` (real seconds) widens the window in which a kill finds a step in flight.
    """
    fd = os.open(side_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def note(key: str, attempt: int) -> None:
        os.write(fd, f"{key}\t{attempt}\n".encode())  # one write: a whole line or nothing

    def work(key: str, attempt: int, n: int) -> int:
        note(key, attempt)
        time.sleep(pause)
        step = key.split("/")[1]
        if step == "s2" and n % 7 == 0 and attempt == 1:
            raise RuntimeError("transient failure on the first attempt")
        return n * 10 + int(step[1:]) if step.startswith("s") else n

    def hang(key: str, attempt: int) -> None:
        note(key, attempt)
        time.sleep(3600)  # hangs on purpose: the test SIGKILLs the worker while it runs

    return {"work": work, "hang": hang}


async def main(db: str, side_log: str, count: int, mode: str) -> None:
    async with ad.Engine.open(db, poll_interval=0.05) as engine:
        for name, fn in make_tools(side_log).items():
            engine.tools.register(name, fn)  # type: ignore[arg-type]
        agent = engine.agent(AGENT, tools=["work", "hang"])
        if mode == "steps":
            await agent.register_plan("steps", PLAN)
            ids = instance_ids(count)
            batches = [ids[i:i + 100] for i in range(0, len(ids), 100)]
            items = [[{"plan": "steps", "params": params(i), "id": i} for i in batch]
                     for batch in batches]
        else:
            await agent.register_plan("quick", QUICK_PLAN)
            await agent.register_plan("hang", HANG_PLAN)
            items = [[{"plan": "quick", "params": {"n": n}, "id": f"quick-{n}"}
                      for n in range(3)], [{"plan": "hang", "id": "stuck"}]]
        for batch in items:
            with contextlib.suppress(ad.InstanceExists):  # from an earlier run of this process
                await agent.create_batch(batch)  # all or nothing
        expected = sum(len(batch) for batch in items)
        while True:
            listing = await agent.list(limit=1000)
            finished = [s for s in listing.items if s.finished]
            if len(finished) == expected:
                break
            await anyio.sleep(0.05)
    print("all finished", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("side_log")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--mode", choices=("steps", "hang"), default="steps")
    arguments = parser.parse_args()
    anyio.run(main, arguments.db, arguments.side_log, arguments.count, arguments.mode)
