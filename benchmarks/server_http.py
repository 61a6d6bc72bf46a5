"""The HTTP API's overhead, side by side with the in-process Python API it fronts.

Starts N instances of a one-step plan and waits until all are complete, once through
``agents-durable serve --worker`` over loopback HTTP (httpx, one connection, create then
poll), once through ``AgentScope.create`` on an engine in this process. Prints both
times and their ratio (never asserted anywhere). Usage::

    .venv/bin/python benchmarks/server_http.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import agents_durable as ad
from tests.server.conftest import start_server, stop_server

PLAN = '''async def run(event, step):
    return await step.do("double", lambda: event.payload["n"] * 2)
'''


def over_http(db: str, n: int) -> float:
    server = start_server(db, "--rate-limit", "100000", "--rate-burst", "100000",
                          who=("bench",))
    try:
        with server.client("bench") as client:
            base = "/v1/agents/bench"
            client.post(f"{base}/plans", json={"name": "p", "source": PLAN}).raise_for_status()
            started = time.perf_counter()
            for i in range(n):
                client.post(f"{base}/instances", json={"plan": "p", "params": {"n": i},
                                                       "id": f"i{i}"}).raise_for_status()
            while True:
                page = client.get(f"{base}/instances", params={"status": "complete",
                                                                "limit": 1000}).json()
                if len(page["items"]) >= n:
                    return time.perf_counter() - started
                time.sleep(0.05)
    finally:
        stop_server(server)


async def in_process(db: str, n: int) -> float:
    async with ad.Engine.open(db) as engine:
        agent = engine.agent("bench")
        await agent.register_plan("p", PLAN)
        started = time.perf_counter()
        handles = [await agent.create("p", {"n": i}, id=f"i{i}") for i in range(n)]
        for handle in handles:
            await handle.wait(timeout=120)
        return time.perf_counter() - started


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        http = over_http(str(Path(tmp) / "http.db"), n)
        local = anyio.run(in_process, str(Path(tmp) / "local.db"), n)
    print(f"{n} instances created and completed: HTTP {http:.2f} s ({n / http:.0f}/s), "
          f"in-process {local:.2f} s ({n / local:.0f}/s); HTTP / in-process = "
          f"{http / local:.2f}")


if __name__ == "__main__":
    main()
