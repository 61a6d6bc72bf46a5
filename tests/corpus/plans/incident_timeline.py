"""Track an incident from acknowledgement to resolution and keep the status page current.

The incident starts when the run starts. Three stages follow in order, each waiting up
to 4 hours for its event about this incident: "incident-acknowledged" posts
"Investigating", "incident-mitigated" posts "Mitigated", "incident-resolved" posts
"Resolved". A stage that times out opens an ops ticket naming the missing stage, and the
run finishes without posting anything more. For every stage reached the output records
the whole minutes (rounded down) from the incident start to the event's own timestamp.

Params: {"incident_id": str}
Events: "incident-acknowledged", "incident-mitigated", "incident-resolved", each with
        payload {"incident_id": str, "by": str}
Tools: statuspage.update, tickets.open
"""

from datetime import datetime, timezone
from math import floor

STAGE_WAIT = "4 hours"
STAGES = [
    ("incident-acknowledged", "Investigating", "ack_minutes", "acknowledgement"),
    ("incident-mitigated", "Mitigated", "mitigate_minutes", "mitigation"),
    ("incident-resolved", "Resolved", "resolve_minutes", "resolution"),
]


def as_datetime(value):
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, (int, float)):
        result = datetime.fromtimestamp(value, tz=timezone.utc)
    else:
        result = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if result.tzinfo is None:
        result = result.replace(tzinfo=timezone.utc)
    return result


async def run(event, step):
    incident_id = event.payload["incident_id"]
    started = event.timestamp
    this_incident = {"incident_id": incident_id}

    result = {"incident_id": incident_id, "ack_minutes": None, "mitigate_minutes": None,
              "resolve_minutes": None, "ticket_id": None}

    for event_type, page_status, field, stage_name in STAGES:
        try:
            received = await step.wait_for_event(
                f"wait for {event_type}", type=event_type, timeout=STAGE_WAIT,
                match=this_incident)
        except EventTimeout:
            reason = f"no {stage_name} ({event_type}) within {STAGE_WAIT}"
            ticket = await step.do(f"open ticket: missing {stage_name}",
                                   lambda reason=reason: tools.tickets.open(incident_id, reason))
            result["ticket_id"] = ticket["ticket_id"]
            return result

        elapsed = as_datetime(received["timestamp"]) - started
        result[field] = floor(elapsed.total_seconds() / 60)

        await step.do(f"post {page_status}",
                      lambda page_status=page_status: tools.statuspage.update(
                          incident_id, page_status))

    return result
