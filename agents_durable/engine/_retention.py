"""Retention: finished instances are deleted once they are old enough.

A :class:`RetentionPolicy` keeps finished instances (``complete``, ``terminated``) for
``finished`` and errored ones for ``errored`` (durations such as ``"30 days"``; None keeps
them forever), globally, with per-agent overrides. A worker engine opened with
``retention=`` applies it in the background in small batches (``batch`` instances per
transaction, so a large purge never holds the database lock for long), every
``every`` seconds; ``Engine.apply_retention()`` runs one pass on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents_durable.engine._durations import parse_duration

if TYPE_CHECKING:
    from agents_durable.engine._engine import Engine

__all__ = ["RetentionPolicy", "apply_retention", "retention_loop"]

logger = logging.getLogger("agents_durable")


class RetentionPolicy(BaseModel):
    """How long finished instances are kept; ``agents`` overrides it for some agents."""

    model_config = ConfigDict(frozen=True)

    finished: float | None = None
    errored: float | None = None
    agents: Mapping[str, RetentionPolicy] = Field(default_factory=dict)
    batch: int = Field(default=100, ge=1, le=10_000)
    every: float = Field(default=60.0, gt=0)

    @field_validator("finished", "errored", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float | None:
        return None if value is None else parse_duration(value)

    def cutoffs(self, now: float) -> dict[str, float]:
        """Status -> the update time before which an instance of that status goes."""
        cutoffs: dict[str, float] = {}
        if self.finished is not None:
            cutoffs["complete"] = cutoffs["terminated"] = now - self.finished
        if self.errored is not None:
            cutoffs["errored"] = now - self.errored
        return cutoffs


async def _drain(engine: Engine, cutoffs: dict[str, float], agent_id: str | None,
                 batch: int) -> int:
    deleted = 0
    while cutoffs:
        gone = await engine.store.purge_instances(cutoffs, agent_id=agent_id, limit=batch)
        deleted += len(gone)
        for agent, id in gone:
            engine.changed(agent, id)
        if len(gone) < batch:
            break
        await anyio.lowlevel.checkpoint()  # let the engine's own writes in between batches
    return deleted


async def apply_retention(engine: Engine, policy: RetentionPolicy) -> int:
    """One pass of ``policy``: delete what is old enough, batch by batch; how many went."""
    now = engine.clock.now()
    if not policy.agents:
        return await _drain(engine, policy.cutoffs(now), None, policy.batch)
    deleted = 0
    for agent in await engine.store.list_agents():
        chosen = policy.agents.get(agent, policy)
        deleted += await _drain(engine, chosen.cutoffs(now), agent, policy.batch)
    return deleted


async def retention_loop(engine: Engine, policy: RetentionPolicy) -> None:
    """The worker's background task: a pass every ``policy.every`` seconds."""
    while True:
        try:
            deleted = await apply_retention(engine, policy)
        except Exception as error:  # the store failed: try again next time
            logger.warning("retention pass failed (%s: %s); retrying in %g s",
                           type(error).__name__, error, policy.every)
        else:
            if deleted:
                logger.info("retention deleted %d finished instance(s)", deleted)
        await anyio.sleep(policy.every)
