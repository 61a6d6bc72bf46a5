"""Process isolation: what a runner process stops that no in-process guard can.

A tuple nested a million deep, hashed (a set member, a dict key), overflows the C stack
inside one C call: inline, it takes the engine process down (so these tests never run it
inline); in a runner, it kills the runner only, and the instance is retried, then
quarantined, while the engine and other instances carry on. A single exponential C call
(comparing aliased lists) cannot be interrupted by the budget; the engine's wall-clock
deadline kills its runner. And the operating-system layer holds on its own: plain Python
with no language gate at all, once confined, cannot open the host's files, make a socket,
read the environment or start a process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import agents_durable as ad
from agents_durable.engine._confinement import probe_kernel
from agents_durable.testing import FakeClock

from .conftest import CANARY_ENV, assert_engine_alive, run

pytestmark = pytest.mark.anyio

DEEP = 1_000_000
POLICY = ad.PlanPolicy(fuel=3 * DEEP, max_slice_seconds=20.0)

DEEP_TUPLE_IN_A_SET = f"""
async def run(event, step):
    await step.do("before", lambda: 1)
    t = ()
    for _ in range({DEEP}):
        t = (t,)
    return len({{t}})
"""

DEEP_TUPLE_AS_KEY = f"""
async def run(event, step):
    t = ()
    for _ in range({DEEP}):
        t = (t,)
    seen = {{t: 1}}
    return len(seen)
"""

EXPONENTIAL_COMPARE = """
async def run(event, step):
    a = [0]
    b = [0]
    for _ in range(40):
        a = [a, a]
        b = [b, b]
    return a == b
"""

BYSTANDER = """
async def run(event, step):
    got = await step.wait_for_event("go", type="go", timeout="1 hour")
    return await step.do("after", lambda: got["payload"]["n"] * 2)
"""


@pytest.fixture
async def process_engine(tmp_path: Path, clock: FakeClock) -> AsyncIterator[ad.Engine]:
    async with ad.Engine.open(tmp_path / "engine.db", clock=clock, isolation="process",
                              runners=2) as engine:
        yield engine


@pytest.mark.parametrize("source", [DEEP_TUPLE_IN_A_SET, DEEP_TUPLE_AS_KEY],
                         ids=["set_member", "dict_key"])
async def test_a_segfaulting_plan_is_quarantined_and_nothing_else_notices(
        process_engine: ad.Engine, source: str) -> None:
    engine = process_engine
    bystanders = engine.agent("bystander")
    await bystanders.register_plan("waits", BYSTANDER)
    waiting = await bystanders.create("waits", id="parked")

    status = await run(engine, source, policy=POLICY)

    assert status.status == "errored"
    assert status.error is not None and status.error.name == "QuarantinedError"
    assert "SIGSEGV" in status.error.message
    # the instance parked before the crashes still holds its place and finishes
    await waiting.send_event("go", {"n": 21})
    assert (await waiting.wait(timeout=30)).output == 42
    await assert_engine_alive(engine)


async def test_a_c_call_past_the_wall_clock_deadline_costs_one_activation(
        tmp_path: Path, clock: FakeClock) -> None:
    async with ad.Engine.open(tmp_path / "engine.db", clock=clock, isolation="process",
                              runners=2, runner_deadline=1.0) as engine:
        status = await run(engine, EXPONENTIAL_COMPARE)

        assert status.status == "errored"
        assert status.error is not None and status.error.name == "QuarantinedError"
        assert "deadline" in status.error.message
        await assert_engine_alive(engine)


async def test_the_engine_reports_its_confinement_layers(process_engine: ad.Engine) -> None:
    pool = process_engine.runner_pool
    assert pool is not None
    assert set(pool.layers) == {"descriptors", "environment", "rlimits", "no_new_privs",
                                "landlock", "unprivileged", "seccomp"}
    kernel = probe_kernel()
    for layer in ("descriptors", "environment", "rlimits", "no_new_privs", "unprivileged"):
        assert pool.layers[layer].startswith("on"), pool.layers
    if kernel["landlock"].startswith("ABI"):
        assert pool.layers["landlock"].startswith("on"), pool.layers
    else:
        assert pool.layers["landlock"].startswith("off"), pool.layers


#: Plain Python, no RestrictedPython, no guards: confined exactly as a runner confines
#: itself, then every escape that reaches the operating system.
PROBE = r"""
import json, os, socket, subprocess, sys
from agents_durable.engine._confinement import ConfinementSettings, confine
layers = confine(ConfinementSettings(), keep_fd=1)
canary, port = sys.argv[1], int(sys.argv[2])
def attempt(action):
    try:
        action()
    except BaseException as error:
        return f"blocked: {type(error).__name__}"
    return "allowed"
def connect():
    s = socket.socket()
    s.connect(("127.0.0.1", port))
def write():
    with open(os.path.join(os.path.dirname(canary), "canary-written"), "w") as f:
        f.write("x")
def spawn():
    subprocess.run(["/bin/true"], check=True)
def fork():
    if os.fork() == 0:
        os._exit(0)
results = {
    "layers": layers,
    "read the host's file": attempt(lambda: open(canary).read()),
    "write a file": attempt(write),
    "connect a socket": attempt(connect),
    "read /proc/self/environ": attempt(lambda: open("/proc/self/environ").read()),
    "spawn a process": attempt(spawn),
    "fork": attempt(fork),
    "signal the parent": attempt(lambda: os.kill(os.getppid(), 9)),
    "environment": dict(os.environ),
}
os.write(1, json.dumps(results).encode())
"""


def test_the_os_layer_alone_stops_escapes_that_reach_the_kernel(canary: Path) -> None:
    kernel = probe_kernel()
    if not kernel["landlock"].startswith("ABI") or kernel["seccomp"] != "available":
        pytest.skip(f"this kernel lacks a confinement layer ({kernel}); the engine logs it")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    root = str(Path(ad.__file__).resolve().parent.parent)
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c",
             f"import sys; sys.path.insert(0, {root!r})\n" + PROBE,
             str(canary), str(listener.getsockname()[1])],
            capture_output=True, timeout=60, env={**os.environ})
    finally:
        listener.close()
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    results = json.loads(done.stdout)
    assert all(v.startswith("on") for v in results.pop("layers").values())
    assert results.pop("environment") == {}
    assert CANARY_ENV in os.environ  # the probe had it, and lost it
    for attempt, outcome in results.items():
        assert outcome.startswith("blocked"), (attempt, outcome)
