"""Submit a plan file from this gallery and run it to the end: plain Python, no agent framework.

    python plans/run_plan.py order_followup.py --db /tmp/gallery.db

Opens the engine on a SQLite file (a fake clock fast-forwards the plan's days), registers
the gallery's host tools, registers the plan file as the agent's plan, starts an instance
and plays the plan's scenario from ``scenarios.py`` (clock advances and events), then
prints the instance's final status. This is what a host program does with a plan an agent
wrote; ``agents-durable`` and ``PlanToolkit`` are the same calls behind a CLI and tools.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

import agents_durable as ad
from agents_durable.testing import FakeClock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gallery_tools  # noqa: E402  (the gallery's own modules, next to this file)
from scenarios import PLAN_TOOLS, SCENARIOS  # noqa: E402


async def run_plan_file(plan_file: str, db: str, scenario: str | None = None, *,
                        agent_id: str = "gallery") -> ad.InstanceStatus:
    """Register ``plans/<plan_file>`` for ``agent_id``, run one scenario, return the status."""
    script = next(s for s in SCENARIOS if s["plan"] == plan_file
                  and (scenario is None or s["name"] == scenario))
    gallery_tools.reset()
    clock = FakeClock()
    async with ad.Engine.open(db, clock=clock) as engine:
        gallery_tools.register_gallery_tools(engine.tools)
        agent = engine.agent(agent_id, tools=PLAN_TOOLS[plan_file])
        source = (HERE / plan_file).read_text()
        version = await agent.register_plan(Path(plan_file).stem.replace("_", "-"), source)
        print(f"registered {version.name!r} v{version.version} ({version.hash[:12]})")
        instance = await agent.create(version.name, script["params"], id=script["name"])
        await clock.settle()
        for action in script["script"]:
            await _play(action, clock, instance)
            print(f"  after {action[0]:<7} {(await instance.status()).status}")
        return await instance.wait(timeout=30)


async def _play(action: tuple[Any, ...], clock: FakeClock, instance: ad.Instance) -> None:
    if action[0] == "advance":
        await clock.advance(action[1])
    else:
        _, event_type, payload = action
        await instance.send_event(event_type, payload)
        await clock.settle()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("plan_file", choices=sorted(PLAN_TOOLS), help="a plan file in plans/")
    parser.add_argument("--scenario", help="a scenario name from scenarios.py")
    parser.add_argument("--db", help="SQLite file (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "gallery.db")
        final = anyio.run(run_plan_file, args.plan_file, db, args.scenario)
    print(final)
    return 0 if final.status == "complete" else 1


if __name__ == "__main__":
    raise SystemExit(main())
