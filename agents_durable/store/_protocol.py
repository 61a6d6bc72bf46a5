"""The ``Store`` protocol: every durable operation the engine needs, and nothing else.

Each method is one atomic transaction. Every agent-facing read and write takes the
``agent_id`` and filters by it in the query itself, so tenancy does not depend on the
engine remembering to check. ``sqlite.py`` (one worker per file, held by a ``flock``) and
``postgres.py`` (any number of workers, held by leases) implement the same methods.

**Leases and fencing.** ``claim_due`` hands each record out with a fencing token
(``InstanceRecord.lease``); every write of that activation (``record_step``, ``finish``,
which carries its logs) passes the token back, and a store with leases refuses the
write with ``LeaseLost`` once the instance was claimed by another worker since. A store
whose leases expire (``lease_seconds`` is not None) needs ``renew`` called well within
that time; the engine does so for every instance it runs (``engine/_leases.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from agents_durable.store._records import (
    AuditRecord,
    DiscardedStepRecord,
    EventRecord,
    Finish,
    InstanceRecord,
    Journal,
    LogRecord,
    NewInstance,
    PlanVersionRecord,
    ScheduleRecord,
    StepRecord,
    TokenRecord,
)

__all__ = ["Store"]


class Store(Protocol):
    """Async persistence for plan versions, instances, journals, events and timers."""

    #: Seconds a claim holds without renewal; None when ownership never expires (SQLite:
    #: the worker's file lock is the lease, released only when the process ends).
    lease_seconds: float | None

    async def open(self, *, worker: bool) -> None:
        """Connect and migrate. ``worker=True`` claims the right to run instances."""

    async def close(self) -> None: ...

    # -- plan versions ---------------------------------------------------------------------

    async def put_plan_version(self, agent_id: str, name: str, hash: str, source: str,
                               description: str, outline: str, policy: str,
                               now: float) -> tuple[PlanVersionRecord, bool]:
        """Insert the next version of ``name``, or return the one with this hash.

        Returns the record and whether it was created.
        """

    async def get_plan_version(self, agent_id: str, *, name: str | None = None,
                               version: int | None = None,
                               hash: str | None = None) -> PlanVersionRecord | None:
        """By hash, by name and version, or the latest version of name."""

    async def list_plan_versions(self, agent_id: str,
                                 name: str | None = None) -> list[PlanVersionRecord]: ...

    async def get_plan_by_hash(self, hash: str) -> PlanVersionRecord | None:
        """Engine-internal: the source behind a pinned hash, whoever registered it."""

    # -- instances ---------------------------------------------------------------------------

    async def create_instances(self, instances: Sequence[NewInstance]) -> None:
        """Insert all or none; raise ``InstanceExists`` naming the first duplicate id."""

    async def get_instance(self, agent_id: str, id: str) -> InstanceRecord | None: ...

    async def list_instances(self, agent_id: str, *, status: str | None, plan: str | None,
                             limit: int, after: int | None) -> list[InstanceRecord]:
        """Newest first; ``after`` is the ``pk`` cursor of the last row of the previous page."""

    async def history(self, pk: int) -> tuple[list[StepRecord], list[EventRecord],
                                              list[LogRecord]]:
        """Every row of an instance's journal, decoded without raising: a damaged row
        comes back with ``corrupt`` set (see ``_records``)."""

    async def audit(self, pk: int) -> tuple[list[AuditRecord], list[DiscardedStepRecord]]:
        """The operator actions on an instance, and the steps its restarts discarded."""

    # -- running -------------------------------------------------------------------------------

    async def recover(self, now: float, quarantine_after: int) -> tuple[int, int]:
        """After a crash: release instances left ``running``; quarantine repeat offenders.

        With leases, only instances whose lease expired are released (live workers keep
        theirs), and the store goes on doing so during ``claim_due``, not only at start.

        Released instances keep their due time. An instance in flight becomes a suspect
        (``crashes`` 1); a suspect is quarantined once ``crashes`` reaches
        ``quarantine_after`` (see ``mark_probing``). Committed steps and ended activations
        reset ``crashes``.

        Returns (released, quarantined).
        """

    async def claim_due(self, now: float, limit: int, *, per_agent: int | None = None,
                        running: Mapping[str, int] | None = None,
                        exclude: Collection[str] = (),
                        suspects: int | None = None) -> list[InstanceRecord]:
        """Mark up to ``limit`` due instances ``running`` and return them.

        Fair and in due order: agents take turns (``running`` counts what each agent
        already runs; none exceeds ``per_agent``), earliest due first within a turn.
        ``exclude`` lists ``plan_hash + agent_id`` keys this worker cannot run (it lacks
        their tools); at most ``suspects`` instances with ``crashes > 0`` are claimed.
        """

    async def next_due(self, after: float | None = None) -> float | None:
        """The earliest ``wake_at`` of any queued or waiting instance (later than
        ``after``: what is due already but was not claimed waits for a notification)."""

    async def mark_probing(self, pk: int) -> None:
        """A suspect (``crashes > 0``) starts host code: a crash now counts against it."""

    async def pending_controls(self, pks: Sequence[int]) -> list[tuple[int, str]]:
        """``(pk, op)`` of those ``pks`` still running with a ``terminate`` or ``restart``
        request stored (sent by another process)."""

    async def load_journal(self, pk: int) -> Journal:
        """The journal to replay; ``CorruptRecord`` (naming table and column) if the
        instance row, a journal row or a buffered event is damaged."""

    async def load_journals(self, pks: Sequence[int]) -> dict[int, Journal]:
        """The journals of many instances at once (a claim's worth), by ``pk``. An
        instance ``load_journal`` would refuse is left out."""

    async def record_step(self, pk: int, step: StepRecord, *,
                          consume_event: int | None = None, lease: int = 0) -> None:
        """Upsert a journal row (and mark an event consumed by it) durably; ``LeaseLost``
        (nothing written) if ``lease`` no longer holds the instance."""

    async def finish(self, pk: int, finish: Finish, now: float, *, lease: int = 0) -> str:
        """End an activation, applying any pending control request. Returns the status.
        ``LeaseLost`` (nothing written, not even the logs) if ``lease`` no longer holds."""

    async def renew(self, leases: Mapping[int, int]) -> list[int]:
        """Extend the leases ``{pk: token}`` this worker holds; the pks whose lease was lost
        (expired and claimed by another worker, or ended): stop running them."""

    def set_waker(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` (a hint, never needed for correctness) when another process may
        have made work due: a new instance, an event, a control request."""

    async def agent_storage_bytes(self, agent_id: str) -> int:
        """Bytes one agent's instances store in journals and logs (for its quota)."""

    # -- control --------------------------------------------------------------------------------

    async def add_event(self, agent_id: str, id: str, type: str, payload: str,
                        now: float) -> InstanceRecord:
        """Buffer an event; wake the instance if it waits. Raises if missing or finished."""

    async def control(self, agent_id: str, id: str, op: str, now: float,
                      from_seq: int | None = None) -> InstanceRecord:
        """``pause``, ``resume``, ``terminate`` or ``restart`` (from journal row ``from_seq``).

        Writes the action's audit entry in the same transaction; a restart moves the rows it
        discards to the discarded steps of that entry."""

    # -- operating: agents, retention, API tokens -------------------------------------------

    async def list_agents(self) -> list[str]:
        """Every agent id with a plan version or an instance, sorted."""

    async def count_instances(self) -> list[tuple[str, str, int]]:
        """``(agent_id, stored status, count)`` for every agent and status present."""

    async def delete_instance(self, agent_id: str, id: str) -> None:
        """Delete a finished instance and its whole journal (steps, events, logs, audit,
        discarded steps). ``InstanceNotFound`` if missing or foreign, ``InstanceNotActive``
        (naming ``delete``) if it has not finished."""

    async def purge_instances(self, cutoffs: Mapping[str, float], *,
                              agent_id: str | None = None,
                              limit: int = 100) -> list[tuple[str, str]]:
        """Delete up to ``limit`` finished instances whose status is a key of ``cutoffs``
        and whose last update is older than its value (oldest first), of one agent or of
        all; return their ``(agent_id, id)``. One small transaction per call."""

    async def put_token(self, id: str, token_hash: str, agent_id: str | None, role: str,
                        label: str, now: float) -> TokenRecord:
        """Store a new API token by its hash."""

    async def find_token(self, token_hash: str) -> TokenRecord | None:
        """The valid (not revoked) token with this hash."""

    async def list_tokens(self) -> list[TokenRecord]:
        """Every token, revoked ones too, oldest first."""

    async def revoke_token(self, id: str, now: float) -> bool:
        """Revoke a token by its id; False if there is no valid token with that id."""
    # -- evolving instances in flight -------------------------------------------------------

    async def upgrade_instance(self, agent_id: str, id: str, *, from_hash: str,
                               to: tuple[str, int, str],
                               journal: Sequence[tuple[int, str, int]], now: float) -> str:
        """Repin an instance to plan version ``to`` = ``(name, version, hash)``, writing an
        ``upgrade`` audit entry, iff it still runs ``from_hash``, is not running and its
        journal is exactly ``journal`` (each row's ``(seq, state, attempts)``, in seq
        order): the one the engine verified. Returns ``"upgraded"``, ``"running"`` or
        ``"changed"``; raises ``InstanceNotFound`` or ``InstanceNotActive``."""

    async def fork_instance(self, source_id: str, new: NewInstance,
                            steps: Sequence[StepRecord], *, from_step: dict[str, Any] | None,
                            now: float) -> None:
        """Insert ``new`` (queued, due now) with ``steps`` as its journal, and audit entries
        on both instances (``fork`` on the source, ``forked`` on the copy). Raises
        ``InstanceNotFound`` (no source of ``new.agent_id``) or ``InstanceExists``."""

    # -- child instances ----------------------------------------------------------------------

    async def start_child(self, parent_pk: int, new: NewInstance, *, keep: bool) -> bool:
        """Create ``new`` (queued, due now) as a child of instance ``parent_pk``; False if
        that child exists already (idempotent); ``InstanceExists`` if the id is taken by
        an instance that is not this parent's child. ``keep``: it outlives its parent.

        Every transaction that ends an instance (``finish``, ``control`` terminate) also
        delivers the end to its parent as a ``CHILD_EVENT`` event (payload ``{id,
        status, output, error}``; waking a waiting parent) and terminates its active
        children that do not outlive it, recursively (``_sqlite_children``)."""

    # -- schedules -----------------------------------------------------------------------------

    async def put_schedule(self, record: ScheduleRecord) -> None:
        """Insert or replace the schedule ``(record.agent_id, record.name)``."""

    async def get_schedules(self, agent_id: str,
                            name: str | None = None) -> list[ScheduleRecord]:
        """The agent's schedules by name (all, or the one named)."""

    async def set_schedule_paused(self, agent_id: str, name: str, paused: bool,
                                  next_at: float | None) -> bool:
        """Pause or resume (with the next slot from now); False if there is none."""

    async def delete_schedule(self, agent_id: str, name: str) -> bool:
        """Delete it (its instances stay); False if there is none."""

    async def due_schedules(self, now: float) -> list[ScheduleRecord]:
        """Unpaused schedules of every agent whose ``next_at`` has come (at most 100)."""

    async def next_schedule_at(self) -> float | None:
        """The earliest ``next_at`` of any unpaused schedule."""

    async def schedule_active(self, agent_id: str, name: str) -> bool:
        """Whether an instance the schedule started is still active."""

    async def fire_schedule(self, agent_id: str, name: str, *, expected_next_at: float,
                            instances: Sequence[NewInstance], next_at: float | None,
                            held: float | None) -> list[str]:
        """In one transaction, iff ``next_at`` still is ``expected_next_at``: create
        ``instances`` (queued, due at their ``created_at``, marked with the schedule;
        ids already taken are slots that fired before and are skipped) and store the new
        ``next_at`` and ``held``. Returns the ids created. The ids are derived from the
        slot, so each slot starts one instance with any number of workers."""
