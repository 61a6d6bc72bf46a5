"""The engine's side of process isolation: the fork server and the pool of runners.

The engine starts one fork server (``_runner_main.serve_forks``) with an empty environment
and talks to it over a ``SOCK_SEQPACKET`` pair: one byte asks for a runner, the answer is
the runner's pipe and a pidfd (so a kill can never hit a recycled pid), and every exit
comes back as ``exit <pid> <status>``. The pool keeps ``warm`` runners started and ready,
gives each activation a runner of its own (a runner's death fails only that activation),
and recycles a runner after ``recycle_after`` activations or once it has grown past
``max_rss`` bytes (read from /proc at most twice a second per runner).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Any

import anyio

from agents_durable.engine._confinement import ConfinementSettings, probe_kernel
from agents_durable.engine._runner_protocol import frame, read_frame

__all__ = ["Runner", "RunnerDied", "RunnerPool"]

logger = logging.getLogger("agents_durable")
_EMPTY_ENVIRONMENT: dict[str, str] = {}
#: Seconds between two reads of a runner's memory use (``max_rss``).
_RSS_EVERY = 0.5
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class RunnerDied(Exception):
    """The runner of an activation died, or was killed (deadline, protocol breach)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Runner:
    """One confined runner process and its pipe."""

    def __init__(self, pid: int, pidfd: int, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, layers: dict[str, str],
                 started: float, exit_status: asyncio.Future[int]) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.reader = reader
        self.writer = writer
        self.layers = layers
        self.activations = 0
        self.start_seconds = started
        self.exit_status = exit_status
        self.killed_for: str | None = None
        #: Hashes of the plans this runner was sent (it keeps their code).
        self.plans: set[str] = set()
        #: The ``Limits`` this runner was sent (it keeps them until sent others).
        self.limits: Any = None
        self.rss_checked = 0.0

    def send(self, message: dict[str, Any]) -> None:
        if not self.writer.is_closing():
            self.writer.write(frame(message))

    def kill(self, reason: str) -> None:
        if self.killed_for is None:
            self.killed_for = reason
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)

    def outgrown(self, max_rss: int) -> bool:
        """Whether this runner has grown past ``max_rss`` bytes; read from /proc at most
        every ``_RSS_EVERY`` seconds (a read costs more than a short activation)."""
        now = time.monotonic()
        if now - self.rss_checked < _RSS_EVERY:
            return False
        self.rss_checked = now
        return self.rss() > max_rss

    def rss(self) -> int:
        try:
            with open(f"/proc/{self.pid}/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    async def death_reason(self) -> str:
        """Why this runner ended, once the fork server reports its exit (or a guess)."""
        with anyio.move_on_after(2):
            status = await asyncio.shield(self.exit_status)
            described = _describe_status(status)
            return f"{self.killed_for} ({described})" if self.killed_for else described
        return self.killed_for or "the runner's pipe closed"

    def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            os.close(self.pidfd)


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"killed by {name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


class _ForkServer:
    """The fork server process and its control socket. Started once and kept for the
    life of the process (reopening an engine, a notebook, a test module reuse it); one
    pool uses it at a time."""

    def __init__(self, settings: ConfinementSettings) -> None:
        engine_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-I", "-c",
                   f"import sys; sys.path.insert(0, {_PACKAGE_ROOT!r}); "
                   "from agents_durable.engine._runner_main import serve_forks; serve_forks()",
                   json.dumps(settings.to_json())]
        debug = os.environ.get("AGENTS_DURABLE_RUNNER_DEBUG")
        self.process = subprocess.Popen(command, stdin=server_end.fileno(),
                                        stdout=subprocess.DEVNULL,
                                        stderr=None if debug else subprocess.DEVNULL,
                                        env=_EMPTY_ENVIRONMENT, close_fds=True,
                                        start_new_session=True)
        server_end.close()
        self.control = engine_end
        self.settings = settings
        self.in_use = False
        #: Spawn requests in the order sent; an abandoned one is cancelled, and the runner
        #: that answers it is killed on arrival.
        self.spawns: deque[asyncio.Future[tuple[int, int, int]]] = deque()
        self.exits: dict[int, asyncio.Future[int]] = {}
        engine_end.setblocking(False)
        self.started = False

    async def wait_ready(self) -> None:
        if self.started:
            return
        with anyio.fail_after(60):
            ready = await asyncio.get_running_loop().sock_recv(self.control, 64)
        if ready != b"ready\n":
            raise RuntimeError("the runner fork server did not start")
        self.started = True

    def alive(self) -> bool:
        return self.process.poll() is None

    def attach(self) -> None:
        asyncio.get_running_loop().add_reader(self.control.fileno(), self._on_control)

    def detach(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.control.fileno())
        for future in self.spawns:
            future.cancel()
        self.exits.clear()
        self.in_use = False

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        self.control.close()

    def _on_control(self) -> None:
        while True:
            try:
                message, fds, _flags, _addr = socket.recv_fds(self.control, 256, 2)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message, fds = b"", []
            if not message:  # the fork server is gone
                asyncio.get_running_loop().remove_reader(self.control.fileno())
                for future in self.spawns:
                    if not future.done():
                        future.set_exception(RuntimeError("the runner fork server exited"))
                return
            words = message.decode().split()
            if words[0] == "spawned" and self.spawns and len(fds) == 2:
                future = self.spawns.popleft()
                if future.done():  # abandoned: nobody wants this runner
                    with contextlib.suppress(OSError):
                        signal.pidfd_send_signal(fds[1], signal.SIGKILL)
                    for fd in fds:
                        os.close(fd)
                else:
                    future.set_result((int(words[1]), fds[0], fds[1]))
            elif words[0] == "exit":
                exit_status = self.exits.pop(int(words[1]), None)
                if exit_status is not None and not exit_status.done():
                    exit_status.set_result(int(words[2]))
            else:
                for fd in fds:
                    os.close(fd)


