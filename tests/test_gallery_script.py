"""``plans/run_plan.py``: the plain-Python way to submit a plan file and run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("plan_file", ["order_followup.py", "subscription_trial.py"])
def test_script_submits_a_gallery_plan_file_and_runs_it(plan_file: str,
                                                        tmp_path: Path) -> None:
    db = tmp_path / "gallery.db"
    done = subprocess.run([sys.executable, "plans/run_plan.py", plan_file, "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"registered '{plan_file[:-3].replace('_', '-')}' v1" in done.stdout
    assert ": complete (plan" in done.stdout
    assert db.exists()  # the run was durable, on the file the user named
