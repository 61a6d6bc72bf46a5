"""Evolving instances in flight: verified upgrades and forks (the agent-scoped operations).

``verify`` replays journals against a target version (``_replay_check``); ``upgrade``
repins an instance only when that replay is exact, in one conditional store transaction
that also writes the audit entry; ``fork`` copies a journal prefix into a new instance,
optionally on another version that must replay the prefix exactly.

An upgrade never races an activation: the store applies it only while the instance is not
running and its journal is still the verified one; otherwise the check runs again on the
newer journal (an instance that keeps running is waited for, briefly).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import anyio

from agents_durable.engine._models import PlanVersion
from agents_durable.engine._replay_check import UpgradeCheck, UpgradeReport, check_replay
from agents_durable.errors import (
    InstanceNotActive,
    InstanceNotFound,
    UpgradeRefused,
    UsageError,
)
from agents_durable.store import TERMINAL_STATUSES, InstanceRecord, Journal, NewInstance

if TYPE_CHECKING:
    from agents_durable.engine._agent import AgentScope, Instance

__all__ = ["PlanTarget", "fork", "upgrade", "upgrade_all", "verify"]

#: ``to=``: a ``PlanVersion``, a plan version hash, a version number of the instance's own
#: plan, or None for the latest version of the instance's plan.
PlanTarget = PlanVersion | str | int | None

_ACTIVE = ("queued", "waiting", "paused", "running")
#: How often an upgrade re-checks an instance whose journal moved (or that was running).
_ATTEMPTS = 40


async def _target(scope: AgentScope, record: InstanceRecord, to: PlanTarget) -> PlanVersion:
    if to is None:
        target = await scope.get_plan(record.plan_name)
    elif isinstance(to, bool):
        raise UsageError("to= must be a PlanVersion, a version hash or a version number")
    elif isinstance(to, int):
        target = await scope.get_plan(record.plan_name, version=to)
    elif isinstance(to, PlanVersion):
        target = await scope.get_plan(hash=to.hash)
    elif isinstance(to, str):
        target = await scope.get_plan(hash=to)
    else:
        raise UsageError(f"to= must be a PlanVersion, a version hash or a version number, "
                         f"not {type(to).__name__}")
    if target.name != record.plan_name:
        raise UsageError(f"instance {record.id!r} runs plan {record.plan_name!r}; it cannot "
                         f"move to a version of plan {target.name!r} (fork it instead)")
    return target


async def _record(scope: AgentScope, id: str) -> InstanceRecord:
    record = await scope._engine.store.get_instance(scope.agent_id, id)
    if record is None:
        raise InstanceNotFound(id)
    return record


def _ids(instances: Any) -> list[str]:
    from agents_durable.engine._agent import Instance

    if isinstance(instances, (str, Instance)):
        instances = [instances]
    if not isinstance(instances, Iterable):
        raise UsageError("give an Instance, an instance id, or a list of them")
    return [i.id if isinstance(i, Instance) else str(i) for i in instances]


async def _check(scope: AgentScope, record: InstanceRecord, journal: Journal,
                 target: PlanVersion) -> UpgradeCheck:
    if record.status in TERMINAL_STATUSES:
        raise InstanceNotActive(record.id, record.status, "upgrade")
    return await check_replay(scope._engine, record, journal, target)


async def verify(scope: AgentScope, instances: Any, to: PlanTarget) -> list[UpgradeCheck]:
    """One ``UpgradeCheck`` per instance, in the order given (nothing is changed)."""
    scope._engine.check_open()
    checks = []
    for id in _ids(instances):
        record = await _record(scope, id)
        target = await _target(scope, record, to)
        journal = await scope._engine.store.load_journal(record.pk)
        checks.append(await _check(scope, record, journal, target))
    return checks


async def upgrade(instance: Instance, to: PlanTarget) -> UpgradeCheck:
    """Move ``instance`` to ``to`` iff it replays the journal exactly (see module doc)."""
    scope = instance._scope
    engine = scope._engine
    engine.check_open()
    for _ in range(_ATTEMPTS):
        changed = engine.watch(scope.agent_id, instance.id)
        record = await _record(scope, instance.id)
        target = await _target(scope, record, to)
        if record.status == "running":
            with anyio.move_on_after(0.25):
                await changed.wait()
            continue
        journal = await engine.store.load_journal(record.pk)
        check = await _check(scope, record, journal, target)
        if not check.compatible:
            divergence = check.divergence
            raise UpgradeRefused(
                f"instance {instance.id!r} cannot move from version {check.from_version} to "
                f"version {check.to_version} of plan {record.plan_name!r}: "
                f"{divergence.message if divergence else 'not compatible'}", [check])
        if target.hash == record.plan_hash:
            return check
        fingerprint = [(r.seq, r.state, r.attempts) for _, r in sorted(journal.steps.items())]
        outcome = await engine.store.upgrade_instance(
            scope.agent_id, instance.id, from_hash=record.plan_hash,
            to=(target.name, target.version, target.hash), journal=fingerprint,
            now=engine.clock.now())
        if outcome == "upgraded":
            engine.changed(scope.agent_id, instance.id)
            engine.notify()
            return check
    raise UsageError(f"instance {instance.id!r} kept running while it was being upgraded; "
                     "nothing changed. Try again (or pause it first)")


async def active_ids(scope: AgentScope, plan: str) -> list[str]:
    """The ids of ``plan``'s instances that have not finished, oldest first."""
    scope._engine.check_open()
    ids: list[str] = []
    after = None
    while True:
        records = await scope._engine.store.list_instances(
            scope.agent_id, status=None, plan=plan, limit=500, after=after)
        ids += [r.id for r in records if r.status in _ACTIVE]
        if len(records) < 500:
            break
        after = records[-1].pk
    ids.reverse()
    return ids


