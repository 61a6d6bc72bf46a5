"""A worker process of the multi-worker tests: ``python pg_worker.py URL SIDE_LOG``.

Runs an engine on the shared PostgreSQL database until SIGTERM, with the tools of the
plans in ``test_multiworker.py``:

- ``effect(key, pause)`` sleeps ``pause`` real seconds, appends ``key pid run began`` to
  SIDE_LOG (its effect, made once per execution; ``began`` is when it started, in
  ``time.time()`` seconds) and returns ``run`` (``pid-n``, unique per execution): a
  committed result names the execution it comes from;
- ``slow(key, seconds)`` appends ``key pid start`` then sleeps ``seconds`` real seconds
  and returns ``{"pid": ..., "at": time.time()}``: which worker's execution a committed
  result comes from, and when that execution ended.

Prints ``ready`` once the engine is open.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

if __package__ in (None, ""):  # run as a script: make ``agents_durable`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import agents_durable as ad

AGENT = "fleet"


def make_tools(side_log: str) -> dict[str, Callable[..., Any]]:
    """The tools of the multi-worker plans, writing to ``side_log`` (see the docstring)."""
    note = os.open(side_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    pid = os.getpid()

    runs = itertools.count(1)

    def effect(key: str, pause: float = 0.0) -> str:
        began = time.time()
        time.sleep(pause)
        run = f"{pid}-{next(runs)}"
        os.write(note, f"{key} {pid} {run} {began!r}\n".encode())
        return run

    def slow(key: str, seconds: float) -> dict[str, Any]:
        os.write(note, f"{key} {pid} start\n".encode())
        time.sleep(seconds)
        return {"pid": pid, "at": time.time()}

    return {"effect": effect, "slow": slow}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("side_log")
    parser.add_argument("--lease", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    engine = ad.Engine.open(args.url, poll_interval=0.1, lease=args.lease,
                            concurrency=args.concurrency, grace_period=5)
    for name, fn in make_tools(args.side_log).items():
        engine.tools.register(name, fn)
    engine.agent(AGENT, tools=["effect", "slow"])
    async with engine:
        print("ready", flush=True)
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                break


if __name__ == "__main__":
    anyio.run(main)
