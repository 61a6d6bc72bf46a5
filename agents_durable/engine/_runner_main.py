"""Inside a runner process: confine, then run activations the engine sends, one at a time.

Runners are forked from a fork server (``serve_forks``), a process the engine starts once
with an empty environment and that has already imported the engine, RestrictedPython and
every module a plan may import: a new runner costs a ``fork()``, not an interpreter start.
Each forked runner confines itself (``_confinement``) before it reads anything from its
pipe, then runs the same ``Activation`` code an inline engine runs, with ``RunnerHost`` in
place of the engine: journal commits, tool calls, storage usage and (under a fake clock)
time are requests to the engine over the pipe.

Journal commits are pipelined: a runner sends each ``record_step`` and runs on without
waiting for the commit. The engine commits a runner's rows strictly in the order it reads
them, before it serves anything the runner sends after them (a tool call, a child start, a
sleep, the ``finish``), and abandons the activation (killing this runner) at the first row
that fails: nothing the plan does after a step whose commit failed leaves this process.
So the plan may run on with a step's outcome before it is durable, but nothing it does
with it reaches the world (a tool, a child, the instance's end) before it is.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import json
import marshal
import os
import signal
import socket
import sys
from collections.abc import Iterator
from typing import Any

from agents_durable.engine._activation import Activation
from agents_durable.engine._clock import Clock, SystemClock
from agents_durable.engine._confinement import ConfinementSettings, confine
from agents_durable.engine._models import Limits
from agents_durable.engine._observe import Observer
from agents_durable.engine._runner_protocol import (
    decode_journal,
    decode_record,
    encode_finish,
    fields_of,
    frame,
    read_frame,
)
from agents_durable.engine._tools import current_step
from agents_durable.errors import (
    AgentsDurableError,
    InstanceExists,
    NonRetryableError,
    ToolError,
    ToolNotFound,
    ToolUsageError,
)
from agents_durable.plans._compile import CompiledPlan
from agents_durable.plans._policy import PlanPolicy
from agents_durable.store import Finish, InstanceRecord, NewInstance, StepRecord

__all__ = ["RunnerHost", "serve_forks"]

#: Errors the engine may send back for a request, rebuilt by name; anything else arrives
#: as ``HostRequestFailed`` (the engine already judged it: a store failure hands back).
_ERRORS: dict[str, type[Exception]] = {
    "ToolError": ToolError, "ToolUsageError": ToolUsageError, "ToolNotFound": ToolNotFound,
    "NonRetryableError": NonRetryableError, "TimeoutError": TimeoutError,
    "InstanceExists": InstanceExists}
_FRAME_LIMIT = 256 * 1024 * 1024
#: Bytes of unsent frames past which a commit waits for the pipe (backpressure).
_BACKLOG = 1024 * 1024


class HostRequestFailed(AgentsDurableError):
    """The engine could not carry out a request of this runner (a store failure)."""


class _MirrorClock:
    """The engine's fake clock as a runner sees it: ``now`` from the engine's last reply,
    sleeps carried out by the engine."""

    polls = False

    def __init__(self, link: _EngineLink, now: float) -> None:
        self._link = link
        self.now_value = now

    def now(self) -> float:
        return self.now_value

    async def sleep_until(self, deadline: float) -> None:
        if deadline > self.now_value:
            await self._link.call("sleep_until", deadline=deadline)


class _EngineLink:
    """Requests to the engine and their replies, matched by id; controls and starts."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.next_id = 0
        self.starts: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.activation: Activation | None = None
        self.clock: _MirrorClock | None = None
        #: Plans this runner was sent, by hash.
        self.plans: dict[str, CompiledPlan] = {}
        #: The engine's limits, sent with the first start (and again only if they change).
        self.limits: Limits | None = None

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write(frame(message))

    async def flow(self) -> None:
        """Yield once (so a control the engine sent is read), or, while the pipe holds
        more than ``_BACKLOG`` unsent bytes, wait for it to drain: a plan that makes steps
        faster than the engine commits them is held back instead of buffering without
        bound."""
        if self.writer.transport.get_write_buffer_size() > _BACKLOG:
            await self.writer.drain()
        else:
            await asyncio.sleep(0)

    async def call(self, op: str, **fields: Any) -> Any:
        self.next_id += 1
        ident = self.next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[ident] = future
        self.send({"op": op, "id": ident, **fields})
        try:
            return await future
        except asyncio.CancelledError:
            if not future.done():
                self.send({"op": "cancel", "id": ident})
            raise
        finally:
            self.pending.pop(ident, None)

    async def serve(self) -> None:
        try:
            while True:
                message = await read_frame(self.reader, _FRAME_LIMIT)
                if message is None:
                    break
                self._dispatch(message)
        finally:
            self.starts.put_nowait(None)

    def _dispatch(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if self.clock is not None and isinstance(message.get("now"), float):
            self.clock.now_value = max(self.clock.now_value, message["now"])
        if op == "reply":
            future = self.pending.get(message.get("id", -1))
            if future is None or future.done():
                return
            error = message.get("error")
            if error is None:
                future.set_result(message.get("value"))
            else:
                cls = _ERRORS.get(str(error.get("name")), HostRequestFailed)
                future.set_exception(cls(str(error.get("message", ""))))
        elif op == "control":
            if self.activation is not None:
                self.activation.control = message.get("value")
        elif op == "start":
            self.starts.put_nowait(message)


#: The step attempt (its span key) a runner's code runs in, carried by its tool calls.
_attempt_key: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "agents_durable_attempt", default=None)


