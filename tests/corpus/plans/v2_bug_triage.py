"""Triage the untriaged bugs: find each component's owning team, set a priority, assign.

Lists the untriaged bugs, looks up the owning team of each distinct component once,
derives a priority from the title (case-insensitive: "crash" or "data loss" -> P1,
"error" -> P2, else P3) and assigns every bug once.

Params: {} (nothing)
Events: none
Tools: bugs.untriaged, teams.owner, bugs.assign
"""


def priority_for(title):
    text = (title or "").lower()
    if "crash" in text or "data loss" in text:
        return "P1"
    if "error" in text:
        return "P2"
    return "P3"


async def run(event, step):
    bugs = await step.do("list untriaged bugs", lambda: tools.bugs.untriaged())

    # Each distinct component once, in first-seen order.
    components = []
    for bug in bugs:
        if bug["component"] not in components:
            components.append(bug["component"])

    owners = {}
    for component in components:
        found = await step.do(f"owner of {component}",
                              lambda c=component: tools.teams.owner(c))
        owners[component] = found["team"]

    assigned = []
    by_team = {}
    for bug in bugs:
        bug_id = bug["id"]
        team = owners[bug["component"]]
        priority = priority_for(bug["title"])
        await step.do(f"assign {bug_id}",
                      lambda ctx, b=bug_id, t=team, p=priority:
                      tools.bugs.assign(b, t, p, ctx.idempotency_key))
        assigned.append({"bug_id": bug_id, "team": team, "priority": priority})
        by_team[team] = by_team.get(team, 0) + 1

    return {"assigned": assigned, "by_team": by_team}
