"""A worker process running gathers of multi-step helpers, for SIGKILL tests.

    python tests/engine/gather_crash_worker.py DB SIDE_LOG --count 30

Each tool execution appends ``<idempotency key>\\t<attempt>`` to ``SIDE_LOG`` before it
works. The process exits 0 once every instance finished.
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

__all__ = ["AGENT", "PLAN", "expected_output"]

AGENT = "gather-crash"

PLAN = '''
"""Three branches of two steps each, with real rests in between, then a last rest."""

async def run(event, step):
    n = event.payload["n"]

    async def branch(b):
        first = await step.do(f"b{b} first",
                              lambda ctx: tools.work(ctx.idempotency_key, ctx.attempt, n + b))
        await step.sleep(f"b{b} rest", 0.02 * (b + 1))
        return await step.do(f"b{b} second",
                             lambda ctx: tools.work(ctx.idempotency_key, ctx.attempt, first))

    out = await step.gather(branch(0), branch(1), branch(2))
    await step.sleep("after", 0.02)
    return out
'''


def expected_output(n: int) -> list[int]:
    return [n + b + 2 for b in range(3)]


async def main(db: str, side_log: str, count: int) -> None:
    fd = os.open(side_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def work(key: str, attempt: int, value: int) -> int:
        os.write(fd, f"{key}\t{attempt}\n".encode())
        time.sleep(0.003)
        return value + 1

    async with ad.Engine.open(db, poll_interval=0.05) as engine:
        engine.tools.register("work", work)
        agent = engine.agent(AGENT, tools=["work"])
        await agent.register_plan("gather", PLAN)
        with contextlib.suppress(ad.InstanceExists):
            await agent.create_batch([{"plan": "gather", "params": {"n": n * 10},
                                       "id": f"g-{n:03d}"} for n in range(count)])
        while True:
            listing = await agent.list(limit=1000)
            if len([s for s in listing.items if s.finished]) == count:
                break
            await anyio.sleep(0.05)
    print("all finished", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("side_log")
    parser.add_argument("--count", type=int, default=30)
    arguments = parser.parse_args()
    anyio.run(main, arguments.db, arguments.side_log, arguments.count)
