"""An engine worker that tests kill with SIGKILL while a parent waits for its child.

    python tests/evolve/child_crash_worker.py DB

Registers a parent plan and a child plan (a short real sleep), starts the parent once
(idempotently) and runs until the parent finishes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

if __package__ in (None, ""):  # run as a script: make ``agents_durable`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import agents_durable as ad

AGENT = "crash-parent"
CHILD = '''
async def run(event, step):
    await step.sleep("nap", "1 second")
    return event.payload["n"] + 1
'''
PARENT = '''
async def run(event, step):
    first = await step.run_plan("child", {"n": 1})
    return {"first": first}
'''


async def main(db: str) -> None:
    async with ad.Engine.open(db, poll_interval=0.05) as engine:
        agent = engine.agent(AGENT)
        await agent.register_plan("child", CHILD)
        await agent.register_plan("parent", PARENT)
        try:
            parent = await agent.create("parent", id="parent")
        except ad.InstanceExists:
            parent = await agent.get("parent")
        await parent.wait(timeout=60)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1])
