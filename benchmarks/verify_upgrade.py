"""How long a replay check (``agent.verify_upgrade``) takes next to the replay the engine
does anyway when the same instance wakes up: both replay the whole journal in the sandbox.

    .venv/bin/python benchmarks/verify_upgrade.py [--steps 10 100 1000] [--reps 5]

Prints, per journal size, the median milliseconds of one verify and of one wake-up replay
(an event delivered to the waiting instance, up to its next wait), and their ratio.
Nothing here is asserted; it is a measurement.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import agents_durable as ad
from agents_durable.testing import FakeClock

PLAN = '''
async def run(event, step):
    for i in range(event.payload["n"]):
        await step.do("work", lambda i=i: i)
    while True:
        await step.wait_for_event("poke", type="poke", timeout="30 days")
'''


async def measure(steps: int, reps: int, directory: str) -> tuple[float, float]:
    clock = FakeClock()
    async with ad.Engine.open(Path(directory) / f"v{steps}.db", clock=clock) as engine:
        agent = engine.agent("bench")
        await agent.register_plan("p", PLAN)
        v2 = await agent.register_plan("p", PLAN + "\n# v2\n")
        instance = await agent.create("p", {"n": steps}, id="i")
        await clock.settle()
        verify, wake = [], []
        for _ in range(reps):
            started = time.perf_counter()
            [check] = await agent.verify_upgrade([instance], to=v2)
            verify.append(time.perf_counter() - started)
            assert check.compatible
            started = time.perf_counter()
            await instance.send_event("poke")
            await clock.settle()
            wake.append(time.perf_counter() - started)
        return statistics.median(verify) * 1000, statistics.median(wake) * 1000


async def main(sizes: list[int], reps: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        print(f"{'steps':>6} {'verify ms':>10} {'wake-up replay ms':>18} {'ratio':>6}")
        for steps in sizes:
            verify, wake = await measure(steps, reps, directory)
            print(f"{steps:>6} {verify:>10.2f} {wake:>18.2f} {verify / wake:>6.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--reps", type=int, default=5)
    options = parser.parse_args()
    anyio.run(main, options.steps, options.reps)
