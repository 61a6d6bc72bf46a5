"""The JSON API for evolving plans in flight and for schedules (the CLI's ``upgrade``,
``fork`` and ``schedule*`` commands over HTTP).

Verify and upgrade answer, per instance, ``compatible`` or the first divergence (the
recorded step, the requested one, the plan line). An upgrade that does not replay is
refused with ``upgrade_refused`` and changes nothing. Every route names the agent and goes
through the same scope check as the rest of ``/v1``: another agent's instance or schedule
answers exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from agents_durable.errors import UpgradeRefused, UsageError
from agents_durable.server._api import _body, _dump, _object, _scope, _status, _string
from agents_durable.server._context import api_handler
from agents_durable.server._http import ApiError, translate

__all__ = ["evolve_routes"]

#: The most instances one verify or bulk upgrade names.
MAX_IDS = 1000


def _version(body: dict[str, Any]) -> int | None:
    value = body.get("version")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ApiError("invalid_request", "version must be a positive integer")
    return value


def _known(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(body) - allowed
    if unknown:
        raise ApiError("invalid_request", f"unknown field(s) {sorted(unknown)}; use "
                       f"{', '.join(sorted(allowed))}")


def _ids(body: dict[str, Any]) -> list[str] | None:
    ids = body.get("ids")
    if ids is None:
        return None
    if (not isinstance(ids, list) or not 1 <= len(ids) <= MAX_IDS
            or not all(isinstance(i, str) and i for i in ids)):
        raise ApiError("invalid_request", f"'ids' must be a list of 1 to {MAX_IDS} "
                       "instance ids")
    return ids


def _failure(index: int, id: str, error: Exception) -> dict[str, Any]:
    api = translate(error)
    if api is None:
        raise error
    return {"index": index, "id": id, "ok": False,
            "error": {"code": api.code, "message": api.message}}


# -- one instance ----------------------------------------------------------------------------

@api_handler
async def verify_instance(request: Request) -> Response:
    scope = await _scope(request)
    body = _object(await _body(request, empty={}), "the body")
    _known(body, {"version"})
    instance = await scope.get(request.path_params["id"])
    (check,) = await scope.verify_upgrade([instance.id], to=_version(body))
    return JSONResponse(_dump(check))


@api_handler
async def upgrade_instance(request: Request) -> Response:
    scope = await _scope(request)
    body = _object(await _body(request, empty={}), "the body")
    _known(body, {"version"})
    instance = await scope.get(request.path_params["id"])
    check = await instance.upgrade(to=_version(body))
    return JSONResponse({"check": _dump(check), "instance": await _status(instance)})


@api_handler
async def fork_instance(request: Request) -> Response:
    scope = await _scope(request)
    body = _object(await _body(request, empty={}), "the body")
    _known(body, {"from_step", "occurrence", "version", "plan", "id"})
    step = _string(body, "from_step", required=False)
    occurrence = body.get("occurrence", 1)
    if not isinstance(occurrence, int) or isinstance(occurrence, bool) or occurrence < 1:
        raise ApiError("invalid_request", "occurrence must be a positive integer")
    if body.get("version") is not None and body.get("plan") is not None:
        raise ApiError("invalid_request", "give 'version' (of the instance's plan) or "
                       "'plan' (a name or hash), not both")
    target: int | str | None = _version(body)
    if target is None:
        target = _string(body, "plan", required=False)
    instance = await scope.get(request.path_params["id"])
    new = await instance.fork(None if step is None else (step, occurrence), plan=target,
                              id=_string(body, "id", required=False))
    return JSONResponse({"from": instance.id, **await _status(new)}, status_code=201)


# -- all or some instances of a plan ---------------------------------------------------------

async def _bulk(request: Request, *, move: bool) -> Response:
    scope = await _scope(request)
    body = _object(await _body(request, empty={}), "the body")
    _known(body, {"version", "ids"})
    target = await scope.get_plan(request.path_params["name"], version=_version(body))
    ids = _ids(body)
    if ids is None:
        ids = (await scope.active_ids(target.name))[:MAX_IDS]
    items: list[dict[str, Any]] = []
    for index, id in enumerate(ids):
        try:
            if move:
                check = await (await scope.get(id)).upgrade(to=target)
            else:
                (check,) = await scope.verify_upgrade([id], to=target)
        except UpgradeRefused as refused:
            check = refused.checks[0]
        except Exception as error:
            items.append(_failure(index, id, error))
            continue
        items.append({"index": index, "id": id, "ok": check.compatible,
                      "check": _dump(check)})
    compatible = sum(1 for item in items if item["ok"])
    return JSONResponse({"plan": target.name, "version": target.version,
                         "dry_run": not move,
                         ("upgraded" if move else "compatible"): compatible,
                         "refused": len(items) - compatible, "items": items})


@api_handler
async def verify_plan(request: Request) -> Response:
    return await _bulk(request, move=False)


@api_handler
async def upgrade_plan(request: Request) -> Response:
    return await _bulk(request, move=True)


# -- schedules -------------------------------------------------------------------------------

async def _schedule(scope: Any, name: str) -> Any:
    try:
        return await scope.get_schedule(name)
    except UsageError:
        raise ApiError("schedule_not_found", f"no schedule {name[:100]!r} for this "
                       "agent") from None


@api_handler
async def create_schedule(request: Request) -> Response:
    scope = await _scope(request)
    body = _object(await _body(request), "the body")
    _known(body, {"name", "plan", "cron", "timezone", "params", "overlap", "catch_up"})
    options = {key: _string(body, key) for key in ("timezone", "overlap", "catch_up")
               if key in body}
    made = await scope.schedule(_string(body, "name"), _string(body, "plan"),
                                cron=_string(body, "cron"), params=body.get("params"),
                                **options)
    return JSONResponse(_dump(made), status_code=201)


@api_handler
async def list_schedules(request: Request) -> Response:
    scope = await _scope(request)
    return JSONResponse({"items": [_dump(s) for s in await scope.schedules()]})


@api_handler
async def get_schedule(request: Request) -> Response:
    scope = await _scope(request)
    return JSONResponse(_dump(await _schedule(scope, request.path_params["name"])))


@api_handler
async def schedule_control(request: Request) -> Response:
    op = request.path_params["op"]
    if op not in ("pause", "resume"):
        raise ApiError("not_found", f"no route {request.url.path[:200]!r}")
    scope = await _scope(request)
    name = request.path_params["name"]
    await _schedule(scope, name)
    changed = await (scope.pause_schedule(name) if op == "pause"
                     else scope.resume_schedule(name))
    return JSONResponse(_dump(changed))


@api_handler
async def delete_schedule(request: Request) -> Response:
    scope = await _scope(request)
    name = request.path_params["name"]
    await _schedule(scope, name)
    await scope.delete_schedule(name)
    return Response(status_code=204)


def evolve_routes() -> list[BaseRoute]:
    """Routes to mount before the instance control route (``/{op}``) of ``_api``."""
    agent = "/v1/agents/{agent}"
    instance = agent + "/instances/{id}"
    schedule = agent + "/schedules/{name}"
    return [
        Route(agent + "/plans/{name}/verify-upgrade", verify_plan, methods=["POST"]),
        Route(agent + "/plans/{name}/upgrade", upgrade_plan, methods=["POST"]),
        Route(instance + "/verify-upgrade", verify_instance, methods=["POST"]),
        Route(instance + "/upgrade", upgrade_instance, methods=["POST"]),
        Route(instance + "/fork", fork_instance, methods=["POST"]),
        Route(agent + "/schedules", create_schedule, methods=["POST"]),
        Route(agent + "/schedules", list_schedules, methods=["GET"]),
        Route(schedule, get_schedule, methods=["GET"]),
        Route(schedule, delete_schedule, methods=["DELETE"]),
        Route(schedule + "/{op:str}", schedule_control, methods=["POST"]),
    ]
