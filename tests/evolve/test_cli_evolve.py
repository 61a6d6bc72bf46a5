"""``agents-durable upgrade``, ``fork`` and the schedule commands, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from tests.cli.test_cli import cli
from tests.evolve.test_upgrade import V1, V2_FIXED, V2_RENAMED


def test_upgrade_and_fork_from_the_command_line(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from agents_durable.cli import main

    db = tmp_path / "cli.db"
    base = ["--db", str(db), "--agent", "shop"]

    async def setup() -> None:
        # the real clock throughout: the first command runs in a process of its own
        async with ad.Engine.open(db) as engine:
            agent = engine.agent("shop")
            await agent.register_plan("order", V1)
            instance = await agent.create("order", id="o1")
            with anyio.fail_after(10):
                while (await instance.status()).status != "waiting":
                    await anyio.sleep(0.02)
            await agent.register_plan("order", V2_RENAMED)
            await agent.register_plan("order", V2_FIXED)

    anyio.run(setup)
    refused = cli(tmp_path, "upgrade", "order", "--version", "2", *base)
    assert refused.returncode == 1, refused.stderr
    assert "o1: refused" in refused.stdout and "'fetch order'" in refused.stdout
    assert "line 5" in refused.stdout

    # the same command line in this process (a subprocess each costs a second)
    assert main(["upgrade", "order", "--dry-run", "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out)["upgraded"] == ["o1"]
    assert main(["upgrade", "order", "--id", "o1", "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 3
    assert main(["fork", "o1", "--from-step", "approval", "--new-id", "o2", "--json",
                 *base]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "o2"

    async def finish() -> None:
        async with ad.Engine.open(db) as engine:
            agent = engine.agent("shop")
            for id in ("o1", "o2"):
                instance = await agent.get(id)
                await instance.send_event("approved")
                status = await instance.wait(timeout=10)
                assert (status.version, status.output) == (3, 35)

    anyio.run(finish)


def test_fork_from_an_unknown_step_is_one_usage_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    from agents_durable.cli import main

    db = tmp_path / "usage.db"

    async def setup() -> None:
        async with ad.Engine.open(db, worker=False) as engine:
            agent = engine.agent("shop")
            await agent.register_plan("order", V1)
            await agent.create("order", id="o1")

    anyio.run(setup)
    code = main(["fork", "o1", "--from-step", "nope", "--db", str(db), "--agent", "shop"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("error: ") and len(captured.err.splitlines()) == 1
    assert "no recorded step 'nope'" in captured.err
    assert main(["upgrade", "nope", "--db", str(db), "--agent", "shop"]) == 1
    assert "no plan with name 'nope'" in capsys.readouterr().err


def test_schedules_from_the_command_line(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from agents_durable.cli import main

    db = tmp_path / "sched.db"

    async def setup() -> None:
        async with ad.Engine.open(db, worker=False) as engine:
            await engine.agent("ops").register_plan("order", V1)

    anyio.run(setup)
    base = ["--db", str(db), "--agent", "ops"]
    assert main(["schedule", "daily", "order", "--cron", "0 9 * * *", "--timezone",
                 "Europe/Berlin", "--params", '{"n": 1}', "--overlap", "queue", *base]) == 0
    assert "daily: plan 'order' at '0 9 * * *' (Europe/Berlin), overlap queue" in \
        capsys.readouterr().out
    assert main(["schedule-pause", "daily", *base]) == 0
    assert "paused" in capsys.readouterr().out
    assert main(["schedules", "--json", *base]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["name"], listed["paused"], listed["params"]) == ("daily", True, {"n": 1})
    assert main(["schedule-resume", "daily", *base]) == 0
    assert "next " in capsys.readouterr().out
    assert main(["schedule", "bad", "order", "--cron", "nope", *base]) == 2
    assert "cron expression 'nope' is invalid" in capsys.readouterr().err
    assert main(["schedule-delete", "daily", *base]) == 0
    assert main(["schedule-delete", "daily", *base]) == 2
