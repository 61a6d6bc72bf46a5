"""Shared helpers for the sandbox attack suite.

Every attack is checked twice over: it must be stopped (a diagnostic code at validation,
or a named error at run time), and a host canary must be untouched afterwards: a module
global in this host module, an environment variable, a file on disk, and the shared
``math``/``json`` modules a plan could try to poison. The canary check runs after every
test in this directory (an autouse fixture).

The validator is the first line; the runtime guards must hold on their own. The
``unvalidated`` fixture makes ``compile_plan`` skip our validator (RestrictedPython's
compiler and every runtime guard still apply), so a test can show which line stops it.
"""

from __future__ import annotations

import ast
import json
import math
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import agents_durable as ad
from agents_durable.plans import _compile
from agents_durable.testing import FakeClock

#: A module global in a host module: no plan may change it.
HOST_SECRET: dict[str, str] = {"value": "untouched"}
CANARY_ENV = "AGENTS_DURABLE_CANARY"
CANARY_TEXT = "canary: the host's file"

#: Budgets low enough that every exhaustion attack trips in a fraction of a second.
FAST = ad.PlanPolicy(fuel=200_000, max_slice_seconds=2.0)

_REAL_JSON_DUMPS = json.dumps


@pytest.fixture(params=["inline", "process"])
def isolation(request: pytest.FixtureRequest) -> str:
    """Every attack runs twice: plan code in the engine process, and in a runner process."""
    return str(request.param)


@pytest.fixture
async def engine(tmp_path: Path, clock: FakeClock, isolation: str) -> AsyncIterator[ad.Engine]:
    async with ad.Engine.open(tmp_path / "engine.db", clock=clock, isolation=isolation,
                              runners=1) as engine:
        yield engine


@pytest.fixture(autouse=True)
def canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Plant the canaries before the test, and check all of them after it."""
    path = tmp_path / "canary.txt"
    path.write_text(CANARY_TEXT)
    monkeypatch.setenv(CANARY_ENV, "untouched")
    yield path
    assert HOST_SECRET == {"value": "untouched"}
    assert os.environ.get(CANARY_ENV) == "untouched"
    assert path.read_text() == CANARY_TEXT
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("canary")) == [
        "canary.txt"]
    assert math.pi == 3.141592653589793
    assert json.dumps is _REAL_JSON_DUMPS


@pytest.fixture
def unvalidated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip our validator: only RestrictedPython's compiler and the runtime guards remain."""

    def parse_only(source: str, policy: Any = None, *, tools: Any = None) -> Any:
        return ast.parse(source), []

    monkeypatch.setattr(_compile, "parse_and_validate", parse_only)


def codes(source: str, policy: ad.PlanPolicy | None = None) -> list[str]:
    """The error codes validation reports for ``source``."""
    return [d.code for d in ad.validate_plan(source, policy) if d.severity == "error"]


def assert_rejected(source: str, code: str) -> None:
    """Validation refuses ``source`` with ``code``, and registering raises PlanRejected."""
    assert code in codes(source), codes(source)
    with pytest.raises(ad.PlanRejected) as info:
        ad.compile_plan(source)
    assert code in [d.code for d in info.value.diagnostics]


def compile_codes(source: str) -> list[str]:
    """Error codes from compiling with our validator skipped (RestrictedPython only).

    Empty when the plan compiles. Call it only under the ``unvalidated`` fixture.
    """
    try:
        ad.compile_plan(source, tools=())
    except ad.PlanRejected as rejected:
        return [d.code for d in rejected.diagnostics]
    return []


async def run(engine: ad.Engine, source: str, params: Any = None, *,
              agent: str = "attacker", policy: ad.PlanPolicy = FAST,
              tools: tuple[str, ...] = (), id: str | None = None) -> ad.InstanceStatus:
    """Register and run ``source`` to a terminal state under ``policy``."""
    scope = engine.agent(agent, tools=tools, policy=policy)
    await scope.register_plan("attack", source)
    instance = await scope.create("attack", params, id=id)
    return await instance.wait(timeout=30)


async def assert_stopped(engine: ad.Engine, source: str, error: str | tuple[str, ...],
                         params: Any = None, **kwargs: Any) -> ad.InstanceStatus:
    """The plan runs and ends ``errored`` with the named error; the engine stays usable."""
    status = await run(engine, source, params, **kwargs)
    names = (error,) if isinstance(error, str) else error
    assert status.status == "errored", (status.status, status.output)
    assert status.error is not None and status.error.name in names, status.error
    await assert_engine_alive(engine)
    return status


async def assert_output(engine: ad.Engine, source: str, expected: Any, params: Any = None,
                        **kwargs: Any) -> None:
    """The benign twin: the plan completes with ``expected``."""
    status = await run(engine, source, params, **kwargs)
    assert status.status == "complete", status.error
    assert status.output == expected


async def assert_engine_alive(engine: ad.Engine) -> None:
    """Another agent's plan still runs to completion on the same engine."""
    scope = engine.agent("bystander")
    await scope.register_plan("ok", 'async def run(event, step):\n    return "alive"\n')
    instance = await scope.create("ok")
    status = await instance.wait(timeout=30)
    assert (status.status, status.output) == ("complete", "alive")
