"""The README's "fixing a plan that is already running" example runs as written."""

from __future__ import annotations

from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock
from tests.test_readme import blocks

pytestmark = pytest.mark.anyio


async def test_readme_fixes_a_running_plan(tmp_path: Path) -> None:
    # the names the README imported in its first blocks; only this section's block runs
    # here (the adapter sections import heavy frameworks; tests/test_readme.py runs all)
    namespace: dict[str, object] = {"ad": ad, "FakeClock": FakeClock}
    [block] = [b for b in blocks("python") if "async def fix_a_running_plan" in b]
    exec(compile(block, "README.md", "exec"), namespace)
    final = await namespace["fix_a_running_plan"](str(tmp_path / "fix.db"))  # type: ignore[operator]
    assert isinstance(final, ad.InstanceStatus)
    assert final.output == {"total": 35}
