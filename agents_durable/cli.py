"""The ``agents-durable`` command: check, submit, start and operate plans from a shell.

    agents-durable check PLAN.py                      validate a plan file
    agents-durable submit PLAN.py [--name N]          register it for an agent
    agents-durable start NAME [--params JSON] [--id ID]
    agents-durable status ID | history ID | list [--status S] [--plan P]
    agents-durable event ID TYPE [--payload JSON]
    agents-durable pause ID | resume ID | terminate ID | restart ID [--from-step NAME[:N]]
    agents-durable upgrade PLAN [--version N] [--id ID ...] [--dry-run]
    agents-durable fork ID [--from-step NAME[:N]] [--plan P] [--new-id NEW]
    agents-durable schedule NAME PLAN --cron EXPR [--timezone TZ] | schedules
    agents-durable schedule-pause|schedule-resume|schedule-delete NAME
    agents-durable worker [--tools SPEC] [--isolation process|inline]
                                                      run instances until SIGINT/SIGTERM
    agents-durable mcp [--tools SPEC] [--worker]      serve the agent's toolkit over MCP (stdio)
    agents-durable demo                               a plan end to end, on a fake clock

Common options (accepted after any command):

``--db PATH``
    The SQLite database (env ``AGENTS_DURABLE_DB``, default ``./agents_durable.db``), or a
    PostgreSQL URL ``postgresql://user@host/db`` that any number of ``worker`` processes
    share (``?schema=NAME`` to use one schema of it, ``&lease=SECONDS``).
``--agent A``
    The agent the plans and instances belong to (env ``AGENTS_DURABLE_AGENT``, default
    ``default``). Instance ids are scoped to their agent: another agent's id is "not found".
``--tools SPEC``
    Host tools, as ``module:function`` or ``path/to/file.py:function`` (env
    ``AGENTS_DURABLE_TOOLS``). The function receives ``engine.tools``, registers tools on
    it and returns the names to grant to the agent(s). ``submit`` needs it for plans that
    call tools (to check the grants); ``worker`` needs it to run them.
``--json``
    Print the result as one JSON document instead of text.

Every command but ``worker`` and ``demo`` opens the engine as a client
(``worker=False``), so it works while a ``worker`` process runs on the same database;
``mcp --worker`` also runs instances itself (only one worker per SQLite file).

``--params``/``--payload`` take inline JSON, ``@path`` (a file) or ``-`` (standard input).

Exit codes: 0 success; 1 the operation failed (plan rejected, unknown plan or instance,
instance not active, database locked, read-only, damaged or empty, ...); 2 usage error
(bad arguments, malformed JSON in ``--params``/``--payload``, an unloadable ``--tools`` or
one whose function raises); 141 the reader of the output closed it (``| head``), quietly.
Every failure prints one line starting with ``error:`` on stderr (a rejected plan prints
its diagnostics), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import anyio

from agents_durable._command_line import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PIPE,
    EXIT_USAGE,
    CommandFailed,
    register_tools,
)

if TYPE_CHECKING:
    import agents_durable as ad

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_PIPE", "EXIT_USAGE", "main"]

DEFAULT_DB = "agents_durable.db"
DEFAULT_AGENT = "default"
GALLERY_TOOLS = "plans/gallery_tools.py:register_gallery_tools"


# -- output ---------------------------------------------------------------------------------


def _emit(args: argparse.Namespace, text: str, data: Any) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print(text)


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json")


# -- arguments ------------------------------------------------------------------------------


#: How much JSON text ``@file`` or ``-`` may hold, as a multiple of the payload limit:
#: indented JSON is larger than the compact JSON the limit measures, but a file many times
#: the limit cannot fit and is refused before it is read into memory.
_READ_FACTOR = 16


def _json_option(text: str | None, option: str, limit: int) -> Any:
    """The JSON value of ``--params``/``--payload``: inline JSON, ``@file`` or ``-`` (stdin).

    ``limit`` is the engine's payload limit in bytes; the engine measures the value
    itself (as UTF-8 bytes of compact JSON), this only refuses text far beyond it.
    """
    if text is None:
        return None
    source = option
    if text == "-" or text.startswith("@"):
        source = f"{option} {text}"
        raw = _read_json_source(text, source, limit * _READ_FACTOR)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CommandFailed(f"{source} is not UTF-8 text", EXIT_USAGE) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandFailed(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno}", EXIT_USAGE) from None
    except RecursionError:
        raise CommandFailed(f"{source} is nested too deeply to be read as JSON",
                            EXIT_USAGE) from None


def _read_json_source(text: str, source: str, cap: int) -> bytes:
    """The bytes of ``-`` (stdin) or ``@path``, refusing more than ``cap`` bytes."""
    if text == "-":
        raw = sys.stdin.buffer.read(cap + 1)
    else:
        path = text[1:]
        if not path:
            raise CommandFailed(f"{source}: name a file after '@', as in @payload.json, or "
                                "use - to read standard input", EXIT_USAGE)
        try:
            with open(path, "rb") as file:
                raw = file.read(cap + 1)
        except OSError as exc:
            raise CommandFailed(f"{source}: cannot read {path!r}: {exc.strerror or exc}",
                                EXIT_USAGE) from None
    if len(raw) > cap:
        raise CommandFailed(f"{source} holds more than {cap:,} bytes; the engine's limit is "
                            f"{cap // _READ_FACTOR:,} bytes of JSON", EXIT_USAGE)
    return raw


def _from_step(text: str | None) -> tuple[str, int] | None:
    if text is None:
        return None
    name, sep, occurrence = text.rpartition(":")
    if sep and occurrence.isdigit() and name:
        return name, int(occurrence)
    return text, 1


# -- commands -------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    from agents_durable import validate_plan
    from agents_durable.display import diagnostics_text

    source = _read_plan(args.plan)
    diagnostics = validate_plan(source)
    ok = not any(d.severity == "error" for d in diagnostics)
    text = diagnostics_text(diagnostics, args.plan)
    _emit(args, "\n".join(filter(None, [text, f"{args.plan}: ok" if ok else ""])),
          {"ok": ok, "diagnostics": [d.model_dump() for d in diagnostics]})
    return EXIT_OK if ok else EXIT_FAILED


def _read_plan(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandFailed(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CommandFailed(f"cannot read {path}: it is not UTF-8 text") from None


async def _submit(args: argparse.Namespace, engine: ad.Engine) -> int:
    from agents_durable.display import plan_version_text

    source = _read_plan(args.plan)
    tools = register_tools(engine, args.tools)
    agent = engine.agent(args.agent, tools=tools)
    version = await agent.register_plan(args.name or Path(args.plan).stem, source)
    _emit(args, plan_version_text(version), _dump(version))
    return EXIT_OK


async def _start(args: argparse.Namespace, engine: ad.Engine) -> int:
    params = _json_option(args.params, "--params", engine.limits.max_payload_bytes)
    agent = engine.agent(args.agent)
    instance = await agent.create(args.plan, params, id=args.id)
    status = await instance.status()
    _emit(args, f"started instance {instance.id} of plan {status.plan!r} v{status.version} "
                f"(agent {args.agent!r})",
          {"id": instance.id, "agent": args.agent, "plan": status.plan,
           "version": status.version, "status": status.status})
    return EXIT_OK


async def _status(args: argparse.Namespace, engine: ad.Engine) -> int:
    from agents_durable.display import instance_status_text

    status = await (await engine.agent(args.agent).get(args.id)).status()
    _emit(args, instance_status_text(status), _dump(status))
    return EXIT_OK


async def _history(args: argparse.Namespace, engine: ad.Engine) -> int:
    from agents_durable.display import history_text

    history = await (await engine.agent(args.agent).get(args.id)).history()
    _emit(args, history_text(history), _dump(history))
    return EXIT_OK


async def _list(args: argparse.Namespace, engine: ad.Engine) -> int:
    from agents_durable.display import safe_text
    from agents_durable.display._formatting import format_time

    page = await engine.agent(args.agent).list(args.status, args.plan, limit=args.limit,
                                               cursor=args.cursor)
    lines = [f"{'ID':<24} {'STATUS':<18} {'PLAN':<28} UPDATED"]
    lines += [f"{item.id:<24} {_listed_status(item):<18} "
              f"{f'{item.plan} v{item.version}':<28} {format_time(item.updated)}"
              for item in page.items]
    lines += [f"{item.id}: corrupt record: {item.corrupt}" for item in page.items
              if item.corrupt]
    if not page.items:
        lines = [f"no instances for agent {args.agent!r}"]
    if page.next_cursor:
        lines.append(f"(more: --cursor {page.next_cursor})")
    _emit(args, safe_text("\n".join(lines)), _dump(page))
    return EXIT_OK


def _listed_status(item: ad.InstanceStatus) -> str:
    return f"{item.status} (corrupt)" if item.corrupt else item.status


async def _event(args: argparse.Namespace, engine: ad.Engine) -> int:
    payload = _json_option(args.payload, "--payload", engine.limits.max_payload_bytes)
    instance = await engine.agent(args.agent).get(args.id)
    await instance.send_event(args.type, payload)
    _emit(args, f"sent event {args.type!r} to {args.id}",
          {"ok": True, "id": args.id, "type": args.type})
    return EXIT_OK


async def _control(args: argparse.Namespace, engine: ad.Engine) -> int:
    instance = await engine.agent(args.agent).get(args.id)
    if args.command == "restart":
        from_step = _from_step(args.from_step)
        await instance.restart(from_step)
        where = f" from step {from_step[0]!r} #{from_step[1]}" if from_step else ""
        message = f"restarting {args.id}{where}"
    else:
        await getattr(instance, args.command)()
        past = {"pause": "pause requested for", "resume": "resumed",
                "terminate": "terminated"}[args.command]
        message = f"{past} {args.id}"
    status = await instance.status()
    _emit(args, f"{message} (now {status.status})",
          {"ok": True, "id": args.id, "status": status.status})
    return EXIT_OK


async def _delete(args: argparse.Namespace, engine: ad.Engine) -> int:
    instance = await engine.agent(args.agent).get(args.id)
    await instance.delete()
    _emit(args, f"deleted {args.id}", {"ok": True, "id": args.id})
    return EXIT_OK


async def _purge(args: argparse.Namespace, engine: ad.Engine) -> int:
    from agents_durable.engine import parse_duration
    from agents_durable.store import TERMINAL_STATUSES

    age = parse_duration(args.older_than, what="--older-than")
    statuses = [s.strip() for s in args.status.split(",") if s.strip()]
    unknown = sorted(set(statuses) - TERMINAL_STATUSES)
    if unknown or not statuses:
        allowed = ", ".join(sorted(TERMINAL_STATUSES))
        raise CommandFailed(f"--status takes finished statuses ({allowed}), not "
                            f"{', '.join(unknown) or 'nothing'}", EXIT_USAGE)
    cutoff = engine.clock.now() - age
    deleted = 0
    while True:  # small batches: each one short transaction
        gone = await engine.store.purge_instances({s: cutoff for s in statuses},
                                                  agent_id=args.only_agent, limit=500)
        deleted += len(gone)
        if len(gone) < 500:
            break
    _emit(args, f"deleted {deleted} instance(s) finished more than {args.older_than} ago",
          {"ok": True, "deleted": deleted})
    return EXIT_OK


async def _evolve(args: argparse.Namespace, engine: ad.Engine) -> int:
    from agents_durable import _cli_evolve

    if args.command == "upgrade":
        return await _cli_evolve.upgrade(args, engine, _emit)
    if args.command.startswith("schedule"):
        params = (_json_option(args.params, "--params", engine.limits.max_payload_bytes)
                  if args.command == "schedule" else None)
        return await _cli_evolve.schedules(args, engine, _emit, params)
    return await _cli_evolve.fork(args, engine, _emit, _from_step(args.from_step))


async def _worker(args: argparse.Namespace) -> int:
    import agents_durable as ad

    agents = args.grant_agents or [args.agent]
    engine = ad.Engine.open(args.db, worker=True, concurrency=args.concurrency,
                            poll_interval=args.poll, grace_period=args.grace,
                            isolation=args.isolation)
    # Tools and grants first: the scheduler claims work as soon as the engine is entered,
    # and an unloadable --tools must fail before the database is opened as a worker.
    tools = register_tools(engine, args.tools)
    for agent in agents:
        engine.agent(agent, tools=tools)
    async with engine:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            print(f"worker running on {_shown(args.db)} (agents: {', '.join(agents)}; tools: "
                  f"{', '.join(tools) or 'none'}); stop with Ctrl-C or SIGTERM", flush=True)
            async for received in signals:
                print(f"received {signal.Signals(received).name}: finishing running steps "
                      f"(up to {args.grace:g} s) and shutting down", flush=True)
                break
    report = engine.shutdown_report
    print(f"worker stopped: {len(report.get('finished', []))} activation(s) finished their "
          f"steps, {len(report.get('handed_back', []))} handed back to run again",
          flush=True)
    return EXIT_OK


async def _mcp(args: argparse.Namespace) -> int:
    """Serve ``--agent``'s toolkit over MCP on stdin/stdout until the client closes it."""
    import agents_durable as ad

    try:
        from agents_durable.agents import PlanToolkit
        from agents_durable.mcp import serve_stdio
    except ImportError as exc:
        raise CommandFailed(str(exc), EXIT_USAGE) from None
    if args.max_result_chars < 1000:
        raise CommandFailed("--max-result-chars must be at least 1000", EXIT_USAGE)
    engine = ad.Engine.open(args.db, worker=args.worker)
    tools = register_tools(engine, args.tools)  # before opening: a bad --tools fails first
    async with engine, anyio.create_task_group() as group:
        toolkit = PlanToolkit(engine, args.agent, tools=tools)

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    group.cancel_scope.cancel()

        group.start_soon(stop_on_signal)
        await serve_stdio(toolkit, max_result_chars=args.max_result_chars)
        group.cancel_scope.cancel()
    return EXIT_OK


