"""The command line under faults: every failure is one ``error:`` line with a documented
exit code, never a traceback, and damaged data is reported instead of crashing."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

import agents_durable as ad
from agents_durable.cli import EXIT_PIPE, main
from agents_durable.errors import StoreError
from agents_durable.testing import FakeClock
from tests.cli.test_cli import _env, cli
from tests.faults.corruption import AGENT, HEALTHY, VICTIM, Damage, Ledger, build, damage

ECHO = '''
async def run(event, step):
    got = await step.wait_for_event("go", type="go", timeout="1 day")
    return [event.payload, got["payload"]]
'''


def _args(path: Path, *args: str) -> list[str]:
    return [*args, "--db", str(path), "--agent", AGENT]


@pytest.fixture(scope="module")
def corrupt_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corrupt") / "engine.db"
    anyio.run(build, path, FakeClock(), Ledger())
    return path


@pytest.fixture
def echo_db(tmp_path: Path) -> Path:
    """A database with plan "echo" and one instance "one" (queued: no worker ran)."""
    path = tmp_path / "engine.db"

    async def prepare() -> None:
        async with ad.Engine.open(path, worker=False) as engine:
            agent = engine.agent(AGENT)
            await agent.register_plan("echo", ECHO)
            await agent.create("echo", {"n": 1}, id="one")

    anyio.run(prepare)
    return path


# -- damaged rows ------------------------------------------------------------------------


@pytest.mark.parametrize("what", [
    Damage("instances", "status", "bogus"),
    Damage("instances", "wake_at", 1e300),
    Damage("instances", "created_at", "yesterday"),
    Damage("instances", "params", "{not json"),
    Damage("steps", "seq", "first", " AND seq = 0"),
    Damage("steps", "state", "committed", " AND seq = 0"),
    Damage("steps", "attempts", "three", " AND seq = 0"),
    Damage("events", "payload", "{bad", " AND type = 'note'"),
    Damage("logs", "at", "x"),
], ids=lambda d: d.label)
def test_commands_report_a_corrupt_row_and_serve_the_others(
        corrupt_template: Path, tmp_path: Path, what: Damage,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "engine.db"
    shutil.copyfile(corrupt_template, path)
    damage(path, what)
    for args in (["list"], ["list", "--json"], ["status", VICTIM], ["history", VICTIM],
                 ["history", VICTIM, "--json"]):
        assert main(_args(path, *args)) == 0, (args, capsys.readouterr().err)
        out, err = capsys.readouterr()
        assert err == "", (args, err)
        # a listing decodes instance rows only (not their params or journals), a status
        # adds the params and the steps, a history everything
        shown = {"list": what.table == "instances" and what.column != "params",
                 "status": what.table in ("instances", "steps")}.get(args[0], True)
        if shown:
            assert what.column_name in out, (args, out)
    for healthy in HEALTHY:
        assert main(_args(path, "status", healthy, "--json")) == 0
        status = json.loads(capsys.readouterr().out)
        assert (status["status"], status["corrupt"]) == ("waiting", None)


def test_a_corrupt_row_in_a_real_subprocess(corrupt_template: Path, tmp_path: Path) -> None:
    shutil.copyfile(corrupt_template, tmp_path / "engine.db")
    damage(tmp_path / "engine.db", Damage("instances", "status", "bogus"))
    listed = cli(tmp_path, "list", "--agent", AGENT, "--db", "engine.db")
    assert listed.returncode == 0 and listed.stderr == ""
    assert f"{VICTIM}: corrupt record: instances.status holds 'bogus'" in listed.stdout
    assert "errored (corrupt)" in listed.stdout
    assert all(f"{h:<24} waiting" in listed.stdout for h in HEALTHY)


# -- the database file -------------------------------------------------------------------


class Run:
    """``main(argv)`` in this process, as a shell runs it: exit code, stdout, stderr."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        capsys.readouterr()

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        return code, out, err

    def fails(self, code: int, *argv: str) -> str:
        """Run ``argv``; assert exit ``code`` and one ``error:`` line; return the line."""
        got, out, err = self(*argv)
        assert got == code, (argv, got, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
        return lines[0]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(capsys)


def test_a_truncated_database_is_refused_not_reinitialised(echo_db: Path, run: Run,
                                                            tmp_path: Path) -> None:
    echo_db.write_bytes(b"")  # truncated to zero, as a bad copy or a full disk leaves it
    for path in (echo_db.with_name("engine.db-wal"), echo_db.with_name("engine.db-shm")):
        path.unlink(missing_ok=True)
    (tmp_path / "plan.py").write_text(ECHO)
    for args in (("list",), ("status", "one"), ("start", "echo"),
                 ("submit", str(tmp_path / "plan.py")), ("worker",)):
        line = run.fails(1, *_args(echo_db, *args))
        assert str(echo_db) in line and "holds no agents_durable schema" in line
    assert echo_db.stat().st_size == 0  # still the evidence it was, not a new database

    async def engine_too() -> None:
        for worker in (False, True):
            with pytest.raises(StoreError, match="holds no agents_durable schema"):
                async with ad.Engine.open(echo_db, worker=worker):
                    pass
        for fresh in (echo_db.with_name("brand-new.db"), ":memory:"):
            async with ad.Engine.open(fresh) as engine:  # a new path still initialises
                await engine.agent("a").register_plan("echo", ECHO)

    anyio.run(engine_too)


def test_a_file_of_random_bytes_is_one_error_line(tmp_path: Path, run: Run) -> None:
    path = tmp_path / "engine.db"
    path.write_bytes(os.urandom(8192))
    for args in (("list",), ("status", "x"), ("start", "echo"), ("worker",)):
        line = run.fails(1, *_args(path, *args))
        assert str(path) in line and "not a readable" in line


def test_another_sqlite_database_is_refused(tmp_path: Path, run: Run) -> None:
    path = tmp_path / "engine.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    assert "something else" in run.fails(1, *_args(path, "list"))


_READ_ONLY_COMMANDS = [("start", "echo"), ("event", "one", "go"), ("pause", "one"),
                       ("worker",)]
_RUN_ALL = """
import json, sys
from agents_durable.cli import main
print(json.dumps([main(json.loads(argv)) for argv in sys.argv[1:]]))
"""


def test_a_read_only_database_is_one_error_line(echo_db: Path) -> None:
    """Every command that writes fails with one line (all in one process: under a
    read-only mount namespace when run as root, who ignores file modes)."""
    directory = echo_db.parent
    if os.geteuid() == 0:
        if shutil.which("unshare") is None or subprocess.run(
                ["unshare", "-m", "true"], capture_output=True).returncode != 0:
            pytest.skip("root without mount namespaces: no way to make a file read-only")
        script = (f'mount --bind "{directory}" "{directory}" && '
                  f'mount -o remount,bind,ro "{directory}" && exec "$@"')
        prefix = ["unshare", "-m", "sh", "-c", script, "sh"]
    else:
        prefix = []
        for path in (*directory.iterdir(), directory):
            path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-c", _RUN_ALL,
             *(json.dumps(_args(echo_db, *args)) for args in _READ_ONLY_COMMANDS)],
            env=_env(), capture_output=True, text=True, timeout=60)
    finally:
        if not prefix:
            for path in (directory, *directory.iterdir()):
                path.chmod(0o755 if path.is_dir() else 0o644)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [1] * len(_READ_ONLY_COMMANDS)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == len(_READ_ONLY_COMMANDS), done.stderr
    assert all(line.startswith("error: ") and str(echo_db) in line and "read-only" in line.lower()
               for line in lines), lines
    assert "Traceback" not in done.stderr