_SERVERS: list[_ForkServer] = []
_SERVERS_LOCK = threading.Lock()


def _lease_server(settings: ConfinementSettings) -> _ForkServer:
    with _SERVERS_LOCK:
        return _leased(settings)


def _leased(settings: ConfinementSettings) -> _ForkServer:
    for server in list(_SERVERS):
        if not server.alive():
            _SERVERS.remove(server)
            server.control.close()
        elif not server.in_use and server.settings == settings:
            server.in_use = True
            return server
    server = _ForkServer(settings)
    server.in_use = True
    _SERVERS.append(server)
    return server


@atexit.register
def _stop_servers() -> None:
    for server in _SERVERS:
        server.kill()
    _SERVERS.clear()


class RunnerPool:
    """Pre-started runners, one per running activation, replaced when they die."""

    def __init__(self, *, warm: int, settings: ConfinementSettings | None = None,
                 recycle_after: int = 500, max_rss: int = 512 * 1024 ** 2) -> None:
        self.warm = warm
        self.settings = settings or ConfinementSettings()
        self.recycle_after = recycle_after
        self.max_rss = max_rss
        self.layers: dict[str, str] = {}
        self._server: _ForkServer | None = None
        self._idle: deque[Runner] = deque()
        self._starting = 0
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()

    async def open(self) -> None:
        """Start (or reuse) the fork server and the warm runners; log which confinement
        layers hold and which do not."""
        # started from the event loop's thread: the fork server dies with the thread that
        # started it (PR_SET_PDEATHSIG), so never from a worker thread
        self._server = _lease_server(self.settings)
        try:
            await self._server.wait_ready()
        except BaseException:
            self._server.in_use = False
            raise
        self._server.attach()
        first = await self._start_runner()
        self.layers = first.layers
        self._idle.append(first)
        for _ in range(self.warm - 1):
            self._refill()
        kernel = probe_kernel()
        off = {k: v for k, v in self.layers.items() if not v.startswith("on")}
        logger.info("runner processes: confinement layers %s (kernel: %s)",
                    ", ".join(f"{k} {v}" for k, v in self.layers.items()), kernel)
        for layer, why in off.items():
            logger.warning("runner confinement layer %s is not active: %s", layer, why)

    async def _start_runner(self) -> Runner:
        server = self._server
        assert server is not None
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[int, int, int]] = loop.create_future()
        server.spawns.append(future)
        server.control.send(b"s")
        pid, fd, pidfd = await future
        exit_status: asyncio.Future[int] = loop.create_future()
        server.exits[pid] = exit_status
        sock = socket.socket(fileno=fd)
        try:
            reader, writer = await asyncio.open_unix_connection(sock=sock)
        except BaseException:
            sock.close()
            os.close(pidfd)
            raise
        try:
            with anyio.fail_after(10):
                hello = await read_frame(reader, 1024 * 1024)
        except BaseException:
            writer.close()
            os.close(pidfd)
            raise
        if hello is None or hello.get("op") != "ready":
            writer.close()
            os.close(pidfd)
            why = str(hello.get("error"))[-2000:] if hello else "its pipe closed"
            raise RuntimeError(f"a runner process did not start: {why}")
        return Runner(pid, pidfd, reader, writer, dict(hello.get("layers", {})),
                      time.perf_counter() - started, exit_status)

    def _refill(self) -> None:
        if self._closed or len(self._idle) + self._starting >= self.warm:
            return
        self._starting += 1

        async def start() -> None:
            try:
                runner = await self._start_runner()
                if self._closed:
                    runner.kill("engine closed")
                    runner.close()
                else:
                    self._idle.append(runner)
            except Exception:
                logger.exception("could not start a runner process")
            finally:
                self._starting -= 1

        task = asyncio.get_running_loop().create_task(start())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def acquire(self) -> Runner:
        """A ready runner for one activation (started now if none is idle)."""
        runner = self._idle.popleft() if self._idle else None
        if runner is None:
            runner = await self._start_runner()
        self._refill()
        runner.activations += 1
        return runner

    def release(self, runner: Runner, *, healthy: bool) -> None:
        """Back to the pool after an activation, or retired (dead, killed, worn out)."""
        if (not healthy or self._closed or runner.activations >= self.recycle_after
                or runner.outgrown(self.max_rss)):
            if healthy:
                runner.kill("recycled")
            runner.close()
            self._refill()
            return
        self._idle.append(runner)

    async def aclose(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        while self._idle:
            runner = self._idle.popleft()
            runner.kill("engine closed")
            runner.close()
        if self._server is not None:
            self._server.detach()
            self._server = None
