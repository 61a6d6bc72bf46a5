"""What the MCP server adds to a toolkit call: the same calls direct, in process, over stdio
and over streamable HTTP, reported as p50 milliseconds and as ratios to the direct call.

    .venv/bin/python benchmarks/mcp_overhead.py [--calls 300]

Two calls are measured: ``plan_status`` of a finished instance (a small result) and
``plan_history`` of an instance with 200 steps (a result large enough to be cut to the
default 20,000 characters, so the cap's cost is in the figure). Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

import agents_durable as ad
from agents_durable.agents import PlanToolkit
from agents_durable.mcp import build_server, mcp_http_app

PLAN = '''"""Two hundred small steps."""


async def run(event, step):
    total = 0
    for n in range(200):
        item = await step.do("add", lambda: {"n": n, "note": "x" * 100})
        total += item["n"]
    return total
'''
AGENT = "bench"
CALLS = [("plan_status", {"instance_id": "done"}), ("plan_history", {"instance_id": "done"})]


async def _timed(call: Callable[[], Awaitable[Any]], count: int) -> float:
    for _ in range(5):
        await call()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


async def _measure(client: Any, count: int) -> dict[str, float]:
    return {name: await _timed(lambda n=name, a=args: client.call_tool(n, a), count)
            for name, args in CALLS}


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        results: dict[str, dict[str, float]] = {}
        async with ad.Engine.open(db) as engine:
            toolkit = PlanToolkit(engine, AGENT)
            await toolkit.submit_plan("many", PLAN)
            await toolkit.start_plan("many", id="done")
            await toolkit.plan_status("done", wait_seconds=30)
            results["direct toolkit"] = {
                name: await _timed(lambda n=name, a=args: toolkit.call(n, a), count)
                for name, args in CALLS}
            async with Client(build_server(lambda ctx: toolkit)) as client:
                results["MCP in process"] = await _measure(client, count)
            app = mcp_http_app(engine, {"t": AGENT}.get)
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
            async with anyio.create_task_group() as group:
                group.start_soon(server.serve, [sock])
                while not server.started:
                    await anyio.sleep(0.01)
                url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
                async with httpx2.AsyncClient(headers={"Authorization": "Bearer t"}) as http, \
                        Client(streamable_http_client(url, http_client=http)) as client:
                    results["MCP streamable HTTP (same process)"] = await _measure(client,
                                                                                   count)
                server.should_exit = True
        stdio = StdioServerParameters(command=sys.executable, args=[
            "-m", "agents_durable", "mcp", "--db", str(db), "--agent", AGENT])
        async with Client(stdio) as client:
            results["MCP stdio (subprocess)"] = await _measure(client, count)
    base = results["direct toolkit"]
    print(f"{'path':<38} " + "  ".join(f"{name + ' ms':>18} {'x':>6}" for name, _ in CALLS))
    for path, figures in results.items():
        print(f"{path:<38} " + "  ".join(f"{figures[n]:>18.3f} {figures[n] / base[n]:>6.1f}"
                                         for n, _ in CALLS))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    anyio.run(main, parser.parse_args().calls)
