"""The engine's side of process isolation: the fork server and the pool of runners.

The engine starts one fork server (``_runner_main.serve_forks``) with an empty environment
and talks to it over a ``SOCK_SEQPACKET`` pair: one byte asks for a runner, the answer is
the runner's pipe and a pidfd (so a kill can never hit a recycled pid), and every exit
comes back as ``exit <pid> <status>``. The pool keeps ``warm`` runners started and ready,
gives each activation a runner of its own (a runner's death fails only that activation),
and recycles a runner after ``recycle_after`` activations or once it has grown past
``max_rss`` bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from typing import Any

import anyio

from agents_durable.engine._confinement import ConfinementSettings, probe_kernel
from agents_durable.engine._runner_protocol import frame, read_frame

__all__ = ["Runner", "RunnerDied", "RunnerPool"]

logger = logging.getLogger("agents_durable")
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
                 started: float) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.reader = reader
        self.writer = writer
        self.layers = layers
        self.activations = 0
        self.start_seconds = started
        self.exit_status: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.killed_for: str | None = None

    def send(self, message: dict[str, Any]) -> None:
        if not self.writer.is_closing():
            self.writer.write(frame(message))

    def kill(self, reason: str) -> None:
        if self.killed_for is None:
            self.killed_for = reason
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)

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


class RunnerPool:
    """Pre-started runners, one per running activation, replaced when they die."""

    def __init__(self, *, warm: int, settings: ConfinementSettings | None = None,
                 recycle_after: int = 500, max_rss: int = 512 * 1024 ** 2) -> None:
        self.warm = warm
        self.settings = settings or ConfinementSettings()
        self.recycle_after = recycle_after
        self.max_rss = max_rss
        self.layers: dict[str, str] = {}
        self._server: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._spawns: deque[asyncio.Future[tuple[int, int, int]]] = deque()
        self._by_pid: dict[int, Runner] = {}
        self._idle: deque[Runner] = deque()
        self._idle_changed = asyncio.Event()
        self._starting = 0
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()

    async def open(self) -> None:
        """Start the fork server and the warm runners; log which confinement layers hold."""
        engine_end, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-I", "-c",
                   f"import sys; sys.path.insert(0, {_PACKAGE_ROOT!r}); "
                   "from agents_durable.engine._runner_main import serve_forks; serve_forks()",
                   json.dumps(self.settings.to_json())]
        self._server = subprocess.Popen(command, stdin=server_end, stdout=subprocess.DEVNULL,
                                        stderr=None if os.environ.get(
                                            "AGENTS_DURABLE_RUNNER_DEBUG") else
                                        subprocess.DEVNULL,
                                        env={}, close_fds=True, start_new_session=True)
        server_end.close()
        self._control = engine_end
        loop = asyncio.get_running_loop()
        ready = await loop.sock_recv(engine_end, 64)
        if ready != b"ready\n":
            raise RuntimeError("the runner fork server did not start")
        engine_end.setblocking(False)
        loop.add_reader(engine_end.fileno(), self._on_control)
        first = await self._start_runner()
        self.layers = first.layers
        self._add_idle(first)
        for _ in range(self.warm - 1):
            self._refill()
        kernel = probe_kernel()
        off = {k: v for k, v in self.layers.items() if not v.startswith("on")}
        logger.info("runner processes: confinement layers %s (kernel: %s)",
                    ", ".join(f"{k} {v}" for k, v in self.layers.items()), kernel)
        for layer, why in off.items():
            logger.warning("runner confinement layer %s is not active: %s", layer, why)

    def _on_control(self) -> None:
        assert self._control is not None
        while True:
            try:
                message, fds, _flags, _addr = socket.recv_fds(self._control, 256, 2)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message, fds = b"", []
            if not message:  # the fork server is gone
                asyncio.get_running_loop().remove_reader(self._control.fileno())
                for future in self._spawns:
                    if not future.done():
                        future.set_exception(RuntimeError("the runner fork server exited"))
                return
            words = message.decode().split()
            if words[0] == "spawned" and self._spawns:
                future = self._spawns.popleft()
                if not future.done():
                    future.set_result((int(words[1]), fds[0], fds[1]))
            elif words[0] == "exit":
                runner = self._by_pid.pop(int(words[1]), None)
                if runner is not None and not runner.exit_status.done():
                    runner.exit_status.set_result(int(words[2]))
            else:
                for fd in fds:
                    os.close(fd)

    async def _start_runner(self) -> Runner:
        assert self._control is not None
        started = time.perf_counter()
        future: asyncio.Future[tuple[int, int, int]] = (
            asyncio.get_running_loop().create_future())
        self._spawns.append(future)
        self._control.send(b"s")
        pid, fd, pidfd = await future
        sock = socket.socket(fileno=fd)
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        with anyio.fail_after(10):
            hello = await read_frame(reader, 1024 * 1024)
        if hello is None or hello.get("op") != "ready":
            writer.close()
            os.close(pidfd)
            why = str(hello.get("error"))[-2000:] if hello else "its pipe closed"
            raise RuntimeError(f"a runner process did not start: {why}")
        runner = Runner(pid, pidfd, reader, writer, dict(hello.get("layers", {})),
                        time.perf_counter() - started)
        self._by_pid[pid] = runner
        return runner

    def _add_idle(self, runner: Runner) -> None:
        self._idle.append(runner)
        self._idle_changed.set()

    def _refill(self) -> None:
        if self._closed or len(self._idle) + self._starting >= self.warm:
            return
        self._starting += 1

        async def start() -> None:
            try:
                self._add_idle(await self._start_runner())
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
                or runner.rss() > self.max_rss):
            if healthy:
                runner.kill("recycled")
            runner.close()
            self._refill()
            return
        self._add_idle(runner)

    async def aclose(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        while self._idle:
            runner = self._idle.popleft()
            runner.kill("engine closed")
            runner.close()
        if self._control is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._control.fileno())
            self._control.close()
        if self._server is not None:
            server = self._server
            with contextlib.suppress(OSError):
                server.kill()
            await anyio.to_thread.run_sync(server.wait)

