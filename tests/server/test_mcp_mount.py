"""``agents-durable serve`` serves the MCP server at ``/mcp``: the API's bearer tokens decide
the agent there too, with the same tenancy."""

from __future__ import annotations

import httpx
import pytest

from tests.server.conftest import Server
from tests.server.plans import QUICK

pytest.importorskip("mcp")

from tests.mcp.support import tool_data
from tests.mcp.test_http import connect

pytestmark = [pytest.mark.anyio, pytest.mark.xdist_group("server-api")]


async def test_agent_tokens_reach_their_own_toolkit_at_mcp(server: Server) -> None:
    url = f"{server.url}/mcp/"
    async with connect(url, server.tokens["alice"]) as alice, \
            connect(url, server.tokens["bob"]) as bob:
        names = [t.name for t in (await alice.list_tools()).tools]
        assert {"check_plan", "submit_plan", "start_plan", "plan_status"} <= set(names)
        tool_data(await alice.call_tool("submit_plan", {"name": "quick-mcp", "source": QUICK}))
        tool_data(await alice.call_tool("start_plan", {"name": "quick-mcp", "id": "via-mcp",
                                                       "params": {"n": 21}}))
        done = tool_data(await alice.call_tool("plan_status", {"instance_id": "via-mcp",
                                                               "wait_seconds": 20}))
        assert (done["status"], done["output"]) == ("complete", 42)
        # the same instance over the HTTP API, with the same token
        with server.client("alice") as http:
            assert http.get("/v1/agents/alice/instances/via-mcp").json()["status"] == \
                "complete"
        hidden = tool_data(await bob.call_tool("plan_status", {"instance_id": "via-mcp"}))
        missing = tool_data(await bob.call_tool("plan_status", {"instance_id": "no-such"}))
        assert hidden["error"] == missing["error"] == "not_found"

    # an operator token acts for no agent; a wrong one is no token at all
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient() as http:
        for token in (server.tokens["operator"], "adt_wrong"):
            response = await http.post(url, json=request,
                                       headers={**headers, "Authorization": f"Bearer {token}"})
            assert response.status_code == 401, token
