"""The rendered prompt: defaults, rules, imports, the agent's tools, valid examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.agents import EXAMPLE_PLANS, PlanToolkit, example_plan_source
from tests.agents import scenario

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_EXAMPLES = ROOT / "agents_durable" / "agents" / "templates" / "examples"


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, re.S)



@pytest.mark.parametrize("name", EXAMPLE_PLANS)
def test_shipped_example_is_byte_identical_to_the_gallery(name: str) -> None:
    shipped = (PACKAGE_EXAMPLES / f"{name}.py.j2").read_bytes()
    assert shipped == (ROOT / "plans" / f"{name}.py").read_bytes()
    assert example_plan_source(name).encode() == shipped


def test_every_shipped_example_file_is_listed() -> None:
    assert sorted(p.name for p in PACKAGE_EXAMPLES.iterdir()) == sorted(
        f"{name}.py.j2" for name in EXAMPLE_PLANS)


async def test_every_plan_in_the_instructions_validates_clean(engine: ad.Engine) -> None:
    text = PlanToolkit(engine, "a").instructions()
    blocks = python_blocks(text)
    assert len(blocks) == len(EXAMPLE_PLANS)
    for block, name in zip(blocks, EXAMPLE_PLANS, strict=True):
        assert block == example_plan_source(name)  # shown verbatim, nothing rendered into it
        # Grants unknown (tools=None): the examples use another agent's tools.
        assert ad.validate_plan(block) == []


async def test_instructions_teach_defaults_rules_and_imports(engine: ad.Engine) -> None:
    text = PlanToolkit(engine, "a").instructions()
    assert "`async def run(event, step)`" in text
    words = " ".join(text.split())
    assert ("Defaults: limit 5 retries (so 6 attempts), delay 10 seconds, backoff "
            "exponential") in words
    assert "`timeout` is per attempt, default 10 minutes" in words
    assert 'timeout="24 hours"' in text
    for rule in ("Determinism", "Steps are the only place for effects",
                 "Tools only inside step callbacks", "idempotency_key"):
        assert rule in text
    assert "- `json`: JSONDecodeError, dumps, loads" in text
    assert "- `time`: use `await step.now()`" in text
    assert "You have no tools." in text
    assert "{{" not in text and "{%" not in text


async def test_instructions_show_granted_tools_only(engine: ad.Engine) -> None:
    engine.tools.register(scenario.TOOL_NAME, scenario.compose_greeting)

    def drop_database() -> None:
        """Never shown to an agent that was not granted it."""

    engine.tools.register("admin.drop_database", drop_database)
    text = PlanToolkit(engine, "a", tools=[scenario.TOOL_NAME]).instructions()
    assert "### `tools.greetings.compose(name: str, door: str) -> str`" in text
    assert "Compose the welcome line for a guest arriving at a door." in text
    assert "drop_database" not in text and "Never shown" not in text


async def test_instructions_follow_the_agents_policy(engine: ad.Engine) -> None:
    policy = ad.PlanPolicy(modules={"json": frozenset({"dumps"})}, max_tool_calls=7)
    text = PlanToolkit(engine, "narrow", policy=policy).instructions()
    assert "- `json`: dumps\n" in text
    assert "- `math`:" not in text
    assert "7 tool calls per activation" in text
