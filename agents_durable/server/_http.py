"""HTTP plumbing shared by the API and the dashboard: JSON errors with stable codes,
bounded request bodies, per-token rate limits.

Every error answer is ``{"error": {"code": ..., "message": ...}}`` with a code from
:data:`ERROR_CODES` that clients can rely on; the message is for people.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from agents_durable.errors import (
    EngineClosed,
    InstanceExists,
    InstanceNotActive,
    InstanceNotFound,
    InvalidDuration,
    InvalidInstanceId,
    LimitExceeded,
    PlanNotFound,
    PlanRejected,
    StoreError,
    StoreUnavailable,
    UpgradeRefused,
    UsageError,
)

__all__ = ["ERROR_CODES", "ApiError", "RateLimiter", "error_response", "json_body",
           "read_body"]

#: code -> (HTTP status, what it means). Stable: clients branch on the code.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "no bearer token, or an unknown or revoked one"),
    "forbidden": (403, "the token may not do this (an operator token is needed)"),
    "csrf_failed": (403, "a dashboard form was posted without its CSRF token"),
    "not_found": (404, "no such route, or an agent this token cannot see"),
    "instance_not_found": (404, "no such instance for this agent (or another agent's)"),
    "plan_not_found": (404, "no such plan version for this agent"),
    "schedule_not_found": (404, "no such schedule for this agent (or another agent's)"),
    "method_not_allowed": (405, "the route exists but not for this method"),
    "instance_exists": (409, "the instance id is already taken for this agent"),
    "instance_not_active": (409, "the instance's state does not allow this operation"),
    "payload_too_large": (413, "the request body or a payload exceeds its limit"),
    "unsupported_media_type": (415, "the body must be application/json"),
    "invalid_json": (400, "the body is not valid JSON"),
    "invalid_request": (400, "a field is missing, of the wrong type or out of range"),
    "plan_rejected": (422, "the plan failed validation; see diagnostics"),
    "upgrade_refused": (409, "the target plan version does not replay the journal; see "
                             "checks (nothing changed)"),
    "rate_limited": (429, "too many requests for this token; retry after Retry-After"),
    "store_unavailable": (503, "the database failed; retry later"),
    "internal_error": (500, "a bug; the server log has the details"),
}


class ApiError(Exception):
    """An error answer: ``code`` from ``ERROR_CODES``, a message, optional extra fields."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra
        self.status = ERROR_CODES[code][0]


def translate(error: BaseException) -> ApiError | None:
    """The API error for a library error, or None for one that is a bug."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, PlanRejected):
        return ApiError("plan_rejected", str(error), diagnostics=[
            d.model_dump() for d in error.diagnostics])
    if isinstance(error, UpgradeRefused):
        return ApiError("upgrade_refused", str(error), checks=[
            c.model_dump(mode="json") for c in error.checks])
    table: list[tuple[type[BaseException], str]] = [
        (InstanceNotFound, "instance_not_found"), (InvalidInstanceId, "invalid_request"),
        (PlanNotFound, "plan_not_found"), (InstanceExists, "instance_exists"),
        (InstanceNotActive, "instance_not_active"), (LimitExceeded, "payload_too_large"),
        (InvalidDuration, "invalid_request"), (EngineClosed, "store_unavailable"),
        (UsageError, "invalid_request"), (StoreUnavailable, "store_unavailable"),
        (StoreError, "store_unavailable"),
    ]
    for kind, code in table:
        if isinstance(error, kind):
            return ApiError(code, str(error))  # the same words for missing and foreign
    return None


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": error.code, "message": error.message, **error.extra}}
    return JSONResponse(body, status_code=error.status, headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError("payload_too_large", f"the request body is {int(declared):,} bytes; "
                       f"the limit is {limit:,}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError("payload_too_large", f"the request body exceeds {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, limit: int, *, empty: Any = ...) -> Any:
    """The JSON body (``empty`` if there is none and ``empty`` is given)."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    body = await read_body(request, limit)
    if not body.strip() and empty is not ...:
        return empty
    if kind not in ("application/json", ""):
        raise ApiError("unsupported_media_type", f"send JSON (Content-Type: "
                       f"application/json), not {kind[:60]!r}")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("invalid_json", f"the body is not valid JSON: {exc}") from None


@dataclass
class RateLimiter:
    """A token bucket per API token: ``rate`` requests a second, bursts up to ``burst``."""

    rate: float = 50.0
    burst: int = 200
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str) -> float:
        """0 if a request may go now, else the seconds until one may."""
        now = time.monotonic()
        level, at = self._buckets.get(key, (float(self.burst), now))
        level = min(float(self.burst), level + (now - at) * self.rate)
        if level < 1.0:
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.rate
        self._buckets[key] = (level - 1.0, now)
        if len(self._buckets) > 10_000:  # forget idle tokens, keep memory bounded
            full = [k for k, (lv, _) in self._buckets.items() if lv >= self.burst - 1]
            for k in full[:5_000]:
                self._buckets.pop(k, None)
        return 0.0


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
