"""The README's Python blocks run as written, and its commands are what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import agents_durable as ad

README = Path(__file__).resolve().parent.parent / "README.md"
CI = Path(__file__).resolve().parent.parent / ".ci" / "run"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S)


@pytest.mark.anyio
async def test_readme_python_blocks_run(tmp_path: Path) -> None:
    namespace: dict[str, object] = {}
    for block in blocks("python"):
        exec(compile(block, str(README), "exec"), namespace)
    final = await namespace["main"](str(tmp_path / "readme.db"))  # type: ignore[operator]
    assert isinstance(final, ad.InstanceStatus)
    assert final.output == {"order": 7, "confirmed": True, "note": "left at the door"}


@pytest.mark.anyio
async def test_readme_isolation_block_runs(tmp_path: Path) -> None:
    namespace: dict[str, object] = {}
    for block in blocks("python"):
        exec(compile(block, str(README), "exec"), namespace)
    final = await namespace["isolated"](str(tmp_path / "isolated.db"))  # type: ignore[operator]
    assert isinstance(final, ad.InstanceStatus)
    assert (final.status, final.output) == ("complete", "hi")


def test_readme_plan_validates_clean() -> None:
    namespace: dict[str, object] = {}
    exec(blocks("python")[0], namespace)
    assert ad.validate_plan(str(namespace["PLAN"]), tools={"orders.get", "tickets.open"}) == []


def test_ci_runs_the_readme_test_command() -> None:
    test_command = blocks("bash")[1].strip()
    assert "pytest" in test_command
    assert test_command in CI.read_text().splitlines()
