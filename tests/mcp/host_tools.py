"""Host tools for the MCP server subprocesses: ``--tools tests.mcp.host_tools:register``."""

from __future__ import annotations

from typing import Any

from tests.agents import scenario


def register(registry: Any) -> list[str]:
    """Register the scenario's tool and grant it."""
    registry.register(scenario.TOOL_NAME, scenario.compose_greeting)
    return [scenario.TOOL_NAME]
