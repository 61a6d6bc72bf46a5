"""The ``agents-durable`` command.

    agents-durable demo [--db PATH]      run a gallery plan end to end, showing progress
    agents-durable check PLAN.py         validate a plan file; exit 1 with diagnostics

Expected failures print one clear line (or the diagnostics) and exit non-zero; they never
print a traceback.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

DEMO_PLAN = '''"""Follow up on an order until the customer confirms delivery."""


async def run(event, step):
    order = await step.do("load order", lambda: tools.orders.get(event.payload["order_id"]))
    await step.sleep("let the courier work", "2 days")
    try:
        reply = await step.wait_for_event("customer reply", type="delivery-confirmed",
                                          timeout="5 days")
    except EventTimeout:
        await step.do("escalate", lambda: tools.tickets.open(order["id"], "no confirmation"))
        return {"order": order["id"], "confirmed": False}
    return {"order": order["id"], "confirmed": True, "note": reply["payload"].get("note")}
'''


def _get_order(order_id: int) -> dict[str, Any]:
    """Look up an order by id."""
    return {"id": order_id, "item": "espresso machine", "customer": "ada@example.com"}


def _open_ticket(order_id: int, reason: str) -> dict[str, Any]:
    """Open a support ticket about an order."""
    return {"ticket": f"T-{order_id}", "reason": reason}


async def _demo(db: str | None) -> int:
    import agents_durable as ad
    from agents_durable.testing import FakeClock

    say = print
    with tempfile.TemporaryDirectory() as tmp:
        path = db or str(Path(tmp) / "demo.db")
        clock = FakeClock()
        say(f"agents-durable demo: engine on SQLite at {path} (a fake clock fast-forwards "
            "the days)")
        async with ad.Engine.open(path, clock=clock) as engine:
            engine.tools.register("orders.get", _get_order)
            engine.tools.register("tickets.open", _open_ticket)
            agent = engine.agent("support-bot", tools=["orders.get", "tickets.open"])
            version = await agent.register_plan("order-followup", DEMO_PLAN)
            say(f"registered plan {version.name!r} v{version.version} "
                f"(hash {version.hash[:12]}): {version.description}")
            for entry in version.outline:
                say(f"  outline: line {entry.line:>2}  step.{entry.kind}({entry.label!r})")
            instance = await agent.create("order-followup", {"order_id": 7},
                                          id=f"order-7-{clock.now():.0f}")
            await clock.settle()
            await _progress(instance, "created")
            await clock.advance("2 days")
            await _progress(instance, "two days later")
            await instance.send_event("delivery-confirmed", {"note": "left at the door"})
            final = await instance.wait(timeout=30)
            await _progress(instance, "event sent")
            say(f"instance {instance.id}: {final.status}, output {final.output}")
            return EXIT_OK if final.status == "complete" else EXIT_FAILED


async def _progress(instance: Any, moment: str) -> None:
    status = await instance.status()
    steps = ", ".join(f"{s.name} [{s.state}]" for s in status.steps) or "no steps yet"
    print(f"  {moment:<15} status={status.status:<9} steps: {steps}")


def _check(path: str) -> int:
    from agents_durable import validate_plan

    try:
        source = Path(path).read_text()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    diagnostics = validate_plan(source)
    for diagnostic in diagnostics:
        print(f"{path}:{diagnostic.line}:{diagnostic.column}: {diagnostic.code} "
              f"{diagnostic.message}" + (f" Fix: {diagnostic.hint}" if diagnostic.hint else ""))
    if any(d.severity == "error" for d in diagnostics):
        return EXIT_FAILED
    print(f"{path}: ok")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agents-durable",
                                     description="Durable plans written by AI agents.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a plan end to end on SQLite")
    demo.add_argument("--db", help="database file (default: a temporary file)")
    check = commands.add_parser("check", help="validate a plan file")
    check.add_argument("plan", help="path to the plan's .py file")
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args.plan)
    return anyio.run(_demo, args.db)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
