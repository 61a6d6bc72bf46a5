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
        ids = await agent.active_ids(target.name)
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


def add_schedule_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> None:
    schedule = add("schedule", "start a plan at every slot of a cron expression")
    schedule.add_argument("name", metavar="NAME", help="schedule name (replaces one so named)")
    schedule.add_argument("plan", metavar="PLAN", help="plan name (its latest version runs)")
    schedule.add_argument("--cron", required=True, help="five fields, e.g. '0 9 * * MON'")
    schedule.add_argument("--timezone", default="UTC", help="IANA zone (default UTC)")
    schedule.add_argument("--params", help="params as JSON, @FILE or - for stdin")
    schedule.add_argument("--overlap", default="skip", choices=("skip", "queue", "allow"))
    schedule.add_argument("--catch-up", default="latest", choices=("none", "latest", "all"))
    add("schedules", "list the agent's schedules")
    for name, help in (("schedule-pause", "stop a schedule firing"),
                       ("schedule-resume", "fire a paused schedule again from now on"),
                       ("schedule-delete", "delete a schedule (its instances stay)")):
        add(name, help).add_argument("name", metavar="NAME")


def _schedule_line(schedule: ad.Schedule) -> str:
    when = "paused" if schedule.paused else f"next {schedule.next_at:%Y-%m-%d %H:%M} UTC"
    return (f"{schedule.name}: plan {schedule.plan!r} at '{schedule.cron}' "
            f"({schedule.timezone}), overlap {schedule.overlap}, catch-up "
            f"{schedule.catch_up}; {when}")


async def schedules(args: argparse.Namespace, engine: ad.Engine,
                    emit: Callable[[argparse.Namespace, str, Any], None], params: Any) -> int:
    agent = engine.agent(args.agent)
    if args.command == "schedule":
        made = await agent.schedule(args.name, args.plan, cron=args.cron,
                                    timezone=args.timezone, params=params,
                                    overlap=args.overlap, catch_up=args.catch_up)
        emit(args, _schedule_line(made), made.model_dump(mode="json"))
        return EXIT_OK
    if args.command == "schedules":
        found = await agent.schedules()
        text = "\n".join(_schedule_line(s) for s in found) or \
            f"no schedules for agent {args.agent!r}"
        emit(args, text, [s.model_dump(mode="json") for s in found])
        return EXIT_OK
    if args.command == "schedule-delete":
        await agent.delete_schedule(args.name)
        emit(args, f"deleted schedule {args.name}", {"ok": True, "name": args.name})
        return EXIT_OK
    changed = await (agent.pause_schedule(args.name) if args.command == "schedule-pause"
                     else agent.resume_schedule(args.name))
    emit(args, _schedule_line(changed), changed.model_dump(mode="json"))
    return EXIT_OK
