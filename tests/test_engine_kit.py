"""The deployment kit in engine/ does what engine/README.md says."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock

ROOT = Path(__file__).resolve().parent.parent
KIT = ROOT / "engine"

PLAN = '''"""Tell someone, exactly once."""


async def run(event, step):
    async def send(ctx):
        return await tools.notify.send(event.payload["to"], "hello",
                                       idempotency_key=ctx.idempotency_key)
    receipt = await step.do("notify", send)
    await step.sleep("wait a day", "1 day")
    return receipt
'''


def cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agents_durable", *args, "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_example_tools_module_loads_through_the_cli(tmp_path: Path) -> None:
    plan = tmp_path / "notify.py"
    plan.write_text(PLAN)
    db = tmp_path / "kit.db"
    submitted = cli("submit", "--agent", "support-bot", str(plan), "--name", "notify",
                    "--tools", "engine/tools_example.py:register", db=db)
    assert submitted.returncode == 0, submitted.stderr
    without_tools = cli("submit", "--agent", "support-bot", str(plan), "--name", "notify",
                        db=db)
    assert without_tools.returncode == 1
    assert "ADP406" in without_tools.stdout + without_tools.stderr


@pytest.mark.anyio
async def test_online_backup_of_a_running_engine_restores(tmp_path: Path) -> None:
    sys.path.insert(0, str(KIT))
    try:
        import tools_example
    finally:
        sys.path.remove(str(KIT))
    db, backup = tmp_path / "live.db", tmp_path / "backup.db"
    clock = FakeClock()
    async with ad.Engine.open(db, clock=clock) as engine:
        granted = tools_example.register(engine.tools)
        agent = engine.agent("support-bot", tools=granted)
        await agent.register_plan("notify", PLAN)
        await agent.create("notify", {"to": "ada"}, id="n1")
        await clock.settle()
        assert (await (await agent.get("n1")).status()).status == "waiting"
        source = sqlite3.connect(db)  # the procedure from engine/README.md, while running
        with sqlite3.connect(backup) as target:
            source.backup(target)
        source.close()

    restored_clock = FakeClock(clock.now())
    async with ad.Engine.open(backup, clock=restored_clock) as engine:
        tools_example.register(engine.tools)
        agent = engine.agent("support-bot", tools=["notify.send"])
        instance = await agent.get("n1")
        await restored_clock.advance("1 day")
        final = await instance.wait(timeout=20)
    assert final.status == "complete"
    assert final.output["to"] == "ada"
    assert [s.name for s in final.steps] == ["notify", "wait a day"]
