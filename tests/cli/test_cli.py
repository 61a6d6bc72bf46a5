"""The ``agents-durable`` command, driven as a user drives it: in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agents_durable.cli import main
from tests.conftest import ROOT

TOOLS = f"{ROOT / 'plans' / 'gallery_tools.py'}:register_gallery_tools"

PLAN = '''"""Look an order up, then wait for the customer's confirmation."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["order_id"]))
    reply = await step.wait_for_event("confirmation", type="confirmed", timeout="1 hour")
    print("confirmed by", reply["payload"]["by"])
    return {"order": order["id"], "by": reply["payload"]["by"]}
'''

BAD_PLAN = '''import random


async def run(event, step):
    return random.random()
'''


def cli(cwd: Path, *args: str, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agents_durable", *args], cwd=cwd,
                          env=env or _env(), capture_output=True, text=True, timeout=60)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTS_DURABLE_")}
    return {**env, **extra}


def status_of(cwd: Path, instance_id: str) -> dict[str, Any]:
    done = cli(cwd, "status", instance_id, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def assert_one_clean_line(done: subprocess.CompletedProcess[str]) -> None:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_check_reports_diagnostics_with_codes(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BAD_PLAN)
    (tmp_path / "good.py").write_text(PLAN)
    bad = cli(tmp_path, "check", "bad.py")
    assert bad.returncode == 1
    assert "bad.py:1:" in bad.stdout and "ADP201" in bad.stdout
    good = cli(tmp_path, "check", "good.py")
    assert good.returncode == 0 and "good.py: ok" in good.stdout
    as_json = json.loads(cli(tmp_path, "check", "bad.py", "--json").stdout)
    assert as_json["ok"] is False
    assert [d["code"] for d in as_json["diagnostics"]] == ["ADP201"]


def test_submit_start_worker_event_until_complete(tmp_path: Path) -> None:
    (tmp_path / "confirm.py").write_text(PLAN)
    rejected = cli(tmp_path, "submit", "confirm.py")  # no tools granted: ADP406
    assert rejected.returncode == 1 and "ADP406" in rejected.stderr

    submitted = cli(tmp_path, "submit", "--agent", "shop", "confirm.py", "--tools", TOOLS,
                    "--json")
    assert submitted.returncode == 0, submitted.stderr
    version = json.loads(submitted.stdout)
    assert (version["name"], version["version"], version["agent_id"]) == (
        "confirm", 1, "shop")

    started = cli(tmp_path, "start", "--agent", "shop", "confirm", "--params",
                  '{"order_id": 41}', "--id", "order-41", "--json")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["id"] == "order-41"

    worker = subprocess.Popen(
        [sys.executable, "-m", "agents_durable", "worker", "--tools", TOOLS, "--poll", "0.1"],
        cwd=tmp_path, env=_env(AGENTS_DURABLE_AGENT="shop"), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        assert "worker running" in worker.stdout.readline()
        shop = _env(AGENTS_DURABLE_AGENT="shop")
        deadline = time.monotonic() + 30
        while cli(tmp_path, "status", "order-41", "--json", env=shop).stdout.find(
                '"waiting"') < 0:
            assert time.monotonic() < deadline, "the worker never reached the wait"
            time.sleep(0.1)
        # The id belongs to agent "shop": for the default agent it does not exist.
        foreign = cli(tmp_path, "event", "order-41", "confirmed", "--payload", "{}")
        assert foreign.returncode == 1
        assert_one_clean_line(foreign)
        sent = cli(tmp_path, "event", "--agent", "shop", "order-41", "confirmed",
                   "--payload", '{"by": "ada"}')
        assert sent.returncode == 0, sent.stderr
        while (status := json.loads(cli(tmp_path, "status", "order-41", "--json",
                                        env=shop).stdout))["status"] != "complete":
            assert status["status"] in ("waiting", "queued", "running"), status
            assert time.monotonic() < deadline, "the instance never completed"
            time.sleep(0.1)
        assert status["output"] == {"order": 41, "by": "ada"}
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "SIGTERM" in out and "worker stopped" in out
    assert "Traceback" not in err

    history = cli(tmp_path, "history", "--agent", "shop", "order-41")
    assert history.returncode == 0
    assert "load order" in history.stdout and "confirmed by ada" in history.stdout
    journal = json.loads(cli(tmp_path, "history", "--agent", "shop", "order-41",
                             "--json").stdout)
    assert [s["name"] for s in journal["steps"]] == ["load order", "confirmation"]
    assert [e["type"] for e in journal["events"]] == ["confirmed"]
    listed = json.loads(cli(tmp_path, "list", "--agent", "shop", "--json").stdout)
    assert [(i["id"], i["status"]) for i in listed["items"]] == [("order-41", "complete")]


def test_expected_failures_are_one_line_with_documented_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "confirm.py").write_text(PLAN)
    missing_db = cli(tmp_path, "status", "nope")
    assert missing_db.returncode == 1
    assert_one_clean_line(missing_db)
    assert cli(tmp_path, "submit", "confirm.py", "--tools", TOOLS).returncode == 0

    unknown = cli(tmp_path, "status", "no-such-id")
    assert unknown.returncode == 1
    assert_one_clean_line(unknown)
    assert "InstanceNotFound" in unknown.stderr

    bad_json = cli(tmp_path, "start", "confirm", "--params", "{not json")
    assert bad_json.returncode == 2
    assert_one_clean_line(bad_json)
    assert "--params is not valid JSON" in bad_json.stderr

    unknown_plan = cli(tmp_path, "start", "no-such-plan")
    assert unknown_plan.returncode == 1
    assert_one_clean_line(unknown_plan)

    bad_tools = cli(tmp_path, "worker", "--tools", "no_such_module_xyz:register")
    assert bad_tools.returncode == 2
    assert_one_clean_line(bad_tools)

    usage = cli(tmp_path, "start")
    assert usage.returncode == 2
    assert_one_clean_line(usage)


@pytest.mark.parametrize("command", ["pause", "resume", "terminate", "restart"])
def test_control_commands_on_an_unknown_id(tmp_path: Path, command: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "ops.db")
    (tmp_path / "confirm.py").write_text(PLAN)
    assert main(["submit", "--db", db, str(tmp_path / "confirm.py"), "--tools", TOOLS]) == 0
    capsys.readouterr()
    assert main([command, "--db", db, "ghost"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: InstanceNotFound") and err.count("\n") == 1


def test_operations_on_a_queued_instance(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "ops.db")
    (tmp_path / "confirm.py").write_text(PLAN)
    assert main(["submit", "--db", db, str(tmp_path / "confirm.py"), "--tools", TOOLS]) == 0
    assert main(["start", "--db", db, "confirm", "--id", "o1", "--params",
                 '{"order_id": 1}']) == 0
    capsys.readouterr()
    assert main(["pause", "--db", db, "o1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "paused"
    assert main(["resume", "--db", db, "o1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "queued"
    assert main(["terminate", "--db", db, "o1"]) == 0
    capsys.readouterr()
    assert main(["terminate", "--db", db, "o1"]) == 1
    assert "InstanceNotActive" in capsys.readouterr().err
    assert main(["restart", "--db", db, "o1", "--from-step", "load order:1"]) == 2
    assert "no recorded step 'load order'" in capsys.readouterr().err


def test_demo_runs_the_gallery_plan_with_gallery_tools() -> None:
    done = cli(ROOT, "demo")
    assert done.returncode == 0, done.stderr
    assert "from plans/gallery_tools.py:register_gallery_tools" in done.stdout
    assert "two days later" in done.stdout
    assert "complete" in done.stdout.splitlines()[-1]
