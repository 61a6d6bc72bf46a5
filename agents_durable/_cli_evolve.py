"""The ``agents-durable upgrade`` and ``fork`` commands (see ``cli``): move running
instances to a fixed plan version after a replay check, or fork one onto an edited plan.

    agents-durable upgrade PLAN [--version N] [--id ID ...] [--dry-run]
    agents-durable fork ID [--from-step NAME[:N]] [--plan NAME|HASH] [--new-id NEW]

``upgrade`` exits 1 when any instance was refused (each refusal is printed with its
divergence); with ``--dry-run`` it only reports.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import agents_durable as ad

__all__ = ["add_commands", "fork", "upgrade"]

EXIT_OK, EXIT_FAILED = 0, 1


def add_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    upgrade = add("upgrade", "move running instances of a plan to a newer version, if it "
                             "replays their journals exactly")
    upgrade.add_argument("plan", metavar="PLAN", help="plan name")
    upgrade.add_argument("--version", type=int, help="target version (default: the latest)")
    upgrade.add_argument("--id", dest="ids", action="append", metavar="ID",
                         help="only this instance (repeatable; default: every active one)")
    upgrade.add_argument("--dry-run", action="store_true",
                         help="only check which instances the version replays; move none")
    fork = add("fork", "start a new instance from a copy of another's journal")
    fork.add_argument("id", metavar="ID")
    fork.add_argument("--from-step", metavar="NAME[:N]",
                      help="copy the journal before occurrence N (default 1) of step NAME "
                           "(default: all of it)")
    fork.add_argument("--plan", help="run the fork on this plan name (latest) or hash")
    fork.add_argument("--new-id", help="the fork's id (default: random)")


def _line(check: ad.UpgradeCheck) -> str:
    if check.compatible:
        return f"  {check.id}: compatible ({check.replayed} of {check.recorded} steps replayed)"
    divergence = check.divergence
    text = divergence.message if divergence else "not compatible"
    if divergence is not None and divergence.line is not None:
        text += f" [line {divergence.line}: {(divergence.source or '').strip()}]"
    return f"  {check.id}: refused: {text}"


async def upgrade(args: argparse.Namespace, engine: ad.Engine,
                  emit: Callable[[argparse.Namespace, str, Any], None]) -> int:
    import agents_durable as ad

    agent = engine.agent(args.agent)
    target = await agent.get_plan(args.plan, version=args.version)
    ids = args.ids
    if ids is None:
        ids = []
        cursor = None
        while True:
            page = await agent.list(plan=target.name, limit=1000, cursor=cursor)
            ids += [s.id for s in page.items
                    if s.status in ("queued", "running", "waiting", "waiting_for_pause",
                                    "paused")]
            cursor = page.next_cursor
            if cursor is None:
                break
        ids.reverse()
    checks: list[ad.UpgradeCheck] = []
    for id in ids:
        if args.dry_run:
            checks += await agent.verify_upgrade([id], to=target)
            continue
        try:
            checks.append(await (await agent.get(id)).upgrade(to=target))
        except ad.UpgradeRefused as refused:
            checks += refused.checks
    moved = [c.id for c in checks if c.compatible]
    refused_checks = [c for c in checks if not c.compatible]
    verb = "would move" if args.dry_run else "moved"
    lines = [f"plan {target.name!r} v{target.version}: {verb} {len(moved)}, refused "
             f"{len(refused_checks)}", *(_line(c) for c in checks)]
    emit(args, "\n".join(lines), {
        "plan": target.name, "version": target.version, "dry_run": args.dry_run,
        "upgraded": moved, "checks": [c.model_dump(mode="json") for c in checks]})
    return EXIT_FAILED if refused_checks else EXIT_OK


async def fork(args: argparse.Namespace, engine: ad.Engine,
               emit: Callable[[argparse.Namespace, str, Any], None],
               from_step: tuple[str, int] | None) -> int:
    source = await engine.agent(args.agent).get(args.id)
    new = await source.fork(from_step, plan=args.plan, id=args.new_id)
    status = await new.status()
    emit(args, f"forked {args.id} into {new.id} (plan {status.plan!r} v{status.version})",
         {"id": new.id, "from": args.id, "plan": status.plan, "version": status.version,
          "status": status.status})
    return EXIT_OK
