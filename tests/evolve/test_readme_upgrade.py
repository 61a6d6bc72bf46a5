"""The README's "fixing a plan that is already running" example runs as written."""

from __future__ import annotations

from pathlib import Path

import pytest

import agents_durable as ad
from tests.test_readme import blocks

pytestmark = pytest.mark.anyio


async def test_readme_fixes_a_running_plan(tmp_path: Path) -> None:
    namespace: dict[str, object] = {}
    for block in blocks("python"):
        exec(compile(block, "README.md", "exec"), namespace)
    final = await namespace["fix_a_running_plan"](str(tmp_path / "fix.db"))  # type: ignore[operator]
    assert isinstance(final, ad.InstanceStatus)
    assert final.output == {"total": 35}
