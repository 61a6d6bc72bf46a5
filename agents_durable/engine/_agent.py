"""The agent-scoped API: one agent's plans and instances, and nothing of anyone else's.

Every store call passes this scope's agent id, and every "not yours" looks exactly like
"not there": a foreign instance id raises the same ``InstanceNotFound``, with the same
message, as an id that was never created.
"""

from __future__ import annotations

import builtins
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, get_args

import anyio

from agents_durable.engine import _evolution, _schedules
from agents_durable.engine._json import encode_json
from agents_durable.engine._models import (
    AuditEntry,
    DiscardedStep,
    EventEntry,
    History,
    InstanceList,
    InstanceStatus,
    LogEntry,
    PlanVersion,
    Status,
    StepEntry,
)
from agents_durable.engine._replay_check import UpgradeCheck, UpgradeReport
from agents_durable.engine._schedules import Schedule
from agents_durable.errors import (
    InstanceNotFound,
    InvalidInstanceId,
    LimitExceeded,
    PlanNotFound,
    PlanRejected,
    UsageError,
)
from agents_durable.plans import (
    Diagnostic,
    OutlineEntry,
    PlanPolicy,
    compile_plan,
    validate_plan,
)
from agents_durable.store import TERMINAL_STATUSES, NewInstance
from agents_durable.store._decode import instance_run_problem
from agents_durable.store._records import RESERVED_EVENT_PREFIX

if TYPE_CHECKING:
    from agents_durable.engine._engine import Engine

__all__ = ["AgentScope", "Instance"]

_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
_LISTABLE = frozenset(get_args(Status))
_BATCH_KEYS = frozenset({"plan", "params", "id"})


def _check_id(instance_id: str) -> str:
    if not isinstance(instance_id, str) or not _ID.match(instance_id):
        raise InvalidInstanceId(
            f"instance id {instance_id!r} is invalid: use 1-100 characters from A-Z, a-z, "
            "0-9, '_' and '-', not starting with '-'")
    return instance_id


def _plan_ref(plan: str | PlanVersion) -> str:
    """The name or hash a ``create`` argument refers to. A ``PlanVersion`` is looked up
    again by its hash, so it must belong to the agent that uses it."""
    if isinstance(plan, PlanVersion):
        return plan.hash
    if not isinstance(plan, str):
        raise UsageError(f"plan must be a plan name, a version hash or a PlanVersion, "
                         f"not {type(plan).__name__}")
    return plan


def _json_text(value: Any, *, limit: int, what: str) -> str:
    return encode_json(value, limit=limit, what=what, not_json=UsageError,
                       too_large=LimitExceeded)


