"""The dashboard: server-rendered pages under ``/ui`` built on ``agents_durable.display``.

Pages: agents; one agent's plans and instances (status filter, search by id); a plan with
source, outline and versions; an instance with the timeline, steps, events, prints and
the audit trail, refreshed while it runs; buttons for pause, resume, terminate, restart
(from a step) and delete, and a form to send an event.

Sign-in pastes a token once; it is kept in an ``HttpOnly``, ``SameSite=Strict`` cookie and
resolved like a bearer token (``resolve_principal``), so the dashboard shows exactly what
the API would. Every form POST carries a CSRF token (an HMAC of the session's token id);
destructive buttons ask for confirmation. Templates autoescape everything, and the
Content-Security-Policy allows no inline script: untrusted text stays text.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from agents_durable.display import render_history, render_plan_version
from agents_durable.server._auth import Principal, resolve_principal
from agents_durable.server._context import (
    SESSION_COOKIE,
    authenticate,
    scope_for,
    settings_of,
)
from agents_durable.server._http import ApiError, read_body, translate

__all__ = ["dashboard_routes"]

_STATUSES = ("queued", "running", "waiting", "waiting_for_pause", "paused", "complete",
             "errored", "terminated")
_FINISHED = ("complete", "errored", "terminated")


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("agents_durable.server", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["q"] = lambda value: quote(str(value), safe="")
    return env


def _page(request: Request, template: str, status_code: int = 200, **values: Any) -> Response:
    principal: Principal | None = getattr(request.state, "principal", None)
    html = _environment().get_template(template).render(
        principal=principal, csrf=_csrf(request, principal) if principal else "", **values)
    return HTMLResponse(html, status_code=status_code)


def _csrf(request: Request, principal: Principal) -> str:
    secret = settings_of(request).csrf_secret
    return hmac.new(secret, principal.token_id.encode(), hashlib.sha256).hexdigest()


Page = Callable[[Request], Awaitable[Response]]


def _dashboard(fn: Page) -> Page:
    """Sign-in check (to the login page), errors as a page."""

    @functools.wraps(fn)
    async def handle(request: Request) -> Response:
        try:
            await authenticate(request, cookie=True)
            return await fn(request)
        except Exception as error:
            api = translate(error)
            if api is None:
                raise
            if api.code == "unauthorized":
                return RedirectResponse("/ui/login", status_code=303)
            return _page(request, "error.html.j2", api.status, error=api)

    return handle


async def _form(request: Request) -> dict[str, str]:
    """A posted form, after its CSRF token is checked."""
    from urllib.parse import parse_qsl

    body = await read_body(request, settings_of(request).max_body_bytes)
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    principal: Principal = request.state.principal
    if not hmac.compare_digest(form.get("csrf", ""), _csrf(request, principal)):
        raise ApiError("csrf_failed", "the form is stale or was not sent by this dashboard; "
                       "reload the page and try again")
    return form


# -- sign-in ---------------------------------------------------------------------------------

async def login(request: Request) -> Response:
    if request.method == "GET":
        return _page(request, "login.html.j2", message=None)
    body = await read_body(request, 4096)
    from urllib.parse import parse_qsl

    token = dict(parse_qsl(body.decode("utf-8", "replace"))).get("token", "").strip()
    principal = await resolve_principal(settings_of(request).engine, token)
    if principal is None:
        return _page(request, "login.html.j2", 401, message="That token is unknown or revoked.")
    response = RedirectResponse("/ui/", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- pages -------------------------------------------------------------------------------------

@_dashboard
async def agents(request: Request) -> Response:
    principal: Principal = request.state.principal
    engine = settings_of(request).engine
    if not principal.operator:
        return RedirectResponse(f"/ui/agents/{quote(principal.agent_id or '', safe='')}",
                                status_code=303)
    counts: dict[str, dict[str, int]] = {}
    for agent in await engine.store.list_agents():
        counts[agent] = {}
    for agent, status, count in await engine.store.count_instances():
        counts.setdefault(agent, {})[status] = count
    return _page(request, "agents.html.j2", counts=counts, statuses=_STATUSES)


@_dashboard
async def agent(request: Request) -> Response:
    agent_id = request.path_params["agent"]
    scope = scope_for(request, request.state.principal, agent_id)
    query = request.query_params
    search = (query.get("id") or "").strip()
    if search:
        try:
            await scope.get(search)
        except Exception as error:
            if translate(error) is None:
                raise
        else:
            return RedirectResponse(f"/ui/agents/{quote(agent_id, safe='')}/instances/"
                                    f"{quote(search, safe='')}", status_code=303)
    status = query.get("status") or None
    page = await scope.list(status if status in _STATUSES else None,
                            cursor=query.get("cursor") or None, limit=50)
    plans: dict[str, Any] = {}
    for version in await scope.list_plans():
        plans[version.name] = version  # ascending: the last one is the latest
    more = None
    if page.next_cursor:
        more = "?" + urlencode({k: v for k, v in (("status", status or ""),
                                                  ("cursor", page.next_cursor)) if v})
    return _page(request, "agent.html.j2", agent=agent_id, plans=list(plans.values()),
                 instances=page.items, status=status, statuses=_STATUSES, more=more,
                 searched=search)


@_dashboard
async def plan(request: Request) -> Response:
    agent_id = request.path_params["agent"]
    scope = scope_for(request, request.state.principal, agent_id)
    raw = request.query_params.get("version")
    name = request.path_params["name"]
    version = await scope.get_plan(name, version=int(raw) if raw and raw.isdigit() else None)
    versions = await scope.list_plans(name)
    return _page(request, "plan.html.j2", agent=agent_id, plan=version, versions=versions,
                 view=Markup(render_plan_version(version)))


async def _instance_view(request: Request) -> tuple[str, Any, Any]:
    agent_id = request.path_params["agent"]
    scope = scope_for(request, request.state.principal, agent_id)
    instance = await scope.get(request.path_params["id"])
    return agent_id, instance, await instance.history()


@_dashboard
async def instance(request: Request) -> Response:
    agent_id, handle, history = await _instance_view(request)
    return _page(request, "instance.html.j2", agent=agent_id, id=handle.id, history=history,
                 view=Markup(render_history(history)), finished=history.status.finished,
                 steps=sorted({(s.name, s.occurrence) for s in history.steps}),
                 message=request.query_params.get("done"))


@_dashboard
async def live(request: Request) -> Response:
    """The instance view alone, for the page's refresh while it runs."""
    _, _, history = await _instance_view(request)
    return HTMLResponse(render_history(history),
                        headers={"X-Instance-Status": history.status.status,
                                 "Cache-Control": "no-store"})


