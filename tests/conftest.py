from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def anyio_backend() -> str:
    # aiosqlite is asyncio-bound; every async test runs on asyncio.
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def engine(tmp_path: Path, clock: FakeClock) -> AsyncIterator[ad.Engine]:
    async with ad.Engine.open(tmp_path / "engine.db", clock=clock) as engine:
        yield engine


async def run_plan(engine: ad.Engine, source: str, params: object = None, *,
                   agent: str = "agent-a", tools: tuple[str, ...] = (),
                   id: str | None = None, timeout: float = 20) -> ad.InstanceStatus:
    """Register ``source``, start one instance, wait for it to finish."""
    scope = engine.agent(agent, tools=tools)
    await scope.register_plan("plan", source)
    instance = await scope.create("plan", params, id=id)
    return await instance.wait(timeout=timeout)
