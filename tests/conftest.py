from __future__ import annotations

import os
import socket
import uuid
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


#: The PostgreSQL server the suite runs the shared-store half against (override with
#: AGENTS_DURABLE_TEST_PG, e.g. postgresql://user@host:5432/db).
PG_URL = os.environ.get("AGENTS_DURABLE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

#: Test directories (and files) whose tests run on both stores: the engine behaviour a
#: user relies on must not depend on which database holds it.
BOTH_BACKENDS = ("tests/engine/", "tests/faults/", "tests/agents/test_toolkit.py",
                 "tests/evolve/", "tests/server/test_retention.py")

_pg_answers: bool | None = None


def pg_available() -> bool:
    """Whether a PostgreSQL server answers at ``PG_URL`` (asked once per session)."""
    global _pg_answers
    if _pg_answers is None:
        from urllib.parse import urlsplit

        parts = urlsplit(PG_URL)
        try:
            import asyncpg  # noqa: F401

            with socket.create_connection((parts.hostname or "127.0.0.1",
                                           parts.port or 5432), timeout=1):
                _pg_answers = True
        except (OSError, ImportError):
            _pg_answers = False
    return _pg_answers


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``backend``: sqlite everywhere; sqlite and postgres in ``BOTH_BACKENDS`` (unless
    the test is marked ``sqlite_only``: it inspects or damages the SQLite file itself)."""
    if "backend" not in metafunc.fixturenames:
        return
    path = Path(str(metafunc.definition.path)).relative_to(ROOT).as_posix()
    both = path.startswith(BOTH_BACKENDS) and \
        metafunc.definition.get_closest_marker("sqlite_only") is None
    metafunc.parametrize("backend", ["sqlite", "postgres"] if both else ["sqlite"],
                         indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    if name == "postgres" and not pg_available():
        pytest.skip(f"no PostgreSQL server answers at {PG_URL} (set AGENTS_DURABLE_TEST_PG)")
    return name


async def drop_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def pg_schema_url(schema: str, **params: object) -> str:
    extra = "".join(f"&{key}={value}" for key, value in params.items())
    return f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}{extra}"


@pytest.fixture
async def db(backend: str, tmp_path: Path) -> AsyncIterator[str | Path]:
    """Where a test's database lives: a SQLite file under ``tmp_path``, or a fresh
    PostgreSQL schema (dropped afterwards) of the test server."""
    if backend == "sqlite":
        yield tmp_path / "engine.db"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield pg_schema_url(schema)
    finally:
        await drop_schema(schema)


@pytest.fixture
async def engine(db: str | Path, clock: FakeClock) -> AsyncIterator[ad.Engine]:
    async with ad.Engine.open(db, clock=clock) as engine:
        yield engine


async def run_plan(engine: ad.Engine, source: str, params: object = None, *,
                   agent: str = "agent-a", tools: tuple[str, ...] = (),
                   id: str | None = None, timeout: float = 20) -> ad.InstanceStatus:
    """Register ``source``, start one instance, wait for it to finish."""
    scope = engine.agent(agent, tools=tools)
    await scope.register_plan("plan", source)
    instance = await scope.create("plan", params, id=id)
    return await instance.wait(timeout=timeout)
