"""No model meets a rule it was never told: every construct the validator refuses is
named in the instructions prompt, and what the prompt says works does validate."""

from __future__ import annotations

import pytest

import agents_durable as ad
from agents_durable.agents import PlanToolkit
from agents_durable.plans._diagnostics import CODES

pytestmark = pytest.mark.anyio

#: Every code that refuses a construct (or a way of using the step API) -> the phrases
#: the instructions must contain about it (compared with whitespace collapsed).
REFUSED: dict[str, tuple[str, ...]] = {
    "ADP104": ("at top level, anything but a docstring, imports, defs and assignments",
               "belongs in `run`"),
    "ADP201": ("imports outside the list below", "submodules", "relative"),
    "ADP202": ("star (`*`) imports", "only these names from each"),
    "ADP203": ("`eval`", "`open`", "`id`", "`hash`", "`object`", "`bytearray`", "`aiter`",
               "`exit`", "`str.format`", "catching `BaseException`"),
    "ADP204": ("`getattr`/`hasattr`/`setattr` with a computed or private name",),
    "ADP205": ("`type` with three arguments",),
    "ADP206": ("names and attributes that start with `_`",),
    "ADP207": ("names and attributes that start with `_`",),
    "ADP208": ("`datetime.now()`", "use `await step.now()`"),
    "ADP301": ("`class`",),
    "ADP302": ("`yield`",),
    "ADP303": ("`global`",),
    "ADP304": ("bare `except:`", "`SystemExit`", "`KeyboardInterrupt`", "`GeneratorExit`"),
    "ADP305": ("`except*`",),
    "ADP306": ("`async for`", "`async with`", "async comprehensions",
               "`await` in a generator expression"),
    "ADP307": ("`await` outside an `async def`",),
    "ADP308": ("computed f-string format specs",),
    "ADP309": ("annotated assignments", "`obj.attr += 1`"),
    "ADP310": ("`with`",),
    "ADP311": ("decorators other than `@step.do`", "`type` aliases"),
    "ADP312": ("`return`, `break` or `continue` inside `finally`",),
    "ADP313": ("`match` class patterns other than the builtin types", "keyword sub-patterns",
               "dotted values"),
    "ADP401": ("Await every step call",),
    "ADP407": ("A tool call outside a step (in `run` or a helper it calls directly) is "
               "rejected",),
    "ADP409": ("Steps cannot nest",),
    "ADP410": ("not `await load`",),
    "ADP415": ("`submit_plan` refuses a `step.run_plan(\"name\")` whose plan you have not "
               "submitted",),
}

#: What the instructions say works, each with a plan that must validate clean.
ALLOWED = {
    "`match`": "async def run(event, step):\n    match event.payload:\n"
               "        case {\"type\": t}:\n            return t\n        case _:\n"
               "            return None\n",
    "`nonlocal`": "async def run(event, step):\n    n = 0\n    def bump():\n"
                  "        nonlocal n\n        n += 1\n    bump()\n    return n\n",
    "`@step.do()`": "async def run(event, step):\n    @step.do()\n    async def load():\n"
                    "        return 1\n    return await load()\n",
    "`lambda w=w: tools.f(w)`": "async def run(event, step):\n    calls = []\n"
                                "    for w in event.payload:\n        calls.append(step.do("
                                "w, lambda w=w: tools.f(w)))\n"
                                "    return await step.gather(*calls)\n",
    "calls of your own `async def` helpers": (
        "async def run(event, step):\n    async def one(i):\n"
        "        await step.sleep(f'nap {i}', 1)\n"
        "        return await step.do(f'get {i}', lambda: tools.f(i))\n"
        "    return await step.gather(one(1), one(2))\n"),
}


@pytest.fixture
async def instructions(engine: ad.Engine) -> str:
    return " ".join(PlanToolkit(engine, "a").instructions().split())


async def test_every_refused_construct_is_in_the_instructions(instructions: str) -> None:
    missing = {code: phrase for code, phrases in REFUSED.items() for phrase in phrases
               if " ".join(phrase.split()) not in instructions}
    assert not missing, missing


def test_the_table_covers_every_construct_code() -> None:
    # Every 2xx/3xx code refuses a construct; a new one must be documented and listed here.
    constructs = {code for code in CODES if code[3] in "23"}
    assert constructs <= set(REFUSED), sorted(constructs - set(REFUSED))
    assert set(REFUSED) <= set(CODES)


@pytest.mark.parametrize("phrase", ALLOWED)
async def test_what_the_instructions_allow_validates(instructions: str, phrase: str) -> None:
    assert phrase in instructions
    assert ad.validate_plan(ALLOWED[phrase]) == [], ad.validate_plan(ALLOWED[phrase])