class AgentScope:
    """``engine.agent(agent_id, tools=[...])``: everything one agent may do."""

    def __init__(self, engine: Engine, agent_id: str, grants: frozenset[str],
                 policy: PlanPolicy) -> None:
        self._engine = engine
        self.agent_id = agent_id
        self.tools = grants
        self.policy = policy

    def __repr__(self) -> str:
        return f"<AgentScope {self.agent_id!r} tools={sorted(self.tools)}>"

    # -- plans -----------------------------------------------------------------------------

    def validate_plan(self, source: str) -> list[Diagnostic]:
        """Diagnostics for ``source`` under this agent's policy and tool grants."""
        return validate_plan(source, self.policy, tools=self.tools)

    async def register_plan(self, name: str, source: str) -> PlanVersion:
        """Validate, compile and store ``source`` as the next version of ``name``.

        Registering identical source again returns the existing version. Raises
        ``PlanRejected`` (with ``.diagnostics``) when the plan does not validate.
        """
        engine = self._engine
        engine.check_open()
        if not isinstance(name, str) or not name.strip() or len(name) > 200 or any(
                ord(c) < 32 for c in name):
            raise UsageError("plan name must be a non-empty string of at most 200 characters")
        if not isinstance(source, str):
            raise UsageError("plan source must be a str")
        plan = compile_plan(source, self.policy, tools=self.tools)
        unknown = await self._unknown_child_plans(name, plan.outline)
        if unknown:
            raise PlanRejected(unknown)
        outline = json.dumps([entry.model_dump() for entry in plan.outline])
        record, _ = await engine.store.put_plan_version(
            self.agent_id, name, plan.hash, source, plan.description, outline,
            self.policy.model_dump_json(), engine.clock.now())
        return PlanVersion.from_record(record)

    async def _unknown_child_plans(self, name: str | None,
                                   outline: Sequence[OutlineEntry]) -> list[Diagnostic]:
        """ADP415 for each ``step.run_plan("literal")`` naming a plan this agent has not
        registered (the plan may name itself: a plan may recurse through children)."""
        known = {v.name for v in await self._engine.store.list_plan_versions(self.agent_id)}
        return [Diagnostic(code="ADP415", line=entry.line, column=0,
                           message=f"`step.run_plan({entry.name!r})` names a plan you have not "
                                   "submitted.",
                           hint="Submit the child plan first (submit_plan), or fix the name; "
                                f"your plans are: {', '.join(sorted(known)) or 'none yet'}.")
                for entry in outline
                if entry.kind == "run_plan" and entry.name is not None
                and entry.name != name and entry.name not in known]

    async def check_child_plans(self, outline: Sequence[OutlineEntry]) -> list[Diagnostic]:
        """ADP415 for each literal child plan name in ``outline`` this agent lacks."""
        return await self._unknown_child_plans(None, outline)

    async def get_plan(self, name: str | None = None, *, version: int | None = None,
                       hash: str | None = None) -> PlanVersion:
        """A plan version by name (latest, or ``version``) or by content hash."""
        self._engine.check_open()
        if name is None and hash is None:
            raise UsageError("give a plan name or a hash")
        record = await self._engine.store.get_plan_version(self.agent_id, name=name,
                                                           version=version, hash=hash)
        if record is None:
            what = f"hash {hash!r}" if hash else f"name {name!r}" + (
                f" version {version}" if version else "")
            raise PlanNotFound(f"no plan with {what} is registered for this agent")
        return PlanVersion.from_record(record)

    async def list_plans(self, name: str | None = None) -> list[PlanVersion]:
        """Every version of every plan (or of ``name``), oldest first."""
        self._engine.check_open()
        records = await self._engine.store.list_plan_versions(self.agent_id, name)
        return [PlanVersion.from_record(r) for r in records]

    # -- instances ---------------------------------------------------------------------------

    async def _resolve(self, ref: str) -> PlanVersion:
        """This agent's plan version for a name (its latest version) or a hash."""
        if _HASH.match(ref):
            return await self.get_plan(hash=ref)
        return await self.get_plan(ref)

    def _new(self, version: PlanVersion, params: Any, id: str | None) -> NewInstance:
        instance_id = _check_id(id) if id is not None else secrets.token_hex(8)
        text = _json_text({} if params is None else params,
                          limit=self._engine.limits.max_payload_bytes, what="params")
        return NewInstance(agent_id=self.agent_id, id=instance_id, plan_name=version.name,
                           plan_version=version.version, plan_hash=version.hash,
                           params=text, created_at=self._engine.clock.now())

    async def create(self, plan: str | PlanVersion, params: Any = None, *,
                     id: str | None = None) -> Instance:
        """Start an instance of ``plan`` (a name, meaning its latest version, or a hash)."""
        self._engine.check_open()
        new = self._new(await self._resolve(_plan_ref(plan)), params, id)
        await self._engine.store.create_instances([new])
        self._engine.notify()
        return Instance(self, new.id)

    async def create_batch(self, items: Iterable[Mapping[str, Any]]) -> list[Instance]:
        """Create up to 100 instances atomically: all of them, or none (``InstanceExists``).

        Each item is ``{"plan": ..., "params": ..., "id": ...}`` (params and id optional).
        """
        self._engine.check_open()
        items = list(items)
        if len(items) > 100:
            raise UsageError(f"create_batch takes at most 100 instances, got {len(items)}")
        for index, item in enumerate(items):
            # a typo such as "param" must not silently start an instance without params
            if not isinstance(item, Mapping) or "plan" not in item or set(item) - _BATCH_KEYS:
                raise UsageError(f"create_batch item {index} must be a dict with 'plan' and "
                                 f"optionally 'params' and 'id'; got {item!r:.200}")
        versions: dict[str, PlanVersion] = {}  # each plan resolved once, consistently
        news = []
        for item in items:
            ref = _plan_ref(item["plan"])
            if ref not in versions:
                versions[ref] = await self._resolve(ref)
            news.append(self._new(versions[ref], item.get("params"), item.get("id")))
        ids = [n.id for n in news]
        if len(set(ids)) != len(ids):
            raise UsageError("create_batch got the same id twice")
        await self._engine.store.create_instances(news)
        self._engine.notify()
        return [Instance(self, n.id) for n in news]

    async def get(self, id: str) -> Instance:
        """The handle of instance ``id``; ``InstanceNotFound`` if this agent has none."""
        self._engine.check_open()
        if not isinstance(id, str) or not _ID.match(id):
            raise InstanceNotFound(str(id))
        if await self._engine.store.get_instance(self.agent_id, id) is None:
            raise InstanceNotFound(id)
        return Instance(self, id)

    async def list(self, status: str | None = None, plan: str | None = None, *,
                   limit: int = 50, cursor: str | None = None) -> InstanceList:
        """This agent's instances, newest first, ``limit`` per page."""
        self._engine.check_open()
        if not 1 <= limit <= 1000:
            raise UsageError("limit must be between 1 and 1000")
        if status is not None and status not in _LISTABLE:
            # a typo such as "completed" would otherwise silently list nothing
            raise UsageError(f"unknown status {status!r}; use one of "
                             f"{', '.join(sorted(_LISTABLE))}")
        after = None
        if cursor is not None:
            if not isinstance(cursor, str) or not cursor.isdigit():
                raise UsageError("cursor must be a value returned as next_cursor")
            after = int(cursor)
        stored = "running" if status == "waiting_for_pause" else status
        records = await self._engine.store.list_instances(
            self.agent_id, status=stored, plan=plan, limit=limit + 1, after=after)
        more = len(records) > limit
        records = records[:limit]
        items = [InstanceStatus.from_record(r) for r in records]
        if status == "waiting_for_pause":  # derived: running with a pause requested
            items = [item for item in items if item.status == status]
        return InstanceList(items=items,
                            next_cursor=str(records[-1].pk) if more and records else None)

    # -- evolving instances in flight ------------------------------------------------------

    async def verify_upgrade(self, instances: Instance | str | Iterable[Instance | str],
                             to: _evolution.PlanTarget = None) -> builtins.list[UpgradeCheck]:
        """Replay each instance's journal against plan version ``to``, changing nothing.

        ``to`` is a ``PlanVersion``, a version hash, a version number of the instance's
        plan, or None (its latest version). The replay runs in the sandbox with no step
        callback, no tool call and no write; each ``UpgradeCheck`` says ``compatible``, or
        names the first divergence (the recorded step, the requested one, the plan line).
        """
        return await _evolution.verify(self, instances, to)

    async def active_ids(self, plan: str) -> builtins.list[str]:
        """The ids of ``plan``'s instances that have not finished (queued, running,
        waiting, paused), oldest first: what ``upgrade_all`` would try to move."""
        return await _evolution.active_ids(self, plan)

    async def upgrade_all(self, plan: str,
                          to: _evolution.PlanTarget = None) -> UpgradeReport:
        """Upgrade every active instance of ``plan`` whose journal ``to`` replays exactly;
        the others stay where they are and come back in ``refused`` with their divergence."""
        return await _evolution.upgrade_all(self, plan, to)

    # -- schedules ----------------------------------------------------------------------------

    async def schedule(self, name: str, plan: str, *, cron: str, timezone: str = "UTC",
                       params: Any = None, overlap: str = "skip",
                       catch_up: str = "latest") -> Schedule:
        """Start an instance of ``plan`` (its latest version then) at every slot of
        ``cron`` in ``timezone``; replaces a schedule of the same name.

        Each slot starts exactly one instance, id ``<name>-<slot in UTC>``, with
        ``params`` as its payload and the slot's time as ``event.timestamp``.
        ``overlap`` (``skip``, ``queue``, ``allow``) says what a slot does while the
        previous instance is active; ``catch_up`` (``none``, ``latest``, ``all``) what
        happens to slots missed while no worker ran. Needs the ``schedules`` extra.
        """
        return await _schedules.create_schedule(self, name, plan, cron=cron,
                                                timezone=timezone, params=params,
                                                overlap=overlap, catch_up=catch_up)

    async def schedules(self) -> builtins.list[Schedule]:
        """This agent's schedules, by name."""
        self._engine.check_open()
        return [Schedule.from_record(r)
                for r in await self._engine.store.get_schedules(self.agent_id)]

    async def get_schedule(self, name: str) -> Schedule:
        """One schedule; ``UsageError`` if this agent has none by that name."""
        self._engine.check_open()
        found = await self._engine.store.get_schedules(self.agent_id, name)
        if not found:
            raise UsageError(f"this agent has no schedule named {name!r}")
        return Schedule.from_record(found[0])

    async def pause_schedule(self, name: str) -> Schedule:
        """Stop firing; slots that pass while paused are dropped."""
        await self.get_schedule(name)
        await self._engine.store.set_schedule_paused(self.agent_id, name, True, None)
        return await self.get_schedule(name)

    async def resume_schedule(self, name: str) -> Schedule:
        """Fire again, from the next slot after now."""
        current = await self.get_schedule(name)
        following = _schedules.next_slot(current.cron, current.timezone,
                                         self._engine.clock.now())
        await self._engine.store.set_schedule_paused(self.agent_id, name, False, following)
        self._engine.schedules_changed()
        return await self.get_schedule(name)

    async def delete_schedule(self, name: str) -> None:
        """Delete the schedule; the instances it started are untouched."""
        self._engine.check_open()
        if not await self._engine.store.delete_schedule(self.agent_id, name):
            raise UsageError(f"this agent has no schedule named {name!r}")