class _AttemptsToEngine(Observer):
    """Tells the engine when a step attempt begins and ends (fire-and-forget frames): the
    engine observes the attempt (its span) and runs the attempt's tool calls inside it.
    Commits, tool calls and activations the engine observes itself (see ``_host``)."""

    def __init__(self, link: _EngineLink) -> None:
        self._link = link

    @contextlib.contextmanager
    def step(self, agent_id: str, instance_id: str, name: str, attempt: int) -> Iterator[None]:
        link = self._link
        link.next_id += 1
        key = link.next_id
        link.send({"op": "attempt_began", "key": key, "name": name, "attempt": attempt})
        token = _attempt_key.set(key)
        try:
            yield
        except BaseException as error:
            link.send({"op": "attempt_ended", "key": key,
                       "error": f"{type(error).__name__}: {error}"[:500]})
            raise
        else:
            link.send({"op": "attempt_ended", "key": key})
        finally:
            _attempt_key.reset(token)


class RunnerHost:
    """``ActivationHost`` inside a runner: every effect is a request to the engine."""

    def __init__(self, link: _EngineLink, limits: Limits, clock: Clock,
                 usage: int | None = None, *, observe_steps: bool = False) -> None:
        self._link = link
        self.limits = limits
        self.clock = clock
        # the base observer's hooks are skipped outright (``observing``): no frames then
        self.observer: Observer = _AttemptsToEngine(link) if observe_steps else Observer()
        #: Rows are streamed to the engine as they are made (pipelined, see above).
        self.defers_commits = False
        #: The agent's storage usage the engine sent with the start (saves a round trip).
        self._usage = usage

    @property
    def store(self) -> RunnerHost:
        return self

    async def record_step(self, pk: int, step: StepRecord, *,
                          consume_event: int | None = None, lease: int = 0) -> None:
        # Pipelined (see the module docstring): sent, not awaited. A cancellation while
        # waiting for the pipe sends nothing, as if it came before the call. The engine
        # writes with the lease it holds for this instance, not one a runner says.
        await self._link.flow()
        self._link.send({"op": "record_step", "step": fields_of(step),
                         "consume_event": consume_event})

    async def agent_usage(self, agent_id: str) -> int:
        usage, self._usage = self._usage, None
        if usage is not None:
            return usage
        return int(await self._link.call("agent_usage"))

    def add_agent_usage(self, agent_id: str, size: int) -> None:
        """The engine counts what it commits itself."""

    async def latest_plan(self, agent_id: str, name: str) -> tuple[str, int, str] | None:
        found = await self._link.call("latest_plan", name=name)
        return None if found is None else (str(found[0]), int(found[1]), str(found[2]))

    async def start_child(self, parent: InstanceRecord, new: NewInstance, *,
                          keep: bool) -> None:
        await self._link.call("start_child", new=fields_of(new), keep=keep)

    async def call_tool(self, record: InstanceRecord, grants: frozenset[str], name: str,
                        args: list[Any], kwargs: dict[str, Any], limit: int) -> Any:
        context = current_step.get()
        return await self._link.call("tool", name=name, args=args, kwargs=kwargs,
                                     step=getattr(context, "name", None),
                                     attempt=_attempt_key.get())


async def _run_one(link: _EngineLink, start: dict[str, Any]) -> Finish:
    record = decode_record(start["record"])
    plan_hash = start["plan_hash"]
    plan = link.plans.get(plan_hash)
    if plan is None:  # compiled by the engine (validated there); sent once per runner
        code = marshal.loads(base64.b64decode(start["code"]))
        plan = link.plans[plan_hash] = CompiledPlan(
            hash=plan_hash, source=start["source"], code=code,
            policy=PlanPolicy.model_validate_json(start["policy"]), description="",
            outline=())
    clock: Clock
    if start["clock"] == "system":
        clock, link.clock = SystemClock(), None
    else:
        link.clock = _MirrorClock(link, float(start["now"]))
        clock = link.clock
    if "limits" in start:  # validated once per runner, not on every start
        link.limits = Limits.model_validate(start["limits"])
    if link.limits is None:
        raise ValueError("the first start of a runner carries the limits")
    usage = start.get("usage")
    host = RunnerHost(link, link.limits, clock, usage if isinstance(usage, int) else None,
                      observe_steps=start.get("observe_steps") is True)
    activation = Activation(host, record, plan, decode_journal(start["journal"]),
                            frozenset(start["grants"]))
    activation.control = start.get("control")
    link.activation = activation
    try:
        return await activation.run()
    finally:
        link.activation = None


