"""Run every task that has a plan and print the outcome table for the closing note.

    python -m tests.corpus.report                      # plans in tests/corpus/plans/
    python -m tests.corpus.report --plans DIR          # another directory of plans

Per task: the outcome class (``ok``, ``wrong``, ``errored``, ``rejected``) and why; then
totals: accepted = registered without rejection, correct = ``ok``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.corpus.runner import PLANS, Outcome, run_task_sync, task_names

__all__ = ["main", "run_all"]


def run_all(plans: Path) -> list[Outcome]:
    """Run each task that has ``<plans>/<task>.py``, each on a fresh database."""
    outcomes = []
    for name in task_names():
        plan = plans / f"{name}.py"
        if not plan.exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            outcomes.append(run_task_sync(name, plan.read_text(encoding="utf-8"),
                                          Path(tmp) / "corpus.db"))
    return outcomes


def table(outcomes: list[Outcome], total_tasks: int) -> str:
    width = max([len(o.task) for o in outcomes] + [4])
    lines = [f"{'task':<{width}}  outcome   detail", f"{'-' * width}  --------  ------"]
    for o in outcomes:
        detail = o.summary().replace("\n", " ")
        lines.append(f"{o.task:<{width}}  {o.outcome:<8}  {detail[:160]}")
    ran = len(outcomes)
    accepted = sum(o.accepted for o in outcomes)
    correct = sum(o.outcome == "ok" for o in outcomes)
    by_class = {k: sum(o.outcome == k for o in outcomes)
                for k in ("ok", "wrong", "errored", "rejected")}

    def pct(n: int) -> str:
        return f"{100 * n / ran:.0f}%" if ran else "-"

    lines += ["", f"tasks: {total_tasks}, with a plan: {ran}",
              f"accepted (registered without rejection): {accepted}/{ran} ({pct(accepted)})",
              f"correct (ok): {correct}/{ran} ({pct(correct)})",
              "by class: " + ", ".join(f"{k} {v}" for k, v in by_class.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=Path, default=PLANS,
                        help="directory of <task>.py plans (default: tests/corpus/plans)")
    args = parser.parse_args(argv)
    print(table(run_all(args.plans), len(task_names())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
