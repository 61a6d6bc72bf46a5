"""Fixtures of the PostgreSQL multi-worker tests: each test gets a fresh schema, dropped
afterwards, and runs on asyncio (asyncpg's loop)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.conftest import drop_schema, pg_schema_url


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    name = f"mw_{uuid.uuid4().hex[:16]}"
    try:
        yield name
    finally:
        await drop_schema(name)


@pytest.fixture
def url(schema: str) -> str:
    return pg_schema_url(schema)
