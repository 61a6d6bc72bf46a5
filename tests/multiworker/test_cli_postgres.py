"""The CLI on PostgreSQL: ``--db postgresql://...`` for clients and workers alike."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_URL, ROOT, pg_available, pg_schema_url

pytestmark = pytest.mark.skipif(not pg_available(),
                                reason=f"no PostgreSQL server answers at {PG_URL}")

PLAN = '''"""Doubles x."""


async def run(event, step):
    return await step.do("double", lambda: event.payload["x"] * 2)
'''


@pytest.fixture
def url() -> Iterator[str]:
    schema = f"cli_{uuid.uuid4().hex[:16]}"
    yield pg_schema_url(schema)
    subprocess.run([sys.executable, "-c", "import asyncio, sys\n"
                    "from tests.conftest import drop_schema\n"
                    f"asyncio.run(drop_schema({schema!r}))"], cwd=ROOT, check=True)


def cli(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agents_durable", *args, "--db", db],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_cli_worker_runs_what_a_cli_client_started(url: str, tmp_path: Path) -> None:
    plan = tmp_path / "double.py"
    plan.write_text(PLAN)
    assert cli("submit", str(plan), db=url).returncode == 0
    started = cli("start", "double", "--params", '{"x": 21}', "--id", "one", db=url)
    assert started.returncode == 0, started.stderr
    worker = subprocess.Popen([sys.executable, "-m", "agents_durable", "worker", "--db", url,
                               "--poll", "0.1"], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            shown = cli("status", "one", "--json", db=url)
            assert shown.returncode == 0, shown.stderr
            status = json.loads(shown.stdout)
            if status["status"] == "complete" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status["status"] == "complete" and status["output"] == 42, status
    finally:
        worker.terminate()
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "worker running on postgresql://" in out


def test_an_unreachable_server_is_one_error_line() -> None:
    done = cli("list", db="postgresql://postgres@127.0.0.1:1/test")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
