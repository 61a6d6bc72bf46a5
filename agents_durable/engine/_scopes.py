"""Step identity that never depends on scheduling: branch scopes.

Decision (issue "plans as models write them", finding 1). Positions used to be handed out in
the order step calls were *created*. Inside ``step.gather`` over helpers that make several
steps, that order depends on how the branches interleaved: on the first run a branch waits
for its tool while another makes its next step; on replay recorded steps return at once, so
the first branch makes all its steps before the second makes any, and replay diverged.

Two designs were weighed:

- *Record and replay completion order* (Temporal's deterministic event loop): the engine
  would own the scheduling of every plan task and replay wake-ups in the recorded order.
  It needs a custom event loop under anyio and every tool await to become an engine event:
  a large, fragile change for the one construct that creates concurrency in a plan.
- *A scope per branch* (chosen). Plan code is sequential except inside ``step.gather``. Each
  gather argument that is a call of the plan's own async function runs in its own scope,
  and a step's identity is ``(scope path, position in scope)``, checked against
  ``(kind, name, occurrence in scope)``. Within one scope code is sequential, so positions
  are deterministic however branches interleave. The path names the gather by its ordinal in
  the parent scope and the branch by its argument index (``"2.1/"`` is argument 1 of the
  third gather of the root; nested gathers append). Step calls passed to a gather directly
  were created in the parent scope and keep that identity.

Rows recorded before scopes existed have no position; an instance whose journal holds such
rows keeps the old identity (one scope, positions in creation order) until it finishes or is
restarted from the top, so no journal is rewritten (append-only migration).
"""

from __future__ import annotations

import contextvars
import hashlib
import json

__all__ = ["Scope", "current_scope", "idempotency_key"]


class Scope:
    """The counters of one sequential strand of a plan: the root, or one gather branch."""

    __slots__ = ("gathers", "occurrences", "owner", "path", "positions", "suspended")

    def __init__(self, owner: object, path: str = "") -> None:
        self.owner = owner
        self.path = path
        self.positions = 0
        self.gathers = 0
        #: This strand reached a step it must wait for: it makes no further steps in this
        #: activation (other branches of its gather go on until they wait too).
        self.suspended = False
        self.occurrences: dict[tuple[str, str], int] = {}

    def next_position(self, kind: str, name: str) -> tuple[int, int]:
        """The position and the occurrence of the next step call made in this scope."""
        position = self.positions
        self.positions += 1
        occurrence = self.occurrences.get((kind, name), 0) + 1
        self.occurrences[(kind, name)] = occurrence
        return position, occurrence

    def branch(self, gather: int, index: int) -> Scope:
        return Scope(self.owner, f"{self.path}{gather}.{index}/")


#: The scope of the gather branch the current task runs, if any (set per branch task).
current_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar(
    "agents_durable_scope", default=None)


def idempotency_key(agent_id: str, instance_id: str, scope: str, name: str,
                    occurrence: int) -> str:
    """``<instance>/<name>/<occurrence>-<digest>``: stable across retries and replays.

    The digest covers the agent id and the branch scope, so two agents whose instances share
    an id, or two gather branches that make a step of the same name, never share a key
    (a tool that deduplicates effects by key would drop one of them as a repeat).
    """
    identity = json.dumps([agent_id, instance_id, scope, name, occurrence])
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return f"{instance_id}/{name}/{occurrence}-{digest}"
