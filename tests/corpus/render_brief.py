"""Write the brief a blind plan author gets for each task: instructions plus the task text.

    python -m tests.corpus.render_brief <out_dir>

For every task, ``<out_dir>/<task>.md`` holds the full ``PlanToolkit.instructions()`` for
an engine that has exactly that task's tools registered and granted, then a line
``## Your task``, the task's ``TASK`` text and the closing instruction. Nothing else of
the task module (its checks, scenario, fixtures) reaches the brief.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

import agents_durable as ad
from agents_durable.agents import PlanToolkit
from tests.corpus.runner import AGENT_ID, load_task, task_names

__all__ = ["CLOSING", "render_all", "render_brief", "write_briefs"]

CLOSING = "Write the plan as one Python module. Reply with only the module source."


async def render_brief(name: str) -> str:
    """The brief for task ``name``."""
    task = load_task(name)
    tools, _ = task.make_tools()
    async with ad.Engine.open(":memory:", worker=False) as engine:
        for tool_name, fn in tools.items():
            engine.tools.register(tool_name, fn)
        instructions = PlanToolkit(engine, AGENT_ID, tools=sorted(tools)).instructions()
    return f"{instructions.rstrip()}\n\n## Your task\n\n{task.TASK.strip()}\n\n{CLOSING}\n"


async def render_all() -> dict[str, str]:
    """Every task's brief, by task name."""
    return {name: await render_brief(name) for name in task_names()}


def write_briefs(out_dir: Path) -> list[Path]:
    """Write every task's brief into ``out_dir``; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in anyio.run(render_all, backend="asyncio").items():
        path = out_dir / f"{name}.md"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.corpus.render_brief <out_dir>", file=sys.stderr)
        return 2
    written = write_briefs(Path(argv[0]))
    print(f"wrote {len(written)} briefs to {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
