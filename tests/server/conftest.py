"""A real ``agents-durable serve`` per test module, on a loopback port picked by the OS.

``database`` is the one place a test module's store is chosen: each module runs once on
SQLite and once on a PostgreSQL schema of its own. Tokens are created through the
public API before the server starts (the CLI's ``token create`` does the same).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx
import pytest

import agents_durable as ad
from tests.conftest import PG_URL, drop_schema, pg_available, pg_schema_url

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("prometheus_client")

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    url: str
    db: str
    tokens: dict[str, str]
    token_ids: dict[str, str]
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def client(self, who: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=20, **kwargs)


async def _make_tokens(db: str, who: list[str]) -> dict[str, tuple[str, str]]:
    from agents_durable.server import create_token

    out = {}
    async with ad.Engine.open(db, worker=False) as engine:
        for name in who:
            secret, record = await create_token(
                engine, agent_id=None if name == "operator" else name, label=name)
            out[name] = (secret, record.id)
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The module's store: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield str(tmp_path_factory.mktemp("server") / "server.db")
        return
    if not pg_available():
        pytest.skip(f"no PostgreSQL server answers at {PG_URL} (set AGENTS_DURABLE_TEST_PG)")
    schema = f"s_{uuid.uuid4().hex[:16]}"
    try:
        yield pg_schema_url(schema)
    finally:
        anyio.run(drop_schema, schema)


def another(database: str, name: str) -> str:
    """A second, empty store beside ``database`` (a file next to it, or another schema)."""
    if database.startswith("postgresql://"):
        return database.replace("schema=", f"schema={name}_", 1)
    return f"{database}.{name}.db"


def start_server(db: str, *extra: str, who: tuple[str, ...] = ("operator", "alice", "bob")
                 ) -> Server:
    made = anyio.run(_make_tokens, db, list(who))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "agents_durable.cli", "serve", "--db", db, "--port", "0",
         "--worker", *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env, cwd=ROOT)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("serving "):
            url = line.split(" on ", 1)[1].split(" ", 1)[0]
            return Server(url=url, db=db, tokens={k: v[0] for k, v in made.items()},
                          token_ids={k: v[1] for k, v in made.items()}, process=process,
                          output=lines)
    process.kill()
    raise AssertionError("the server did not start:\n" + "".join(lines))


def stop_server(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    try:
        rest, _ = server.process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        rest, _ = server.process.communicate()
    server.output.append(rest or "")
    assert server.process.returncode == 0, "".join(server.output)


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[Server]:
    running = start_server(database)
    yield running
    stop_server(running)


@pytest.fixture
def alice(server: Server) -> Iterator[httpx.Client]:
    """A client with alice's agent token (a module may override it with plans added)."""
    with server.client("alice") as client:
        yield client


@pytest.fixture
def bob(server: Server) -> Iterator[httpx.Client]:
    """A client with bob's agent token: the other tenant of the tenancy checks."""
    with server.client("bob") as client:
        yield client