# -- demo -----------------------------------------------------------------------------------

def _get_order(order_id: int) -> dict[str, Any]:
    """Look up an order by id."""
    return {"id": order_id, "item": "espresso machine", "customer": "ada@example.com"}


def _open_ticket(order_id: int, reason: str) -> dict[str, Any]:
    """Open a support ticket about an order."""
    return {"ticket": f"T-{order_id}", "reason": reason}


def _builtin_tools(registry: Any) -> list[str]:
    registry.register("orders.get", _get_order)
    registry.register("tickets.open", _open_ticket)
    return ["orders.get", "tickets.open"]


def _demo_setup(spec: str | None) -> tuple[str | None, str]:
    """The tools spec and plan source the demo uses.

    The plan is the gallery's ``order_followup.py`` as the package ships it (a test keeps
    the shipped copy identical); the tools are the gallery's when run from the repository.
    """
    from agents_durable.agents import example_plan_source

    if spec is None and Path(GALLERY_TOOLS.partition(":")[0]).is_file():
        spec = GALLERY_TOOLS
    return spec, example_plan_source("order_followup")


async def _demo(args: argparse.Namespace) -> int:
    import agents_durable as ad
    from agents_durable.testing import FakeClock

    spec, source = _demo_setup(args.tools)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db_demo or str(Path(tmp) / "demo.db")
        clock = FakeClock()
        print(f"agents-durable demo: engine on SQLite at {path} (a fake clock fast-forwards "
              "the days)")
        async with ad.Engine.open(path, clock=clock) as engine:
            tools = register_tools(engine, spec) if spec else _builtin_tools(engine.tools)
            print(f"tools: {', '.join(tools)}" + (f" (from {spec})" if spec else ""))
            agent = engine.agent("support-bot", tools=tools)
            version = await agent.register_plan("order-followup", source)
            print(f"registered plan {version.name!r} v{version.version} "
                  f"(hash {version.hash[:12]}): {version.description.splitlines()[0]}")
            for entry in version.outline:
                print(f"  outline: line {entry.line:>2}  step.{entry.kind}({entry.label!r})")
            instance = await agent.create("order-followup", {"order_id": 7},
                                          id=f"order-7-{clock.now():.0f}")
            await clock.settle()
            await _progress(instance, "created")
            await clock.advance("1 day")
            await _progress(instance, "one day later")
            await clock.advance("1 day")
            await _progress(instance, "two days later")
            await instance.send_event("delivery-confirmed", {"note": "left at the door"})
            final = await instance.wait(timeout=30)
            await _progress(instance, "event sent")
            print(f"instance {instance.id}: {final.status}, output {final.output}")
            return EXIT_OK if final.status == "complete" else EXIT_FAILED


