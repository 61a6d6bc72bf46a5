"""What the MCP tests share: the server command line, and reading results as a client would."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mcp import StdioServerParameters
from mcp.types import CallToolResult, ReadResourceResult, TextContent, TextResourceContents

ROOT = Path(__file__).resolve().parents[2]
TOOLS = "tests.mcp.host_tools:register"


def server_command(db: Path, agent: str, *, worker: bool = False,
                   extra: tuple[str, ...] = ()) -> list[str]:
    """``agents-durable mcp`` for ``agent`` on ``db``, as an MCP client configuration holds it."""
    return [sys.executable, "-m", "agents_durable", "mcp", "--db", str(db), "--agent", agent,
            "--tools", TOOLS, *(["--worker"] if worker else []), *extra]


def stdio_server(db: Path, agent: str, *, worker: bool = False,
                 extra: tuple[str, ...] = ()) -> StdioServerParameters:
    command, *args = server_command(db, agent, worker=worker, extra=extra)
    return StdioServerParameters(command=command, args=args, cwd=str(ROOT))


def tool_data(result: CallToolResult) -> dict[str, Any]:
    """The result a model reads: the JSON text, checked equal to the structured content."""
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    data: dict[str, Any] = json.loads(block.text)
    assert data == result.structured_content
    assert result.is_error is (data["ok"] is False)
    return data


def resource_text(result: ReadResourceResult) -> str:
    assert len(result.contents) == 1
    block = result.contents[0]
    assert isinstance(block, TextResourceContents)
    return block.text