@pytest.mark.slow  # waits out SQLite's 10 s busy timeout
def test_a_locked_database_is_one_error_line(echo_db: Path, run: Run) -> None:
    holder = sqlite3.connect(echo_db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        line = run.fails(1, *_args(echo_db, "start", "echo"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked" in line and str(echo_db) in line


# -- --tools -----------------------------------------------------------------------------


TOOLS = '''
import os


def raises(registry):
    raise RuntimeError("the ticket system is down")


def records(registry):
    db = os.environ["AGENTS_DURABLE_DB"]
    with open(os.environ["MARKER"], "w") as marker:
        marker.write("locked" if os.path.exists(db + ".lock") else "not locked")
    registry.register("ping", lambda: "pong")
    return ["ping"]
'''


def test_a_tools_function_that_raises(echo_db: Path, run: Run) -> None:
    tools = echo_db.parent / "raising_tools.py"
    tools.write_text(TOOLS)
    (echo_db.parent / "plan.py").write_text(ECHO)
    spec = f"{tools}:raises"
    line = run.fails(2, *_args(echo_db, "submit", str(echo_db.parent / "plan.py"),
                               "--tools", spec))
    assert "RuntimeError: the ticket system is down" in line
    for _ in range(3):  # three failed starts must not quarantine anything
        line = run.fails(2, *_args(echo_db, "worker", "--tools", spec))
        assert "the ticket system is down" in line
    run.fails(2, *_args(echo_db, "worker", "--tools", f"{echo_db.parent}/nowhere.py:x"))
    assert not Path(f"{echo_db}.lock").exists()  # never opened as a worker
    conn = sqlite3.connect(echo_db)
    try:
        assert conn.execute("SELECT status, crashes FROM instances").fetchall() == [
            ("queued", 0)]
    finally:
        conn.close()


def test_the_worker_loads_tools_before_it_opens_the_database(echo_db: Path) -> None:
    (echo_db.parent / "host_tools.py").write_text(TOOLS)
    marker = echo_db.parent / "marker"
    env = _env(AGENTS_DURABLE_DB=str(echo_db), AGENTS_DURABLE_AGENT=AGENT,
               MARKER=str(marker))
    worker = subprocess.Popen(
        [sys.executable, "-m", "agents_durable", "worker", "--tools", "host_tools.py:records",
         "--poll", "0.1"], cwd=echo_db.parent, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        assert "tools: ping" in worker.stdout.readline()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    assert worker.returncode == 0
    assert marker.read_text() == "not locked"


# -- output and JSON options -------------------------------------------------------------


def test_output_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    path = tmp_path / "engine.db"

    async def many() -> None:
        async with ad.Engine.open(path, worker=False) as engine:
            agent = engine.agent(AGENT)
            await agent.register_plan("echo", ECHO)
            for batch in range(10):
                await agent.create_batch([{"plan": "echo", "id": f"i-{batch}-{n}"}
                                          for n in range(100)])

    anyio.run(many)
    # `agents-durable list ... | head -c 100`: head reads a little, then goes away
    reader = subprocess.Popen(
        [sys.executable, "-m", "agents_durable", "list", "--limit", "1000", "--db",
         str(path), "--agent", AGENT], env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    assert reader.stdout is not None
    assert reader.stdout.read(100)
    reader.stdout.close()
    _, err = reader.communicate(timeout=30)
    assert err == b"", err
    assert reader.returncode == EXIT_PIPE


def test_json_options_from_a_file_and_from_stdin(echo_db: Path, run: Run,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    params = echo_db.parent / "params.json"
    params.write_text('{\n  "order": "café ☕"\n}\n', encoding="utf-8")
    code, _, err = run(*_args(echo_db, "start", "echo", "--params", f"@{params}", "--id",
                              "two"))
    assert code == 0, err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"from": "stdin"}')))
    code, _, err = run(*_args(echo_db, "event", "two", "go", "--payload", "-"))
    assert code == 0, err

    async def check() -> None:
        async with ad.Engine.open(echo_db) as engine:
            final = await (await engine.agent(AGENT).get("two")).wait(timeout=20)
            assert final.output == [{"order": "café ☕"}, {"from": "stdin"}]

    anyio.run(check)
    missing = echo_db.parent / "missing.json"
    assert f"cannot read {str(missing)!r}" in run.fails(
        2, *_args(echo_db, "start", "echo", "--params", f"@{missing}"))
    assert "name a file" in run.fails(2, *_args(echo_db, "start", "echo", "--params", "@"))
    params.write_text("{broken", encoding="utf-8")
    assert f"--params @{params} is not valid JSON" in run.fails(
        2, *_args(echo_db, "start", "echo", "--params", f"@{params}"))
    params.write_bytes(b'"\xff"')
    assert "is not UTF-8 text" in run.fails(
        2, *_args(echo_db, "start", "echo", "--params", f"@{params}"))


def test_the_payload_limit_is_bytes_and_reachable_from_a_shell(
        echo_db: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = echo_db.parent
    # 450,000 "é" are 900,000 bytes of UTF-8 (2,700,000 characters as \\u escapes): fits
    (directory / "under.json").write_text(json.dumps({"text": "é" * 450_000},
                                                     ensure_ascii=False), encoding="utf-8")
    # 600,000 "é" are 1,200,000 bytes: over the 1 MiB (1,048,576 bytes) limit
    (directory / "over.json").write_text(json.dumps({"text": "é" * 600_000},
                                                    ensure_ascii=False), encoding="utf-8")
    code, _, err = run(*_args(echo_db, "event", "one", "go", "--payload",
                              f"@{directory / 'under.json'}"))
    assert code == 0, err
    line = run.fails(1, *_args(echo_db, "event", "one", "go", "--payload",
                               f"@{directory / 'over.json'}"))
    assert "1,200,012 bytes of JSON" in line and "1,048,576 bytes" in line
    assert "characters" not in line
    line = run.fails(1, *_args(echo_db, "start", "echo", "--params",
                               f"@{directory / 'over.json'}"))
    assert "params is 1,200,012 bytes of JSON" in line
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b" " * (17 << 20))))
    line = run.fails(2, *_args(echo_db, "start", "echo", "--params", "-"))
    assert "more than 16,777,216 bytes" in line
