"""The MCP server over streamable HTTP: uvicorn on a loopback port, the official client.

The bearer token decides the agent: each token sees only its own agent's plans and
instances, and a request without a valid token is refused before any MCP message.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

import agents_durable as ad
from agents_durable.mcp import mcp_http_app
from tests.agents import scenario
from tests.mcp.support import tool_data

pytestmark = pytest.mark.anyio

TOKENS = {"token-a": "agent-a", "token-b": "agent-b"}


@asynccontextmanager
async def serving(engine: ad.Engine) -> AsyncIterator[str]:
    """The app under uvicorn on a free loopback port; yields the endpoint URL."""
    app = mcp_http_app(engine, TOKENS.get, tools=[scenario.TOOL_NAME])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve, [sock])
        while not server.started:
            await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            server.should_exit = True
    sock.close()


@asynccontextmanager
async def connect(url: str, token: str) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http, \
            Client(streamable_http_client(url, http_client=http)) as client:
        yield client


async def test_tokens_decide_the_agent_over_http(engine: ad.Engine) -> None:
    engine.tools.register(scenario.TOOL_NAME, scenario.compose_greeting)
    async with serving(engine) as url:
        async with connect(url, "token-a") as a, connect(url, "token-b") as b:
            assert [t.name for t in (await a.list_tools()).tools][:3] == [
                "check_plan", "submit_plan", "start_plan"]
            prompt = await a.get_prompt("instructions")
            assert "tools.greetings.compose" in prompt.messages[0].content.text  # type: ignore[union-attr]
            tool_data(await a.call_tool("submit_plan", {"name": scenario.PLAN_NAME,
                                                        "source": scenario.FIXED_PLAN}))
            tool_data(await a.call_tool("start_plan", {
                "name": scenario.PLAN_NAME, "params": scenario.PARAMS,
                "id": scenario.INSTANCE_ID}))

            hidden = tool_data(await b.call_tool("send_plan_event", {
                "instance_id": scenario.INSTANCE_ID, "type": scenario.EVENT_TYPE}))
            missing = tool_data(await b.call_tool("send_plan_event", {
                "instance_id": "never-made", "type": scenario.EVENT_TYPE}))
            assert hidden["error"] == missing["error"] == "not_found"
            assert hidden["message"].replace(scenario.INSTANCE_ID, "?") == \
                missing["message"].replace("never-made", "?")
            assert tool_data(await b.call_tool("list_plans", {}))["plans"] == []
            assert (await b.list_resources()).resources == []

            tool_data(await a.call_tool("send_plan_event", {
                "instance_id": scenario.INSTANCE_ID, "type": scenario.EVENT_TYPE,
                "payload": scenario.EVENT_PAYLOAD}))
            done = tool_data(await a.call_tool("plan_status", {
                "instance_id": scenario.INSTANCE_ID, "wait_seconds": 20}))
            assert done["output"] == scenario.EXPECTED_OUTPUT
            uris = {r.uri for r in (await a.list_resources()).resources}
            assert f"agents-durable://instances/{scenario.INSTANCE_ID}/history" in uris

        async with httpx2.AsyncClient() as http:
            initialize = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
            headers = {"Accept": "application/json, text/event-stream"}
            for auth in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "token-a"}):
                response = await http.post(url, json=initialize, headers={**headers, **auth})
                assert response.status_code == 401, auth
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert response.json()["error"] == "unauthorized"


async def test_a_mounted_app_whose_lifespan_was_not_entered_says_so(engine: ad.Engine) -> None:
    app = mcp_http_app(engine, TOKENS.get)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app),
                                  base_url="http://test") as http:
        response = await http.post("/mcp", json={}, headers={"Authorization": "Bearer token-a"})
        assert response.status_code == 503
        assert "lifespan()" in response.json()["message"]
        async with app.lifespan():
            response = await http.post("/mcp", json={})
            assert response.status_code == 401
