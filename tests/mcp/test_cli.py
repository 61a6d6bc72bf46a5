"""``agents-durable mcp`` fails like every other command: one line, an exit code."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
import pytest

import agents_durable as ad
from agents_durable.cli import EXIT_FAILED, EXIT_USAGE, main


def test_a_bad_result_cap_is_a_usage_error(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["mcp", "--db", str(tmp_path / "x.db"), "--max-result-chars", "10"])
    assert code == EXIT_USAGE
    assert capsys.readouterr().err == "error: --max-result-chars must be at least 1000\n"


def test_an_unloadable_tools_spec_is_a_usage_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["mcp", "--db", str(tmp_path / "x.db"), "--tools", "no_such_module:f"])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: --tools: importing 'no_such_module' failed")
    assert "Traceback" not in err


@pytest.mark.anyio
async def test_a_second_worker_on_the_database_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "x.db"
    async with ad.Engine.open(db):  # a worker holds the database
        code = await anyio.to_thread.run_sync(main, ["mcp", "--db", str(db), "--worker"])
    assert code == EXIT_FAILED
    err = capsys.readouterr().err
    assert "another engine worker is already running" in err
    assert err.count("\n") == 1