async def upgrade_all(scope: AgentScope, plan: str, to: PlanTarget) -> UpgradeReport:
    """Upgrade every active instance of ``plan`` that replays exactly; report the rest."""
    from agents_durable.engine._agent import Instance

    if not isinstance(plan, str):
        raise UsageError("upgrade_all takes a plan name")
    upgraded: list[str] = []
    refused: list[UpgradeCheck] = []
    for id in await active_ids(scope, plan):
        try:
            await upgrade(Instance(scope, id), to)
        except UpgradeRefused as error:
            refused.extend(error.checks)
        except InstanceNotActive:
            continue  # it finished meanwhile: nothing to move
        else:
            upgraded.append(id)
    return UpgradeReport(upgraded=upgraded, refused=refused)


async def fork(instance: Instance, from_step: str | tuple[str, int] | None,
               plan: PlanTarget, id: str | None) -> Instance:
    """A new instance whose journal is a copy of this one's before ``from_step``."""
    from agents_durable.engine._agent import Instance, _check_id

    scope = instance._scope
    engine = scope._engine
    engine.check_open()
    record = await _record(scope, instance.id)
    journal = await engine.store.load_journal(record.pk)
    rows = [r for _, r in sorted(journal.steps.items())]
    point: dict[str, Any] | None = None
    if from_step is not None:
        name, occurrence = (from_step, 1) if isinstance(from_step, str) else from_step
        match = [r for r in rows if r.name == name and r.occurrence == occurrence]
        if not match:
            raise UsageError(f"instance {instance.id!r} has no recorded step {name!r} "
                             f"(occurrence {occurrence})")
        point = {"name": name, "occurrence": occurrence, "seq": match[0].seq}
        rows = [r for r in rows if r.seq < match[0].seq]
    waiting_child = next((r for r in rows if r.kind == "child"
                          and r.state not in ("done", "failed")), None)
    if waiting_child is not None:
        # its child belongs to this instance: the copy would wait for a child it cannot own
        raise UsageError(f"cannot fork instance {instance.id!r} past step "
                         f"{waiting_child.name!r}: it still waits for its child plan; fork "
                         f"from that step or an earlier one")
    target = (await scope.get_plan(hash=record.plan_hash) if plan is None
              else await _target(scope, record, plan) if isinstance(plan, int)
              else await _any_version(scope, plan))
    new_id = _check_id(id) if id is not None else secrets.token_hex(8)
    prefix = Journal(steps={r.seq: r for r in rows})
    if target.hash != record.plan_hash:
        check = await check_replay(engine, record, prefix, target)
        if not check.compatible:
            divergence = check.divergence
            raise UpgradeRefused(
                f"cannot fork instance {instance.id!r} onto version {target.version} of "
                f"plan {target.name!r}: "
                f"{divergence.message if divergence else 'not compatible'}", [check])
    # The fork keeps the original's params and creation time: `event` is the same, so the
    # copied prefix replays as it was recorded.
    new = NewInstance(agent_id=scope.agent_id, id=new_id, plan_name=target.name,
                      plan_version=target.version, plan_hash=target.hash,
                      params=record.params, created_at=record.created_at)
    await engine.store.fork_instance(instance.id, new, rows, from_step=point,
                                     now=engine.clock.now())
    engine.notify()
    return Instance(scope, new_id)


async def _any_version(scope: AgentScope, plan: PlanVersion | str) -> PlanVersion:
    if isinstance(plan, PlanVersion):
        return await scope.get_plan(hash=plan.hash)
    if isinstance(plan, str):
        return await scope._resolve(plan)
    raise UsageError(f"plan= must be a PlanVersion, a plan name or hash, or a version number, "
                     f"not {type(plan).__name__}")
