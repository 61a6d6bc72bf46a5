"""MCP resources: each plan's source and outline, each instance's status and history.

URIs (plan names are percent-encoded, so a name may hold ``/`` or spaces)::

    agents-durable://plans/{name}                the latest version's source (Python)
    agents-durable://plans/{name}/outline        its version, hash, description and steps
    agents-durable://instances/{id}              status, as plan_status shows it
    agents-durable://instances/{id}/history      the journal, as plan_history shows it

Everything is read through the agent's toolkit, so another agent's plan or instance reads
exactly like one that does not exist. JSON resources are capped like tool results.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

import mcp_types as types
from mcp.shared.exceptions import MCPError

from agents_durable.agents import (
    InstanceListing,
    PlanListing,
    PlanToolkit,
    ToolFailure,
)
from agents_durable.agents._failures import failure_from_error
from agents_durable.errors import AgentsDurableError
from agents_durable.mcp._capping import cap_result

__all__ = ["PREFIX", "list_resource_templates", "list_resources", "read_resource"]

PREFIX = "agents-durable://"
_PLANS, _INSTANCES = f"{PREFIX}plans/", f"{PREFIX}instances/"
_JSON, _PYTHON = "application/json", "text/x-python"


def _plan_uri(name: str, part: str = "") -> str:
    return f"{_PLANS}{quote(name, safe='')}{part}"


def _instance_uri(instance_id: str, part: str = "") -> str:
    return f"{_INSTANCES}{instance_id}{part}"


def list_resource_templates() -> types.ListResourceTemplatesResult:
    """The four URI templates, so a client can read a plan or an instance by name or id."""
    return types.ListResourceTemplatesResult(resource_templates=[
        types.ResourceTemplate(name="plan-source", uri_template=f"{_PLANS}{{name}}",
                               mime_type=_PYTHON,
                               description="The source of the latest version of your plan."),
        types.ResourceTemplate(name="plan-outline", uri_template=f"{_PLANS}{{name}}/outline",
                               mime_type=_JSON,
                               description="Your plan's latest version, hash, description "
                                           "and outline (its steps)."),
        types.ResourceTemplate(name="instance-status", uri_template=f"{_INSTANCES}{{id}}",
                               mime_type=_JSON,
                               description="Where one of your instances stands."),
        types.ResourceTemplate(name="instance-history",
                               uri_template=f"{_INSTANCES}{{id}}/history", mime_type=_JSON,
                               description="The journal of one of your instances: steps, "
                                           "events, printed lines."),
    ])


async def list_resources(toolkit: PlanToolkit) -> types.ListResourcesResult:
    """Two resources per plan (source, outline) and per recent instance (status, history)."""
    resources: list[types.Resource] = []
    plans = await toolkit.list_plans()
    if isinstance(plans, PlanListing):
        for plan in plans.plans:
            resources += [
                types.Resource(name=f"plan {plan.name}", uri=_plan_uri(plan.name),
                               mime_type=_PYTHON,
                               description=f"Source of plan {plan.name!r} "
                                           f"v{plan.latest_version}: {plan.description}"),
                types.Resource(name=f"plan {plan.name} outline",
                               uri=_plan_uri(plan.name, "/outline"), mime_type=_JSON,
                               description=f"Outline of plan {plan.name!r} "
                                           f"v{plan.latest_version}")]
    instances = await toolkit.list_instances()
    if isinstance(instances, InstanceListing):
        for item in instances.instances:
            what = f"instance {item.instance_id} of {item.plan} v{item.version}"
            resources += [
                types.Resource(name=f"instance {item.instance_id}",
                               uri=_instance_uri(item.instance_id), mime_type=_JSON,
                               description=f"Status of {what} ({item.status})"),
                types.Resource(name=f"instance {item.instance_id} history",
                               uri=_instance_uri(item.instance_id, "/history"),
                               mime_type=_JSON, description=f"Journal of {what}")]
    return types.ListResourcesResult(resources=resources)


def _not_found(uri: str, failure: ToolFailure | None = None) -> MCPError:
    message = failure.message if failure is not None else (
        f"There is no resource {uri!r}. Resources are {PREFIX}plans/NAME[/outline] and "
        f"{PREFIX}instances/ID[/history].")
    return MCPError(types.INVALID_PARAMS, message, {"uri": uri})


def _json(uri: str, data: dict[str, Any], max_chars: int) -> types.ReadResourceResult:
    data, note = cap_result(data, max_chars)
    if note is not None:
        data["truncated"] = note
    return types.ReadResourceResult(contents=[types.TextResourceContents(
        uri=uri, mime_type=_JSON, text=json.dumps(data, ensure_ascii=False))])


async def read_resource(toolkit: PlanToolkit, uri: str, max_chars: int
                        ) -> types.ReadResourceResult:
    """The resource at ``uri``; an MCP error naming it when this agent has no such thing."""
    if uri.startswith(_PLANS):
        name, _, part = uri[len(_PLANS):].partition("/")
        if part not in ("", "outline") or not name:
            raise _not_found(uri)
        try:
            version = await toolkit.scope.get_plan(unquote(name))
        except AgentsDurableError as exc:
            raise _not_found(uri, failure_from_error(exc)) from None
        if part == "":
            return types.ReadResourceResult(contents=[types.TextResourceContents(
                uri=uri, mime_type=_PYTHON, text=version.source)])
        return _json(uri, {"name": version.name, "version": version.version,
                           "hash": version.hash, "description": version.description,
                           "outline": [e.model_dump(mode="json") for e in version.outline]},
                     max_chars)
    if uri.startswith(_INSTANCES):
        instance_id, _, part = uri[len(_INSTANCES):].partition("/")
        if part not in ("", "history") or not instance_id:
            raise _not_found(uri)
        tool = "plan_history" if part else "plan_status"
        result = await toolkit.call(tool, {"instance_id": instance_id})
        if isinstance(result, ToolFailure):
            raise _not_found(uri, result)
        return _json(uri, result.model_dump(mode="json"), max_chars)
    raise _not_found(uri)
