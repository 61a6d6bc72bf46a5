"""Category 6, exceptions: BaseException subclasses that skip a host's ``except
Exception``, catching the engine's own signals, and host objects reachable through
exception attributes (``__traceback__``, ``with_traceback``, ``args``).
"""

from __future__ import annotations

import pytest

import agents_durable as ad
from agents_durable.testing import FakeClock
from tests.security.conftest import (
    assert_output,
    assert_rejected,
    assert_stopped,
    compile_codes,
)

pytestmark = pytest.mark.anyio


def _plan(body: str) -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"async def run(event, step):\n{lines}\n"


BASE = ["SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException",
        "BaseExceptionGroup"]


@pytest.mark.parametrize("name", BASE)
def test_raising_base_exceptions_is_rejected(name: str) -> None:
    assert_rejected(_plan(f"raise {name}()"), "ADP203")


@pytest.mark.parametrize("name", BASE)
async def test_base_exceptions_are_not_builtins_at_run_time(engine: ad.Engine,
                                                            unvalidated: None,
                                                            name: str) -> None:
    await assert_stopped(engine, _plan(f"raise {name}()"), "NameError")


@pytest.mark.parametrize("handler", ["except:", "except BaseException:",
                                     "except (ValueError, SystemExit):",
                                     "except GeneratorExit:"])
def test_catching_engine_signals_is_rejected(handler: str) -> None:
    assert_rejected(_plan(f"try:\n    pass\n{handler}\n    pass\nreturn 1"), "ADP304")


def test_bare_except_is_refused_by_the_compiler(unvalidated: None) -> None:
    assert "ADP309" in compile_codes(_plan("try:\n    pass\nexcept:\n    pass\nreturn 1"))


async def test_except_exception_cannot_swallow_suspension(engine: ad.Engine,
                                                         clock: FakeClock) -> None:
    # The suspension signal is a BaseException: `except Exception` must not stop a sleep.
    source = _plan('try:\n    await step.sleep("nap", "1 hour")\nexcept Exception:\n'
                   '    return "swallowed"\nreturn "slept"')
    scope = engine.agent("attacker")
    await scope.register_plan("sleepy", source)
    instance = await scope.create("sleepy")
    await clock.settle()
    assert (await instance.status()).status == "waiting"
    await clock.advance("2 hours")
    status = await instance.wait(timeout=20)
    assert (status.status, status.output) == ("complete", "slept")


async def test_except_exception_cannot_swallow_budget_exhaustion(engine: ad.Engine) -> None:
    source = _plan("try:\n    while True:\n        pass\nexcept Exception:\n"
                   "    return 'swallowed'")
    await assert_stopped(engine, source, "BudgetExceeded")


@pytest.mark.parametrize("body", [
    "try:\n    1 / 0\nexcept Exception as e:\n    return str(e.__traceback__)",
    "try:\n    1 / 0\nexcept Exception as e:\n    return str(e.with_traceback(None))",
])
def test_traceback_access_is_rejected(body: str) -> None:
    assert_rejected(_plan(body), "ADP207")


@pytest.mark.parametrize("attribute", ["with_traceback", "args", "__traceback__",
                                       "__context__", "add_note"])
async def test_exception_attributes_are_allow_listed(engine: ad.Engine, unvalidated: None,
                                                     attribute: str) -> None:
    source = _plan(f"try:\n    1 / 0\nexcept Exception as e:\n"
                   f"    return str(getattr(e, '{attribute}'))")
    await assert_stopped(engine, source, "PlanAccessError")


async def test_host_exception_args_from_a_failed_tool_are_not_reachable(
        engine: ad.Engine, unvalidated: None) -> None:
    def broken() -> None:
        raise RuntimeError(object())

    engine.tools.register("broken", broken)
    source = _plan('async def call():\n    try:\n        return await tools.broken()\n'
                   '    except Exception as e:\n        return str(getattr(e, "args"))\n'
                   'return await step.do("call", call, retries={"limit": 0})')
    status = await assert_stopped(engine, source, "StepFailed", tools=("broken",))
    assert "PlanAccessError" in status.error.message


async def test_benign_step_failed_attributes_are_data(engine: ad.Engine) -> None:
    source = _plan('def boom():\n    raise NonRetryableError("no")\n'
                   'try:\n    await step.do("boom", boom)\nexcept StepFailed as e:\n'
                   '    return [e.step, e.cause, e.message, e.attempts]')
    await assert_output(engine, source, ["boom", "NonRetryableError", "no", 1])
