"""The plan sources the workloads run on our engine, and the same work for plain CPython.

Each plan is the smallest honest version of its workload: trivial steps are pure lambdas
(no tool round trip), so W1/W2 measure the engine's per-step cost, not a host function.
"""

from __future__ import annotations

__all__ = [
    "LOGGED_STEPS",
    "LOOP_FUNCTION",
    "LOOP_PLAN",
    "NAP",
    "REPLAY",
    "TRIVIAL_STEPS",
    "WAIT_EVENT",
    "big_plan",
]

#: W1/W2: ``payload["steps"]`` trivial steps in one activation.
TRIVIAL_STEPS = '''
"""Trivial steps, one after another."""

async def run(event, step):
    total = 0
    for k in range(event.payload["steps"]):
        total += await step.do(f"step {k}", lambda: k)
    return total
'''

#: W5: like TRIVIAL_STEPS, but every step body appends "<instance> <k>" to a side log
#: through the async host tool ``bench.log`` (so re-executions can be counted).
LOGGED_STEPS = '''
"""Steps that leave a trace in a side log, to count re-executions after a crash."""

async def run(event, step):
    total = 0
    for k in range(event.payload["steps"]):
        total += await step.do(f"step {k}", lambda: tools.bench.log(event.instance_id, k))
    return total
'''

#: W3: sleep until a shared due time, then one step.
NAP = '''
"""Hibernate until the due time, then do one step."""

async def run(event, step):
    await step.sleep_until("nap", event.payload["due"])
    return await step.do("after", lambda: 1)
'''

#: W4: wait for one event, then one step.
WAIT_EVENT = '''
"""Wait for an event, then do one step."""

async def run(event, step):
    got = await step.wait_for_event("go", type="go", timeout="1 hour")
    await step.do("after", lambda: 1)
    return got["payload"]
'''

#: Micro: a long journal, then a wait that keeps the instance suspended (replayable).
REPLAY = '''
"""Record many steps, then wait: every activation replays the whole journal."""

async def run(event, step):
    total = 0
    for k in range(event.payload["steps"]):
        total += await step.do(f"step {k}", lambda: k)
    got = await step.wait_for_event("go", type="go", timeout="1 hour")
    return total
'''

#: Micro: loop-heavy code, identical in the plan and in plain CPython.
LOOP_FUNCTION = '''
def work(n):
    total = 0
    items = []
    for i in range(n):
        if i % 3 == 0:
            total += i * 2
        else:
            total -= 1
        if i % 1000 == 0:
            items.append(total)
    return total + len(items)
'''

LOOP_PLAN = f'''
"""Loop-heavy plan code with no steps: measures the sandbox's guards and fuel."""
{LOOP_FUNCTION}

async def run(event, step):
    return work(event.payload["n"])
'''


def big_plan(lines: int = 200, salt: int = 0) -> str:
    """A realistic plan of about ``lines`` lines: helpers, loops, branches and steps.

    ``salt`` goes into a comment so that each call gives a new content hash (the compile
    cache would otherwise turn the second compile into a dict lookup).
    """
    head = [
        '"""A generated plan: helpers, loops, branches and steps, for compile timing."""',
        "",
        "import json",
        "import math",
        f"# variant {salt}",
        "",
        "LIMIT = 10",
        "",
    ]
    body: list[str] = []
    index = 0
    while len(head) + len(body) + 12 + (index + 1) + 6 <= lines:
        body += [
            f"def helper_{index}(values, factor={index + 1}):",
            f'    """Scale and filter values (helper {index})."""',
            "    out = []",
            "    for value in values:",
            "        if value % 2 == 0 and value < LIMIT * factor:",
            "            out.append(value * factor)",
            "        elif value > 100:",
            "            out.append(math.floor(value / factor))",
            "        else:",
            "            out.append({'value': value, 'label': f'item {value}'}['value'])",
            "    return sorted(out)[:LIMIT]",
            "",
        ]
        index += 1
    run = [
        "async def run(event, step):",
        '    data = await step.do("load", lambda: list(range(20)))',
        "    results = {}",
    ]
    for k in range(index):
        run.append(f'    results["h{k}"] = await step.do("stage {k}", '
                   f"lambda: helper_{k}(data))")
    run += [
        '    await step.sleep("pause", "1 minute")',
        '    summary = json.dumps(results, sort_keys=True)',
        '    return {"size": len(summary), "stages": len(results)}',
    ]
    padding = [f"# padding {n}" for n in range(lines - len(head) - len(body) - len(run))]
    return "\n".join(head + padding + body + run) + "\n"