async def _serve(sock: socket.socket, report: dict[str, str]) -> None:
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    link = _EngineLink(reader, writer)
    serving = asyncio.get_running_loop().create_task(link.serve())
    link.send({"op": "ready", "layers": report, "pid": os.getpid()})
    while True:
        start = await link.starts.get()
        if start is None:
            break
        try:
            finish = await _run_one(link, start)
        except Exception as error:  # an engine bug: this activation errors, the runner lives
            finish = Finish("errored", error=json.dumps({
                "name": "EngineError", "message": f"{type(error).__name__}: {error}",
                "step": None}))
        link.send({"op": "finish", "finish": encode_finish(finish)})
        await writer.drain()
    serving.cancel()
    with contextlib.suppress(BaseException):
        await serving


def _runner(sock: socket.socket, settings: ConfinementSettings) -> None:
    """The forked child: confine, then serve activations until the pipe closes."""
    os.setsid()
    sys.dont_write_bytecode = True
    # the event loop makes its wake-up socketpair now: once confined, no socket can be made
    loop = asyncio.new_event_loop()
    internal = (loop._selector.fileno(), loop._ssock.fileno(),  # type: ignore[attr-defined]
                loop._csock.fileno())  # type: ignore[attr-defined]
    report = confine(settings, keep_fd=sock.fileno(), keep_internal=internal)
    try:
        loop.run_until_complete(_serve(sock, report))
    except BaseException as error:  # tell the engine why, where no stderr is left
        import traceback

        with contextlib.suppress(OSError):
            sock.setblocking(True)
            sock.sendall(frame({"op": "broken", "error": "".join(
                traceback.format_exception(error))[-4000:]}))
        os._exit(70)
    os._exit(0)


def _preload() -> None:
    """Import what plans and activations use before any fork, so no runner imports later."""
    from agents_durable.plans._policy import DEFAULT_MODULES

    for name in (*DEFAULT_MODULES, "anyio._backends._asyncio"):
        __import__(name)
    # build the per-process caches of the sandbox (builtins, guards, module wrappers) once
    # here, not in every runner at its first activation
    from agents_durable.plans._budget import Budget
    from agents_durable.plans._builtins import PrintCapture
    from agents_durable.plans._compile import compile_plan, instantiate

    warm = compile_plan("import math\nimport json\n\nasync def run(event, step):\n"
                        "    return [math.floor(1.5), json.dumps([1])]\n")
    run = instantiate(warm, budget=Budget(fuel=10_000, max_depth=50,
                                          max_slice_seconds=1.0),
                      printer=PrintCapture(1000), extra={})
    coroutine = run(None, None)
    with contextlib.suppress(StopIteration):
        coroutine.send(None)
    PlanPolicy.model_validate_json(warm.policy.model_dump_json())
    Limits.model_validate(Limits().model_dump(mode="json"))
    import datetime  # noqa: F401
    import decimal  # noqa: F401
    import random  # noqa: F401
    import uuid  # noqa: F401


def serve_forks() -> None:
    """The fork server: on each byte from the engine, fork one runner and hand the engine
    its pipe and a pidfd over SCM_RIGHTS; report exits as ``exit <pid> <status>`` lines."""
    control = socket.socket(fileno=0)
    settings = ConfinementSettings.from_json(json.loads(sys.argv[1]))
    _preload()
    with contextlib.suppress(OSError):
        import ctypes

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # die with the engine
    reaper_r, reaper_w = os.pipe()
    os.set_blocking(reaper_w, False)
    signal.set_wakeup_fd(reaper_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    import selectors

    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(reaper_r, selectors.EVENT_READ)
    control.sendall(b"ready\n")
    while True:
        for key, _ in selector.select():
            if key.fileobj is control:
                if not control.recv(1):
                    os._exit(0)
                _fork_one(control, settings, (reaper_r, reaper_w))
            else:
                os.read(reaper_r, 4096)
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            control.sendall(f"exit {pid} {status}\n".encode())


def _fork_one(control: socket.socket, settings: ConfinementSettings,
              private: tuple[int, int]) -> None:
    engine_end, runner_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            engine_end.close()
            control.close()
            for fd in private:
                os.close(fd)
            _runner(runner_end, settings)
        finally:
            os._exit(70)
    runner_end.close()
    pidfd = os.pidfd_open(pid)
    try:
        socket.send_fds(control, [f"spawned {pid}\n".encode()],
                        [engine_end.fileno(), pidfd])
    finally:
        engine_end.close()
        os.close(pidfd)


if __name__ == "__main__":
    serve_forks()
