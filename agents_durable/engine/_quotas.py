"""Storage quotas: what one instance, and one agent, may keep in the store.

Per-step caps do not bound an instance: many 1 MiB results, many activations of capped
logs, or thousands of distinct waits add up. The activation measures what it is about to
write against these quotas (``Limits``) and fails the instance that would exceed one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents_durable.errors import LimitExceeded
from agents_durable.store import Journal, StepRecord

if TYPE_CHECKING:
    from agents_durable.engine._models import Limits

__all__ = ["exceeded_quota", "log_quota_exceeded", "quota_exceeded", "row_bytes"]


def row_bytes(record: StepRecord) -> int:
    """What a journal row stores for the quota: its JSON fields, in bytes.

    Every activation measures its whole journal, so ASCII text (what ``json.dumps`` writes
    by default) is counted by length, without encoding it again.
    """
    size = 0
    for text in (record.result, record.error, record.config, record.detail):
        if isinstance(text, str):  # None, or a damaged non-text value: nothing stored
            size += len(text) if text.isascii() else len(text.encode("utf-8",
                                                                     "surrogatepass"))
    return size


def exceeded_quota(limits: Limits, journal_bytes: int, agent_bytes: int,
                   growth: int) -> str | None:
    """Which quota a write of ``growth`` bytes would exceed: ``"journal"`` (the
    instance's), ``"agent"`` (its agent's), or None."""
    if journal_bytes + growth > limits.max_journal_bytes:
        return "journal"
    if growth > 0 and agent_bytes + growth > limits.max_agent_bytes:
        return "agent"
    return None


def quota_exceeded(limits: Limits, agent_id: str, journal_bytes: int, agent_bytes: int,
                   growth: int) -> LimitExceeded | None:
    """The error for the quota a write of ``growth`` bytes would exceed, if any."""
    kind = exceeded_quota(limits, journal_bytes, agent_bytes, growth)
    if kind == "journal":
        return LimitExceeded(
            f"the instance's journal would exceed its quota of "
            f"{_mib(limits.max_journal_bytes)} (max_journal_bytes); store large data with a "
            "host tool and keep only its key in the step result")
    if kind == "agent":
        return LimitExceeded(
            f"agent {agent_id!r} would exceed its storage quota of "
            f"{_mib(limits.max_agent_bytes)} (max_agent_bytes); delete finished instances "
            "or ask the host for a larger quota")
    return None


def log_quota_exceeded(logs: tuple[str, ...], limits: Limits,
                       journal: Journal) -> tuple[LimitExceeded, tuple[str, ...]] | None:
    """If ``logs`` would exceed the instance's log quota: the error, and the few lines
    still kept (up to 10, within the quota)."""
    size = sum(len(line.encode("utf-8", "backslashreplace")) for line in logs)
    if (journal.log_lines + len(logs) <= limits.max_log_lines
            and journal.log_bytes + size <= limits.max_log_bytes):
        return None
    room = max(0, min(limits.max_log_lines - journal.log_lines, 10))
    error = LimitExceeded(
        f"the instance's log would exceed its quota of {limits.max_log_lines:,} lines or "
        f"{_mib(limits.max_log_bytes)} (max_log_lines, max_log_bytes); print less, or "
        "return data in step results instead")
    return error, logs[:room]


def _mib(size: int) -> str:
    return f"{size / 2 ** 20:,.0f} MiB" if size >= 2 ** 20 else f"{size:,} bytes"
