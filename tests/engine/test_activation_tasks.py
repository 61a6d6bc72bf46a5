"""Activations run in plain asyncio tasks (cheaper to start than a task group's), and
stay structured: the engine's group cannot exit before every one of them has ended, a
stop cancels them through their own cancel scope (so the shielded write of an end still
happens), and an exception escaping one stops the engine as a task group would."""

from __future__ import annotations

import anyio
import pytest

from agents_durable.engine._activation_tasks import ActivationTasks

pytestmark = pytest.mark.anyio


async def activation(scope: anyio.CancelScope, log: list[str], name: str, *,
                     fail: bool = False) -> None:
    """Like the engine's: runs in ``scope``, and writes its end shielded, whatever."""
    try:
        with scope:
            await anyio.sleep(0.01)
            if fail:
                raise LookupError(f"{name} broke")
            await anyio.sleep_forever()
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.sleep(0.02)  # the end's write takes a while
            log.append(f"{name} ended")


async def test_a_stop_cancels_every_activation_and_waits_for_its_end() -> None:
    tasks, log = ActivationTasks(), []
    async with anyio.create_task_group() as group:
        group.start_soon(tasks.run)
        for n in range(3):
            scope = anyio.CancelScope()
            tasks.start(activation(scope, log, f"a{n}"), scope, name="test")
        await anyio.sleep(0.05)
        tasks.seal()
        group.cancel_scope.cancel()
    assert sorted(log) == ["a0 ended", "a1 ended", "a2 ended"]
    assert len(tasks) == 0


async def test_a_claim_in_flight_at_the_stop_still_has_its_activations_awaited() -> None:
    tasks, log = ActivationTasks(), []
    async with anyio.create_task_group() as group:
        group.start_soon(tasks.run)
        await anyio.sleep(0.01)
        group.cancel_scope.cancel()  # the stop lands before the claim starts its work
        with anyio.CancelScope(shield=True):
            await anyio.sleep(0.01)
            scope = anyio.CancelScope()
            tasks.start(activation(scope, log, "late"), scope, name="test")
            tasks.seal()  # the scheduler ends after its shielded claim
    assert log == ["late ended"]


async def test_an_exception_escaping_an_activation_stops_the_rest_and_is_raised() -> None:
    tasks, log = ActivationTasks(), []
    with pytest.raises(ExceptionGroup) as raised:
        async with anyio.create_task_group() as group:
            group.start_soon(tasks.run)
            for n, fail in enumerate([False, True, False]):
                scope = anyio.CancelScope()
                tasks.start(activation(scope, log, f"a{n}", fail=fail), scope, name="test")
            tasks.seal()
    (error,) = raised.value.exceptions
    assert isinstance(error, LookupError) and str(error) == "a1 broke"
    assert sorted(log) == ["a0 ended", "a1 ended", "a2 ended"]


async def test_no_activation_starts_after_the_scheduler_has_stopped() -> None:
    tasks = ActivationTasks()
    tasks.seal()

    async def nothing() -> None:
        pass

    coroutine = nothing()
    with pytest.raises(RuntimeError, match="after the scheduler stopped"):
        tasks.start(coroutine, anyio.CancelScope(), name="test")
    coroutine.close()
