"""The ``serve`` and ``token`` commands of ``agents-durable`` (called by ``cli.py``)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import socket
import sys
from collections.abc import Callable, Collection
from typing import Any

import anyio

__all__ = ["serve", "token"]


def _engine(args: argparse.Namespace, *, worker: bool) -> Any:
    import agents_durable as ad

    return ad.Engine.open(args.db, worker=worker)


async def serve(args: argparse.Namespace) -> int:
    """Serve the API and dashboard until SIGINT or SIGTERM."""
    import uvicorn

    from agents_durable.engine import RetentionPolicy
    from agents_durable.server import configure_json_logs, create_app

    configure_json_logs(logging.INFO if args.verbose else logging.WARNING)
    retention = None
    if args.keep_finished or args.keep_errored:
        retention = RetentionPolicy(finished=args.keep_finished, errored=args.keep_errored)
    import agents_durable as ad

    engine = ad.Engine.open(args.db, worker=args.worker, retention=retention)
    tools: list[str] = []
    if args.tools:
        from agents_durable._command_line import register_tools

        tools = register_tools(engine, args.tools)
        for agent in args.grant_agents or []:
            engine.agent(agent, tools=tools)
    # bound here so that --port 0 can report the port it got; IPPROTO_TCP (not 0) so that
    # asyncio sets TCP_NODELAY on accepted connections, and set on the listener too:
    # without it every response waits out the peer's delayed ACK (~40 ms)
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET,
                         socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)  # connections from the moment we announce the port wait in the backlog
    port = sock.getsockname()[1]
    granted = set(args.grant_agents or []) if args.tools else set()
    async with engine, contextlib.AsyncExitStack() as stack:
        mounts = {}
        mcp_app = _mcp_app(engine, lambda agent: tools if agent in granted else ())
        if mcp_app is not None:
            await stack.enter_async_context(mcp_app.lifespan())
            mounts["/mcp"] = mcp_app
        app = create_app(engine, tracing=args.otel, rate_limit=args.rate_limit,
                         rate_burst=args.rate_burst, max_body_bytes=args.max_body,
                         mounts=mounts)
        config = uvicorn.Config(app, log_config=None, access_log=args.verbose,
                                lifespan="off")
        server = uvicorn.Server(config)
        # our receiver is in place before the first line says we serve: a SIGTERM at any
        # moment from then on stops the server and closes the engine cleanly
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with anyio.create_task_group() as group:
                async def stop_on_signal() -> None:
                    async for _ in signals:
                        server.should_exit = True
                        return

                group.start_soon(stop_on_signal)
                mode = "with a worker" if args.worker else "as a client (run a worker too)"
                print(f"serving {args.db} {mode} on http://{args.host}:{port} "
                      f"(dashboard http://{args.host}:{port}/ui/); stop with Ctrl-C",
                      flush=True)
                await server.serve(sockets=[sock])
                group.cancel_scope.cancel()
    print("server stopped", flush=True)
    return 0


def _mcp_app(engine: Any, tools: Callable[[str], Collection[str]]) -> Any:
    """The MCP server over streamable HTTP for ``/mcp`` (None without the ``mcp`` extra).

    The bearer token decides the agent, exactly as for the API: an agent token reaches
    that agent's toolkit; an operator token acts for no agent and is refused (401).
    """
    try:
        from agents_durable.mcp import mcp_http_app
    except ImportError:
        return None
    from agents_durable.server import resolve_principal

    async def agent_of(token: str) -> str | None:
        principal = await resolve_principal(engine, token)
        return principal.agent_id if principal is not None else None

    return mcp_http_app(engine, agent_of, tools=tools)


async def token(args: argparse.Namespace) -> int:
    """``token create|list|revoke``."""
    from agents_durable.server import create_token, revoke_token

    async with _engine(args, worker=False) as engine:
        if args.token_command == "create":
            agent = None if args.operator else args.agent
            secret, record = await create_token(engine, agent_id=agent, label=args.label or "")
            if args.json:
                print(json.dumps({"token": secret, "id": record.id, "role": record.role,
                                  "agent_id": record.agent_id}))
            else:
                who = "operator" if agent is None else f"agent {agent!r}"
                print(secret)
                print(f"created token {record.id} for {who}; it is shown only now: keep it "
                      "secret", file=sys.stderr)
            return 0
        if args.token_command == "list":
            records = await engine.store.list_tokens()
            if args.json:
                print(json.dumps([{"id": r.id, "role": r.role, "agent_id": r.agent_id,
                                   "label": r.label, "created_at": r.created_at,
                                   "revoked": r.revoked_at is not None} for r in records]))
            for r in records if not args.json else []:
                state = "revoked" if r.revoked_at is not None else "valid"
                print(f"{r.id}  {r.role:8}  {r.agent_id or '*':20}  {state:7}  {r.label}")
            return 0
        if await revoke_token(engine, args.token_id):
            print(f"revoked {args.token_id}")
            return 0
        from agents_durable._command_line import CommandFailed

        raise CommandFailed(f"no valid token {args.token_id!r} (see: agents-durable token list)")


def add_commands(commands: Any, common: argparse.ArgumentParser,
                 tools: argparse.ArgumentParser) -> None:
    """Add ``serve`` and ``token`` to the CLI's subcommands."""
    serve_parser = commands.add_parser("serve", help="serve the HTTP API and dashboard",
                                       parents=[common, tools])
    serve_parser.add_argument("--host", default="127.0.0.1",
                              help="address to bind (default 127.0.0.1: this machine only)")
    serve_parser.add_argument("--port", type=int, default=8000,
                              help="port (default 8000; 0 picks a free one)")
    serve_parser.add_argument("--worker", action="store_true",
                              help="also run instances in this process")
    serve_parser.add_argument("--grant", dest="grant_agents", action="append", metavar="AGENT",
                              help="grant the --tools to this agent (repeatable)")
    serve_parser.add_argument("--keep-finished", metavar="DURATION",
                              help="with --worker: delete complete and terminated instances "
                                   "older than this (e.g. '30 days')")
    serve_parser.add_argument("--keep-errored", metavar="DURATION",
                              help="with --worker: delete errored instances older than this")
    serve_parser.add_argument("--rate-limit", type=float, default=50.0,
                              help="requests a second per token (default 50)")
    serve_parser.add_argument("--rate-burst", type=int, default=200,
                              help="requests a token may make at once (default 200)")
    serve_parser.add_argument("--max-body", type=int, default=2 * 1024 * 1024,
                              help="largest request body in bytes (default 2 MiB)")
    serve_parser.add_argument("--otel", action="store_true",
                              help="emit OpenTelemetry spans (the otel extra)")
    serve_parser.add_argument("--verbose", action="store_true", help="log requests and info")
    tokens = commands.add_parser("token", help="create, list or revoke API tokens of the "
                                 "HTTP server")
    sub = tokens.add_subparsers(dest="token_command", required=True, metavar="ACTION",
                                parser_class=type(commands._name_parser_map["serve"]))
    create = sub.add_parser("create", help="create a token for --agent (or --operator)",
                            parents=[common])
    create.add_argument("--operator", action="store_true",
                        help="a token that sees every agent (dashboard, metrics)")
    create.add_argument("--label", help="a note for token list")
    sub.add_parser("list", help="list tokens (never their secrets)", parents=[common])
    revoke = sub.add_parser("revoke", help="revoke a token by its id", parents=[common])
    revoke.add_argument("token_id", metavar="TOKEN_ID")