@_dashboard
async def act(request: Request) -> Response:
    """A button or the event form: POST with CSRF, then back to the instance page."""
    form = await _form(request)
    agent_id, handle, _ = await _instance_view(request)
    op = request.path_params["op"]
    base = f"/ui/agents/{quote(agent_id, safe='')}"
    page = f"{base}/instances/{quote(handle.id, safe='')}"
    if op == "event":
        kind = form.get("type", "").strip()
        text = form.get("payload", "").strip()
        try:
            payload = json.loads(text) if text else None
        except ValueError as exc:
            raise ApiError("invalid_json", f"the payload is not valid JSON: {exc}") from None
        await handle.send_event(kind, payload)
        done = f"sent event {kind}"
    elif op == "restart":
        step = form.get("from_step", "")
        if step:
            name, _, occurrence = step.rpartition("#")
            await handle.restart((name, int(occurrence) if occurrence.isdigit() else 1))
        else:
            await handle.restart()
        done = "restart requested"
    elif op == "delete":
        await handle.delete()
        return RedirectResponse(base, status_code=303)
    elif op in ("pause", "resume", "terminate"):
        await getattr(handle, op)()
        done = f"{op} requested"
    else:
        raise ApiError("not_found", "no such action")
    return RedirectResponse(f"{page}?{urlencode({'done': done})}", status_code=303)


def dashboard_routes() -> list[BaseRoute]:
    from pathlib import Path

    instance_path = "/ui/agents/{agent}/instances/{id}"
    return [
        Route("/ui/login", login, methods=["GET", "POST"]),
        Route("/ui/logout", logout, methods=["POST"]),
        Route("/ui/", agents, methods=["GET"]),
        Route("/ui/agents/{agent}", agent, methods=["GET"]),
        Route("/ui/agents/{agent}/plans/{name}", plan, methods=["GET"]),
        Route(instance_path, instance, methods=["GET"]),
        Route(instance_path + "/live", live, methods=["GET"]),
        Route(instance_path + "/{op:str}", act, methods=["POST"]),
        Mount("/ui/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="static"),
    ]