class Instance:
    """A handle on one instance of one agent. Cheap; holds only the ids."""

    def __init__(self, scope: AgentScope, id: str) -> None:
        self._scope = scope
        self.id = id

    def __repr__(self) -> str:
        return f"<Instance {self.id!r} of agent {self._scope.agent_id!r}>"

    @property
    def agent_id(self) -> str:
        return self._scope.agent_id

    async def _record(self) -> Any:
        engine = self._scope._engine
        engine.check_open()
        record = await engine.store.get_instance(self._scope.agent_id, self.id)
        if record is None:
            raise InstanceNotFound(self.id)
        return record

    async def status(self) -> InstanceStatus:
        """Status, output or error, plan version, and the steps recorded so far."""
        return await self._status_of(await self._record())

    async def _status_of(self, record: Any) -> InstanceStatus:
        steps, _, _ = await self._scope._engine.store.history(record.pk)
        return InstanceStatus.from_record(record, steps, corrupt=instance_run_problem(record))

    async def history(self) -> History:
        """The journal: steps with attempts, events received, captured ``print`` lines,
        and the audit trail (operator actions, the steps restarts discarded)."""
        record = await self._record()
        store = self._scope._engine.store
        steps, events, logs = await store.history(record.pk)
        audit, discarded = await store.audit(record.pk)
        status = InstanceStatus.from_record(record, steps,
                                            corrupt=instance_run_problem(record))
        return History(id=self.id, status=status,
                       steps=[StepEntry.from_record(s) for s in steps],
                       events=[EventEntry.from_record(e) for e in events],
                       logs=[LogEntry.from_record(entry) for entry in logs],
                       audit=[AuditEntry.from_record(entry) for entry in audit],
                       discarded_steps=[DiscardedStep.from_discarded(d) for d in discarded])

    async def send_event(self, type: str, payload: Any = None) -> None:
        """Deliver an event. Buffered until a ``wait_for_event`` of that type takes it."""
        engine = self._scope._engine
        engine.check_open()
        if not isinstance(type, str) or not type or len(type) > 256:
            raise UsageError("event type must be a non-empty string of at most 256 characters")
        if type.startswith(RESERVED_EVENT_PREFIX):
            raise UsageError(f"event types starting with {RESERVED_EVENT_PREFIX!r} are the "
                             "engine's own (a child plan's end); use another type")
        text = _json_text(payload, limit=engine.limits.max_payload_bytes, what="event payload")
        await engine.store.add_event(self._scope.agent_id, self.id, type, text,
                                     engine.clock.now())
        engine.notify()

    async def _control(self, op: str, from_seq: int | None = None) -> None:
        engine = self._scope._engine
        engine.check_open()
        record = await engine.store.control(self._scope.agent_id, self.id, op,
                                            engine.clock.now(), from_seq)
        engine.request_control(record.pk, op)
        if op in ("terminate", "restart"):
            # running here: it was cancelled; return once its end is written, so that the
            # status read next is the outcome whichever store (and its speed) holds it
            await engine.stopped(record.pk)
        engine.changed(self._scope.agent_id, self.id)
        engine.notify()

    async def pause(self) -> None:
        """Park the instance after its running step; sleeps keep their remaining time."""
        await self._control("pause")

    async def resume(self) -> None:
        """Continue a paused instance."""
        await self._control("resume")

    async def terminate(self) -> None:
        """Stop the instance for good. Raises ``InstanceNotActive`` if it already finished."""
        await self._control("terminate")

    async def restart(self, from_step: str | tuple[str, int] | None = None) -> None:
        """Run again from the top, or from ``(name, occurrence)`` keeping earlier results."""
        from_seq = None
        if from_step is not None:
            name, occurrence = (from_step, 1) if isinstance(from_step, str) else from_step
            record = await self._record()
            steps, _, _ = await self._scope._engine.store.history(record.pk)
            match = [s for s in steps if s.name == name and s.occurrence == occurrence]
            if not match:
                raise UsageError(f"instance {self.id!r} has no recorded step {name!r} "
                                 f"(occurrence {occurrence})")
            from_seq = match[0].seq
        await self._control("restart", from_seq)

    async def delete(self) -> None:
        """Delete this finished instance and its whole journal for good (retention does
        the same in bulk). ``InstanceNotActive`` while it has not finished: terminate it
        first."""
        engine = self._scope._engine
        engine.check_open()
        await engine.store.delete_instance(self._scope.agent_id, self.id)
        engine.changed(self._scope.agent_id, self.id)
    async def upgrade(self, to: _evolution.PlanTarget = None) -> UpgradeCheck:
        """Move this instance to plan version ``to`` (default: its plan's latest version)
        if that version replays its journal exactly; else raise ``UpgradeRefused`` with the
        divergence and change nothing. Atomic, with an ``upgrade`` audit entry; the
        instance keeps its status and due time and goes on under the new code."""
        return await _evolution.upgrade(self, to)

    async def fork(self, from_step: str | tuple[str, int] | None = None, *,
                   plan: PlanVersion | str | int | None = None,
                   id: str | None = None) -> Instance:
        """Start a new instance whose journal is a copy of this one's before ``from_step``
        (``name`` or ``(name, occurrence)``; None copies all of it), so that step and
        what follows run again there. ``plan`` (a version, a name, a hash or a version
        number) runs the fork on another version, which must replay the copied prefix
        exactly (``UpgradeRefused`` otherwise). This instance is left untouched."""
        return await _evolution.fork(self, from_step, plan, id)

    async def wait(self, timeout: float | None = None) -> InstanceStatus:
        """Wait until the instance completes, errors or is terminated; return its status.

        ``timeout`` is in real seconds; ``TimeoutError`` when it passes.
        """
        engine = self._scope._engine
        with anyio.fail_after(timeout):
            while True:
                changed = engine.watch(self._scope.agent_id, self.id)
                record = await self._record()  # cheap; the steps only once it is done
                if record.status in TERMINAL_STATUSES:
                    return await self._status_of(record)
                with anyio.move_on_after(0.25 if not engine.worker else 2.0):
                    await changed.wait()