async def _progress(instance: Any, moment: str) -> None:
    status = await instance.status()
    steps = ", ".join(f"{s.name} [{s.state}]" for s in status.steps) or "no steps yet"
    print(f"  {moment:<15} status={status.status:<9} steps: {steps}", flush=True)


# -- parser and dispatch ----------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=os.environ.get("AGENTS_DURABLE_DB", DEFAULT_DB),
                        help="SQLite database file, or postgresql://user@host/db for "
                             "many workers (env AGENTS_DURABLE_DB; default "
                             f"./{DEFAULT_DB})")
    common.add_argument("--agent", default=os.environ.get("AGENTS_DURABLE_AGENT",
                                                          DEFAULT_AGENT),
                        help="agent id (env AGENTS_DURABLE_AGENT; default "
                             f"{DEFAULT_AGENT!r})")
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    tools = argparse.ArgumentParser(add_help=False)
    tools.add_argument("--tools", default=os.environ.get("AGENTS_DURABLE_TOOLS"),
                       help="module:function or file.py:function registering host tools "
                            "(env AGENTS_DURABLE_TOOLS)")

    parser = _Parser(prog="agents-durable", description="Durable plans written by AI agents.",
                     epilog="Exit codes: 0 ok, 1 failed/rejected/not found, 2 usage error.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)

    def add(name: str, help: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, parents=[common, *parents])

    check = add("check", "validate a plan file (exit 1 with diagnostics)")
    check.add_argument("plan", help="path to the plan's .py file")
    submit = add("submit", "validate and register a plan file for an agent", tools)
    submit.add_argument("plan", help="path to the plan's .py file")
    submit.add_argument("--name", help="plan name (default: the file name without .py)")
    start = add("start", "start an instance of a registered plan")
    start.add_argument("plan", metavar="NAME", help="plan name (latest version) or hash")
    start.add_argument("--params", help="params as JSON, @FILE or - for stdin (default {})")
    start.add_argument("--id", help="instance id (default: random)")
    for name, help in (("status", "show an instance's status"),
                       ("history", "show an instance's journal: steps, events, prints")):
        add(name, help).add_argument("id", metavar="ID")
    listing = add("list", "list the agent's instances, newest first")
    listing.add_argument("--status", help="only instances with this status")
    listing.add_argument("--plan", help="only instances of this plan")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--cursor", help="next page, as printed by the previous page")
    event = add("event", "send an event to an instance")
    event.add_argument("id", metavar="ID")
    event.add_argument("type", metavar="TYPE")
    event.add_argument("--payload", help="payload as JSON, @FILE or - for stdin (default null)")
    for name, help in (("pause", "pause an instance after its running step"),
                       ("resume", "resume a paused instance"),
                       ("terminate", "stop an instance for good")):
        add(name, help).add_argument("id", metavar="ID")
    restart = add("restart", "run an instance again from the top or from a step")
    restart.add_argument("id", metavar="ID")
    restart.add_argument("--from-step", metavar="NAME[:N]",
                         help="keep results before occurrence N (default 1) of step NAME")
    from agents_durable import _cli_evolve

    _cli_evolve.add_commands(add)
    _cli_evolve.add_schedule_commands(add)
    worker = add("worker", "run instances until SIGINT or SIGTERM", tools)
    worker.add_argument("--grant", dest="grant_agents", action="append", metavar="AGENT",
                        help="grant the tools to this agent (repeatable; default: --agent)")
    worker.add_argument("--concurrency", type=int, default=64)
    worker.add_argument("--grace", type=float, default=30.0,
                        help="seconds running steps get to finish on shutdown (default 30)")
    worker.add_argument("--poll", type=float, default=1.0,
                        help="seconds between polls for work from other processes")
    worker.add_argument("--isolation", choices=("process", "inline"), default="process",
                        help="run plan code in confined runner processes (default) or in "
                             "the worker process itself")
    mcp = add("mcp", "serve the agent's plan toolkit to an MCP client over stdin/stdout",
              tools)
    mcp.add_argument("--worker", action="store_true",
                     help="also run instances in this process (one worker per database)")
    mcp.add_argument("--max-result-chars", type=int, default=20_000, metavar="N",
                     help="cut tool results and resources to about N characters of JSON, "
                          "saying what was cut (default 20000)")
    delete = add("delete", "delete a finished instance and its journal for good")
    delete.add_argument("id", metavar="ID")
    purge = add("purge", "delete finished instances of every agent older than a duration")
    purge.add_argument("--older-than", required=True, metavar="DURATION",
                       help="e.g. '30 days': last updated longer ago than this")
    purge.add_argument("--status", default="complete,errored,terminated",
                       help="comma-separated finished statuses (default: all three)")
    purge.add_argument("--only-agent", metavar="AGENT", help="only this agent's instances")
    from agents_durable.server._commands import add_commands

    add_commands(commands, common, tools)
    demo = commands.add_parser("demo", help="run a plan end to end on a fake clock",
                               parents=[tools])
    demo.add_argument("--db", dest="db_demo", help="database file (default: a temporary one)")
    demo.set_defaults(json=False)
    return parser


_CLIENT_COMMANDS: dict[str, Callable[[argparse.Namespace, Any], Awaitable[int]]] = {
    "submit": _submit, "start": _start, "status": _status, "history": _history,
    "list": _list, "event": _event, "pause": _control, "resume": _control,
    "terminate": _control, "restart": _control, "delete": _delete, "purge": _purge,
    "upgrade": _evolve,
    "fork": _evolve, "schedule": _evolve, "schedules": _evolve, "schedule-pause": _evolve,
    "schedule-resume": _evolve, "schedule-delete": _evolve,
}



async def _client(args: argparse.Namespace) -> int:
    import agents_durable as ad

    if args.command not in ("submit",) and not _is_url(args.db) and \
            not os.path.exists(args.db):  # noqa: ASYNC240
        raise CommandFailed(f"no database at {args.db}: submit a plan first, or pass --db "
                            "(or set AGENTS_DURABLE_DB)")
    async with ad.Engine.open(args.db, worker=False) as engine:
        return await _CLIENT_COMMANDS[args.command](args, engine)


def _is_url(db: str) -> bool:
    return db.startswith(("postgres://", "postgresql://"))


def _shown(db: str) -> str:
    """The database as a log line may show it: a URL without its password."""
    if not _is_url(db):
        return db
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(db)
    if parts.password is None:
        return db
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _run(args: argparse.Namespace) -> int:
    if args.command == "check":
        return _check(args)
    if args.command == "worker":
        return anyio.run(_worker, args)
    if args.command == "demo":
        return anyio.run(_demo, args)
    if args.command == "mcp":
        return anyio.run(_mcp, args)
    if args.command in ("serve", "token"):
        try:
            from agents_durable.server import _commands
        except ImportError as exc:
            raise CommandFailed(f"'{args.command}' needs the server extra ({exc.name} is "
                                "missing): pip install 'agents-durable[server]'") from None
        return anyio.run(getattr(_commands, args.command), args)
    return anyio.run(_client, args)


def _report(error: BaseException) -> int:
    from agents_durable.errors import (
        InvalidDuration,
        InvalidInstanceId,
        PlanRejected,
        UsageError,
    )

    if isinstance(error, PlanRejected):
        from agents_durable.display import diagnostics_text

        print(f"error: plan rejected with {len(error.diagnostics)} diagnostic(s):",
              file=sys.stderr)
        print(diagnostics_text(error.diagnostics), file=sys.stderr)
        return EXIT_FAILED
    code = EXIT_FAILED
    if isinstance(error, CommandFailed):
        code = error.code
        message = str(error)
    else:
        message = f"{type(error).__name__}: {error}"
        if type(error) in (UsageError, InvalidDuration, InvalidInstanceId):
            code = EXIT_USAGE
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _database_error(error: sqlite3.Error, db: str) -> str:
    """One sentence for a SQLite failure the store did not translate."""
    code = getattr(error, "sqlite_errorcode", None)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(error):
        return (f"the database {db} is locked by another process ({error}); try again when "
                "it is free")
    directory = os.path.dirname(os.path.abspath(db))
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN) or "readonly" in str(error):
        if code == sqlite3.SQLITE_READONLY or not os.access(directory, os.W_OK) or (
                os.path.exists(db) and not os.access(db, os.W_OK)):
            return (f"the database {db} is read-only ({error}): agents_durable writes to the "
                    "file and, for its write-ahead log, to its directory, even to read; "
                    "check their permissions and the file system")
        return (f"cannot open the database {db} ({error}); check that the path and its "
                "directory exist and are accessible")
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return (f"{db} is not a readable agents_durable database ({error}); restore it from "
                "a backup or pass another --db")
    return f"the database {db} failed: {type(error).__name__}: {error}"


