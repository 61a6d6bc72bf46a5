"""Plans and helpers shared by the instance API tests."""

from __future__ import annotations

import re

import agents_durable as ad

SLEEPER = '''
"""Sleeps a day, then returns its params."""

async def run(event, step):
    await step.sleep("nap", "1 day")
    return event.payload
'''

QUICK = '''
async def run(event, step):
    return await step.do("double", lambda: event.payload.get("x", 0) * 2)
'''

ID_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$")


async def scope(engine: ad.Engine, *plans: tuple[str, str], agent: str = "agent-a",
                tools: tuple[str, ...] = ()) -> ad.AgentScope:
    """An agent scope with ``plans`` (name, source) registered."""
    agent_scope = engine.agent(agent, tools=tools)
    for name, source in plans:
        await agent_scope.register_plan(name, source)
    return agent_scope


class Counter:
    """A host tool that counts its calls per key and returns the running count."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        self.calls[key] = self.calls.get(key, 0) + 1
        return self.calls[key]
