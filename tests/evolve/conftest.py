"""Plan evolution runs in both isolation modes: child plans reach the store only through
the engine, so a runner process starts and awaits children like inline code does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock


@pytest.fixture(params=["inline", "process"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path,
                 clock: FakeClock) -> AsyncIterator[ad.Engine]:
    async with ad.Engine.open(tmp_path / "engine.db", clock=clock,
                              isolation=request.param) as engine:
        yield engine
