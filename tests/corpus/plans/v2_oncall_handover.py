"""Hand over the on-call shift, escalating to the backup and then the manager.

Thirty minutes before the shift ends, list the team's open incidents and page the
incoming engineer a handover note with every open incident id. Wait for the incoming
engineer's "handover-ack" until the shift ends; if none comes, page the backup and give
them 30 minutes (from then on only the backup's ack counts). Still nobody: the manager is
told nobody took the shift and becomes the owner. Every open incident is then reassigned
to the owner, all in parallel.

Params: {"shift_id": str, "team": str, "shift_end": ISO-8601 str, "incoming": str,
         "backup": str, "manager": str}
Events: "handover-ack" with payload {"shift_id": str, "engineer": str}
Tools: incidents.open, incidents.assign, pager.notify
"""

from datetime import datetime, timedelta

LEAD_TIME = timedelta(minutes=30)
BACKUP_WAIT = "30 minutes"


async def run(event, step):
    params = event.payload
    shift_id = params["shift_id"]
    team = params["team"]
    incoming = params["incoming"]
    backup = params["backup"]
    manager = params["manager"]
    shift_end = datetime.fromisoformat(params["shift_end"])

    await step.sleep_until("until 30 minutes before shift end", shift_end - LEAD_TIME)

    incidents = await step.do(f"list open incidents of {team}",
                              lambda: tools.incidents.open(team))
    incident_ids = [inc["id"] for inc in incidents]

    if incidents:
        lines = [f"- {inc['id']} [{inc['severity']}] {inc['title']}" for inc in incidents]
        listing = "\n".join(lines)
    else:
        listing = "(no open incidents)"
    note = (f"On-call handover for shift {shift_id} ({team}). "
            f"Open incidents: {', '.join(incident_ids) if incident_ids else 'none'}.\n"
            f"{listing}\nPlease send handover-ack for {shift_id}.")

    notified = []

    await step.do(f"page incoming {incoming}", lambda ctx: tools.pager.notify(
        incoming, note, ctx.idempotency_key))
    notified.append(incoming)

    owner = None
    acked_by = None

    now = await step.now()
    remaining = (shift_end - now).total_seconds()
    try:
        ack = await step.wait_for_event("ack from incoming", type="handover-ack",
                                        timeout=max(1, remaining),
                                        match={"shift_id": shift_id, "engineer": incoming})
        acked_by = ack["payload"].get("engineer", incoming)
        owner = acked_by
    except EventTimeout:
        print(f"{incoming} did not ack {shift_id} by shift end; paging backup {backup}")

    if owner is None:
        backup_note = (f"{incoming} did not acknowledge the handover of shift {shift_id}. "
                       f"You are up as backup. {note}")
        await step.do(f"page backup {backup}", lambda ctx: tools.pager.notify(
            backup, backup_note, ctx.idempotency_key))
        notified.append(backup)
        try:
            ack = await step.wait_for_event("ack from backup", type="handover-ack",
                                            timeout=BACKUP_WAIT,
                                            match={"shift_id": shift_id, "engineer": backup})
            acked_by = ack["payload"].get("engineer", backup)
            owner = acked_by
        except EventTimeout:
            print(f"backup {backup} did not ack {shift_id}; manager {manager} takes over")

    if owner is None:
        manager_note = (f"Nobody took on-call shift {shift_id} ({team}): neither {incoming} "
                        f"nor {backup} acknowledged. You are now the owner of the open "
                        f"incidents: {', '.join(incident_ids) if incident_ids else 'none'}.")
        await step.do(f"page manager {manager}", lambda ctx: tools.pager.notify(
            manager, manager_note, ctx.idempotency_key))
        notified.append(manager)
        owner = manager

    calls = []
    for incident_id in incident_ids:
        calls.append(step.do(
            f"assign {incident_id} to {owner}",
            lambda ctx, incident_id=incident_id: tools.incidents.assign(
                incident_id, owner, ctx.idempotency_key)))
    if calls:
        await step.gather(*calls)

    return {"shift_id": shift_id, "owner": owner, "acked_by": acked_by,
            "reassigned": incident_ids, "notified": notified}
