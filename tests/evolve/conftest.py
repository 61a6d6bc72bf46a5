"""Plan evolution runs in both isolation modes and on both stores: child plans reach the
store only through the engine, so a runner process starts and awaits children like inline
code does, and every store statement of upgrades, forks, children and schedules has a
PostgreSQL twin. (Process mode on PostgreSQL adds nothing the two halves do not cover.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out process isolation on PostgreSQL (see the module docstring)."""
    here = Path(__file__).parent
    dropped = [item for item in items if Path(str(item.path)).is_relative_to(here)
               and getattr(item, "callspec", None) is not None
               and item.callspec.params.get("backend") == "postgres"  # type: ignore[attr-defined]
               and item.callspec.params.get("engine") == "process"]  # type: ignore[attr-defined]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture(params=["inline", "process"])
async def engine(request: pytest.FixtureRequest, db: str | Path,
                 clock: FakeClock) -> AsyncIterator[ad.Engine]:
    async with ad.Engine.open(db, clock=clock, isolation=request.param) as engine:
        yield engine
