"""The OpenAPI 3.1 document of the ``/v1`` API, served at ``/v1/openapi.json``."""

from __future__ import annotations

import functools
from typing import Any

from agents_durable.server._http import ERROR_CODES

__all__ = ["openapi_document"]

_A = "/v1/agents/{agent}"
_I = _A + "/instances/{id}"

#: path -> method -> (summary, success status, request body schema name or None)
_OPERATIONS: dict[str, dict[str, tuple[str, int, str | None]]] = {
    "/v1/me": {"get": ("Who the token is: role and agent", 200, None)},
    "/v1/agents": {"get": ("Agents this token can see (an agent token: itself)", 200, None)},
    _A + "/plans/validate": {"post": ("Validate plan source; diagnostics", 200, "PlanSource")},
    _A + "/plans": {"post": ("Register a plan version", 201, "PlanRegistration"),
                    "get": ("List plan versions (?name=)", 200, None)},
    _A + "/plans/{name}": {"get": ("A plan version with source, outline and versions "
                                   "(?version=)", 200, None)},
    _A + "/instances": {"post": ("Create an instance", 201, "NewInstance"),
                        "get": ("List instances, newest first (?status=&plan=&limit=&cursor=)",
                                200, None)},
    _A + "/instances/batch": {"post": ("Create up to 100 instances; per-item results", 201,
                                       "NewInstances")},
    _I: {"get": ("An instance's status", 200, None),
         "delete": ("Delete a finished instance and its journal", 204, None)},
    _I + "/history": {"get": ("The journal: steps, events, logs, audit", 200, None)},
    _I + "/stream": {"get": ("Server-sent events: the journal from a cursor, then live, "
                             "until a terminal status", 200, None)},
    _I + "/events/{type}": {"post": ("Send an event; the body is its JSON payload", 202,
                                     "Payload")},
    _I + "/pause": {"post": ("Pause after the running step", 202, None)},
    _I + "/resume": {"post": ("Resume a paused instance", 202, None)},
    _I + "/terminate": {"post": ("Stop for good", 202, None)},
    _I + "/restart": {"post": ("Run again from the top or from a step", 202, "Restart")},
    _I + "/verify-upgrade": {"post": ("Replay the journal against a version (default: the "
                                      "latest): compatible, or the first divergence", 200,
                                      "UpgradeTarget")},
    _I + "/upgrade": {"post": ("Move to a version that replays the journal exactly "
                               "(409 upgrade_refused otherwise)", 200, "UpgradeTarget")},
    _I + "/fork": {"post": ("A new instance from a copy of the journal up to a step, "
                            "optionally on another plan version", 201, "Fork")},
    _A + "/plans/{name}/verify-upgrade": {"post": ("Verify the plan's active instances (or "
                                                   "ids) against a version; per instance",
                                                   200, "BulkUpgrade")},
    _A + "/plans/{name}/upgrade": {"post": ("Upgrade every compatible instance; per-item "
                                            "results", 200, "BulkUpgrade")},
    _A + "/schedules": {"post": ("Create or replace a schedule", 201, "Schedule"),
                        "get": ("List schedules", 200, None)},
    _A + "/schedules/{name}": {"get": ("A schedule", 200, None),
                               "delete": ("Delete a schedule", 204, None)},
    _A + "/schedules/{name}/pause": {"post": ("Pause a schedule", 200, None)},
    _A + "/schedules/{name}/resume": {"post": ("Resume a schedule", 200, None)},
}

_SCHEMAS: dict[str, Any] = {
    "PlanSource": {"type": "object", "required": ["source"],
                   "properties": {"source": {"type": "string"}}},
    "PlanRegistration": {"type": "object", "required": ["name", "source"],
                         "properties": {"name": {"type": "string"},
                                        "source": {"type": "string"}}},
    "NewInstance": {"type": "object", "required": ["plan"], "additionalProperties": False,
                    "properties": {"plan": {"type": "string",
                                            "description": "name (latest) or hash"},
                                   "params": {}, "id": {"type": "string"}}},
    "NewInstances": {"type": "object", "required": ["items"],
                     "properties": {"items": {"type": "array", "maxItems": 100,
                                              "items": {"$ref": "#/components/schemas/"
                                                                "NewInstance"}}}},
    "Payload": {"description": "any JSON value"},
    "Restart": {"type": "object",
                "properties": {"from_step": {"type": "string"},
                               "occurrence": {"type": "integer", "minimum": 1}}},
    "UpgradeTarget": {"type": "object", "additionalProperties": False,
                      "properties": {"version": {"type": "integer", "minimum": 1}}},
    "BulkUpgrade": {"type": "object", "additionalProperties": False,
                    "properties": {"version": {"type": "integer", "minimum": 1},
                                   "ids": {"type": "array", "items": {"type": "string"}}}},
    "Fork": {"type": "object", "additionalProperties": False,
             "properties": {"from_step": {"type": "string"},
                            "occurrence": {"type": "integer", "minimum": 1},
                            "version": {"type": "integer", "minimum": 1},
                            "plan": {"type": "string", "description": "name or hash"},
                            "id": {"type": "string"}}},
    "Schedule": {"type": "object", "required": ["name", "plan", "cron"],
                 "additionalProperties": False,
                 "properties": {"name": {"type": "string"}, "plan": {"type": "string"},
                                "cron": {"type": "string"}, "timezone": {"type": "string"},
                                "params": {},
                                "overlap": {"enum": ["skip", "queue", "allow"]},
                                "catch_up": {"enum": ["none", "latest", "all"]}}},
    "Error": {"type": "object", "required": ["error"],
              "properties": {"error": {"type": "object", "required": ["code", "message"],
                                       "properties": {
                                           "code": {"type": "string",
                                                    "enum": sorted(ERROR_CODES)},
                                           "message": {"type": "string"}}}}},
}


def _parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in names]


@functools.cache
def openapi_document() -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref":
                                                         "#/components/schemas/Error"}}}}
    paths: dict[str, Any] = {}
    for path, methods in _OPERATIONS.items():
        paths[path] = {}
        for method, (summary, status, body) in methods.items():
            operation: dict[str, Any] = {
                "summary": summary, "parameters": _parameters(path),
                "responses": {str(status): {"description": "success"},
                              "default": {"description": "an error; see its code", **error}}}
            if path.endswith("/stream"):
                operation["responses"][str(status)]["content"] = {"text/event-stream": {}}
            if body is not None:
                operation["requestBody"] = {"content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{body}"}}}}
            paths[path][method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "agents_durable", "version": "1",
                 "description": "Durable plans written by AI agents. Error codes: "
                                + "; ".join(f"{code} ({status}): {what}" for code, (status, what)
                                            in sorted(ERROR_CODES.items()))},
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": _SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