def _silence_stdout() -> None:
    """The reader of our output went away (``| head``): drop whatever is still buffered,
    so that neither this process nor the interpreter's exit reports a broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout already closed or not a real file
        pass


def _say(message: str) -> None:
    with contextlib.suppress(OSError):  # stderr is gone too: nothing left to tell
        print(f"error: {' '.join(message.split())}", file=sys.stderr)


def _fail(error: BaseException, db: str) -> int:
    """The exit code for ``error``, after printing it as one line (never a traceback)."""
    from agents_durable.errors import AgentsDurableError, StoreUnavailable

    # The engine wraps what the database raised in StoreUnavailable: say what it was.
    leaves = [leaf.__cause__ if isinstance(leaf, StoreUnavailable)
              and isinstance(leaf.__cause__, (sqlite3.Error, OSError)) else leaf
              for leaf in _leaves(error)]
    for kinds in ((BrokenPipeError,), (KeyboardInterrupt,), (CommandFailed, AgentsDurableError),
                  (sqlite3.Error,), (OSError,)):
        chosen = next((leaf for leaf in leaves if isinstance(leaf, kinds)), None)
        if chosen is not None:
            break
    else:
        chosen = leaves[0]
    if isinstance(chosen, BrokenPipeError):
        _silence_stdout()
        return EXIT_PIPE
    if isinstance(chosen, KeyboardInterrupt):
        _say("interrupted")
        return 130
    if isinstance(chosen, (CommandFailed, AgentsDurableError)):
        return _report(chosen)
    if isinstance(chosen, sqlite3.Error):
        _say(_database_error(chosen, db))
        return EXIT_FAILED
    if isinstance(chosen, OSError):  # the database path is a directory, unwritable, ...
        if chosen.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            _say(f"the database {db} is read-only ({chosen.strerror}: {chosen.filename}): "
                 "agents_durable writes to the file and, for its lock and write-ahead log, "
                 "to its directory; check their permissions and the file system")
        else:
            _say(f"{chosen.strerror or chosen} ({chosen.filename or db})")
        return EXIT_FAILED
    if isinstance(chosen, SystemExit):  # a --tools module called sys.exit()
        _say(f"exited with {chosen.code!r}")
        return chosen.code if isinstance(chosen.code, int) else EXIT_FAILED
    _say(f"unexpected {type(chosen).__name__}: {chosen} (this is a bug; please report it "
         "with the command that caused it)")
    return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except BaseException as error:  # every failure becomes one line and an exit code
        return _fail(error, getattr(args, "db", None) or getattr(args, "db_demo", "") or "")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
