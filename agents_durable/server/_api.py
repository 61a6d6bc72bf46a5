"""The JSON API under ``/v1``: plans, instances, events, control, retention.

Every route but ``/v1/openapi.json`` needs a bearer token. Routes name the agent
(``/v1/agents/{agent}/...``): an agent token may use only its own agent, an operator
token any. Results are the library's models as JSON (``model_dump(mode="json")``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from agents_durable.server._context import api_handler, authenticate, scope_for, settings_of
from agents_durable.server._http import ApiError, json_body
from agents_durable.server._openapi import openapi_document
from agents_durable.server._stream import stream_instance

__all__ = ["api_routes"]


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json")


def _plan(version: Any, *, source: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = _dump(version)
    if not source:
        data.pop("source", None)
    return data


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError("invalid_request", f"{what} must be a JSON object")
    return body


def _string(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ApiError("invalid_request", f"{key!r} must be a non-empty string")
    return value


async def _scope(request: Request) -> Any:
    principal = await authenticate(request)
    return scope_for(request, principal, request.path_params["agent"])


async def _body(request: Request, *, empty: Any = ...) -> Any:
    return await json_body(request, settings_of(request).max_body_bytes, empty=empty)


# -- who, agents ---------------------------------------------------------------------------

@api_handler
async def whoami(request: Request) -> Response:
    principal = await authenticate(request)
    return JSONResponse({"token_id": principal.token_id, "role": principal.role,
                         "agent_id": principal.agent_id, "label": principal.label})


@api_handler
async def list_agents(request: Request) -> Response:
    principal = await authenticate(request)
    engine = settings_of(request).engine
    if principal.operator:
        agents = await engine.store.list_agents()
    else:
        agents = [principal.agent_id]
    return JSONResponse({"items": [{"id": agent} for agent in agents]})


# -- plans ---------------------------------------------------------------------------------

@api_handler
async def validate_plan(request: Request) -> Response:
    scope = await _scope(request)
    source = _string(_object(await _body(request), "the body"), "source")
    diagnostics = scope.validate_plan(source)
    return JSONResponse({"ok": not any(d.severity == "error" for d in diagnostics),
                         "diagnostics": [_dump(d) for d in diagnostics]})


@api_handler
async def register_plan(request: Request) -> Response:
    scope = await _scope(request)
    body = _object(await _body(request), "the body")
    version = await scope.register_plan(_string(body, "name"), _string(body, "source"))
    return JSONResponse(_plan(version), status_code=201)


@api_handler
async def list_plans(request: Request) -> Response:
    scope = await _scope(request)
    versions = await scope.list_plans(request.query_params.get("name"))
    return JSONResponse({"items": [_plan(v, source=False) for v in versions]})


@api_handler
async def get_plan(request: Request) -> Response:
    scope = await _scope(request)
    raw = request.query_params.get("version")
    if raw is not None and not raw.isdigit():
        raise ApiError("invalid_request", "version must be a positive integer")
    name = request.path_params["name"]
    version = await scope.get_plan(name, version=int(raw) if raw else None)
    versions = await scope.list_plans(name)
    return JSONResponse({**_plan(version),
                         "versions": [{"version": v.version, "hash": v.hash,
                                       "created": v.created.isoformat()} for v in versions]})


# -- instances -------------------------------------------------------------------------------

async def _status(instance: Any) -> dict[str, Any]:
    return _dump(await instance.status())  # type: ignore[no-any-return]


@api_handler
async def create_instance(request: Request) -> Response:
    scope = await _scope(request)
    body = _object(await _body(request), "the body")
    unknown = set(body) - {"plan", "params", "id"}
    if unknown:
        raise ApiError("invalid_request", f"unknown field(s) {sorted(unknown)}; use plan, "
                       "params and id")
    instance = await scope.create(_string(body, "plan"), body.get("params"),
                                  id=_string(body, "id", required=False))
    return JSONResponse(await _status(instance), status_code=201)


@api_handler
async def create_batch(request: Request) -> Response:
    """Each item is created on its own: the answer lists, per item, the instance or the
    error that item met (the others are still created)."""
    from agents_durable.server._http import translate

    scope = await _scope(request)
    body = _object(await _body(request), "the body")
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise ApiError("invalid_request", "'items' must be a list of 1 to 100 objects")
    results: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            item = _object(item, f"item {index}")
            unknown = set(item) - {"plan", "params", "id"}
            if unknown:
                raise ApiError("invalid_request", f"unknown field(s) {sorted(unknown)}")
            instance = await scope.create(_string(item, "plan"), item.get("params"),
                                          id=_string(item, "id", required=False))
            results.append({"index": index, "ok": True, "id": instance.id})
        except Exception as error:
            api = translate(error)
            if api is None:
                raise
            results.append({"index": index, "ok": False,
                            "error": {"code": api.code, "message": api.message}})
    created = sum(1 for r in results if r["ok"])
    return JSONResponse({"created": created, "failed": len(results) - created,
                         "items": results}, status_code=201 if created else 422)


@api_handler
async def list_instances(request: Request) -> Response:
    scope = await _scope(request)
    query = request.query_params
    raw = query.get("limit", "50")
    if not raw.isdigit():
        raise ApiError("invalid_request", "limit must be a number from 1 to 1000")
    page = await scope.list(query.get("status"), query.get("plan"), limit=int(raw),
                            cursor=query.get("cursor"))
    return JSONResponse(_dump(page))


@api_handler
async def get_instance(request: Request) -> Response:
    scope = await _scope(request)
    return JSONResponse(await _status(await scope.get(request.path_params["id"])))


@api_handler
async def instance_history(request: Request) -> Response:
    scope = await _scope(request)
    instance = await scope.get(request.path_params["id"])
    return JSONResponse(_dump(await instance.history()))


@api_handler
async def send_event(request: Request) -> Response:
    scope = await _scope(request)
    instance = await scope.get(request.path_params["id"])
    payload = await _body(request, empty=None)
    await instance.send_event(request.path_params["type"], payload)
    return JSONResponse({"ok": True, "id": instance.id, "type": request.path_params["type"]},
                        status_code=202)


@api_handler
async def control(request: Request) -> Response:
    op = request.path_params["op"]
    if op not in ("pause", "resume", "terminate", "restart"):
        raise ApiError("not_found", f"no route {request.url.path[:200]!r}")
    scope = await _scope(request)
    instance = await scope.get(request.path_params["id"])
    if op == "restart":
        body = _object(await _body(request, empty={}), "the body")
        step = _string(body, "from_step", required=False)
        occurrence = body.get("occurrence", 1)
        if not isinstance(occurrence, int) or isinstance(occurrence, bool) or occurrence < 1:
            raise ApiError("invalid_request", "occurrence must be a positive integer")
        await instance.restart(None if step is None else (step, occurrence))
    else:
        await getattr(instance, op)()
    return JSONResponse(await _status(instance), status_code=202)


@api_handler
async def delete_instance(request: Request) -> Response:
    scope = await _scope(request)
    instance = await scope.get(request.path_params["id"])
    await instance.delete()
    return Response(status_code=204)


@api_handler
async def stream(request: Request) -> Response:
    scope = await _scope(request)
    instance = await scope.get(request.path_params["id"])
    cursor = request.query_params.get("cursor") or request.headers.get("last-event-id")
    return await stream_instance(request, instance, cursor)


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


def api_routes(*, before_control: Sequence[BaseRoute] = ()) -> list[BaseRoute]:
    """The ``/v1`` routes; ``before_control`` go before the instance control route
    (``/{op}``), which would otherwise take their paths (``/upgrade``, ``/fork``)."""
    agent = "/v1/agents/{agent}"
    instance = agent + "/instances/{id}"
    return [
        Route("/v1/openapi.json", openapi, methods=["GET"]),
        Route("/v1/me", whoami, methods=["GET"]),
        Route("/v1/agents", list_agents, methods=["GET"]),
        Route(agent + "/plans/validate", validate_plan, methods=["POST"]),
        Route(agent + "/plans", register_plan, methods=["POST"]),
        Route(agent + "/plans", list_plans, methods=["GET"]),
        Route(agent + "/plans/{name}", get_plan, methods=["GET"]),
        Route(agent + "/instances/batch", create_batch, methods=["POST"]),
        Route(agent + "/instances", create_instance, methods=["POST"]),
        Route(agent + "/instances", list_instances, methods=["GET"]),
        Route(instance, get_instance, methods=["GET"]),
        Route(instance, delete_instance, methods=["DELETE"]),
        Route(instance + "/history", instance_history, methods=["GET"]),
        Route(instance + "/stream", stream, methods=["GET"]),
        Route(instance + "/events/{type}", send_event, methods=["POST"]),
        *before_control,
        Route(instance + "/{op:str}", control, methods=["POST"]),
    ]
