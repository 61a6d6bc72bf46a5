"""Leaks: plan-visible text never shows a host address or a host function's name, type()
never hands the plan a host class, and printed text is always stored as valid UTF-8.
"""

from __future__ import annotations

import re

import pytest

import agents_durable as ad
from tests.security.conftest import assert_output, run

pytestmark = pytest.mark.anyio

#: What host details look like in a repr or an error message.
HOST_DETAIL = re.compile(r"0x[0-9a-f]{4,}|<locals>|make_builtins|_wrappers|agents_durable|"
                         r"Guards|safe_|\bcall\(\)|PlanAccessError|ModuleFacade|SafeType")


def plan(body: str, imports: str = "") -> str:
    lines = "\n".join(f"    {line}" for line in body.strip().splitlines())
    return f"{imports}\nasync def run(event, step):\n{lines}\n"


#: Objects a plan can hold whose own repr used to show an address or a host name.
OBJECTS = {
    "plan_function": "helper",
    "lambda": "(lambda: 1)",
    "builtin_wrapper": "sorted",
    "builtin": "len",
    "type_standin": "list",
    "int_standin": "int",
    "str_method": "'abc'.upper",
    "list_method": "[].append",
    "module_facade": "math",
    "facade_function": "json.dumps",
    "facade_builtin": "math.sqrt",
    "facade_class": "fractions.Fraction",
    "lazy_iterator": "itertools.count()",
    "map_object": "map(abs, [1])",
    "zip_object": "zip([1], [2])",
    "enumerate_object": "enumerate([1])",
    "engine_error_class": "StepFailed",
    "exception_holding_a_function": "ValueError(helper)",
    "container_of_functions": "[helper, {'k': sorted}, (len,)]",
    "defaultdict_of_a_lambda": "collections.defaultdict(lambda: 0)",
    "step": "step",
    "event": "event",
}

RENDERERS = ("repr({x})", "str({x})", "ascii({x})", "f'{{{x}}}'", "f'{{{x}!r}}'",
             "f'{{{x}:>5}}'", "'%s' % ({x},)", "'%r' % ({x},)", "'%(k)s' % {{'k': {x}}}")


@pytest.mark.parametrize("expression", OBJECTS.values(), ids=OBJECTS.keys())
async def test_text_of_any_plan_object_shows_no_host_details(engine: ad.Engine,
                                                             expression: str) -> None:
    body = "def helper():\n    return 1\nx = " + expression + "\n"
    body += "print(x)\nprint(x, [x])\n"
    body += "return [" + ", ".join(r.format(x="x") for r in RENDERERS) + "]"
    scope = engine.agent("leaker")
    await scope.register_plan("p", plan(body, "import math, json, fractions, itertools, "
                                              "collections"))
    instance = await scope.create("p")
    status = await instance.wait(timeout=30)
    assert status.status == "complete", status.error
    texts = [*status.output, *(entry.line for entry in (await instance.history()).logs)]
    for text in texts:
        assert not HOST_DETAIL.search(text), text


async def test_plan_functions_show_their_own_name(engine: ad.Engine) -> None:
    await assert_output(engine, plan(
        "def helper():\n    return 1\n"
        "return [repr(helper), str(sorted), f'{len}', repr([helper]), repr('a'.upper), "
        "repr(list), repr(StepFailed)]"),
        ["<function helper>", "<built-in function sorted>", "<built-in function len>",
         "[<function helper>]", "<built-in method upper>", "<class 'list'>",
         "<class 'StepFailed'>"])


ERRORS = {
    "builtin_arity": "sorted(1, 2, 3)",
    "builtin_keyword": "sorted([1], bad=1)",
    "sum_keyword": "sum([1], bad=1)",
    "print_keyword": "print(1, flush=True)",
    "facade_keyword": "json.dumps(1, bad=1)",
    "facade_arity": "itertools.batched()",
    "limited_math": "math.comb(1, bad=2)",
    "statistics": "statistics.mean()",
    "textwrap": "textwrap.wrap()",
    "counter": "collections.Counter(1, 2, 3)",
    "str_method_wrapper": "'a'.upper(1)",
    "split_wrapper": "'a'.split(1, 2, 3, 4)",
    "set_method_wrapper": "{1}.union(bad=1)",
    "pad_wrapper": "'a'.zfill()",
    "guard_error": "'a'.expandtabs",
    "int_wrapper": "int([])",
}


@pytest.mark.parametrize("expression", ERRORS.values(), ids=ERRORS.keys())
async def test_error_messages_name_no_host_internals(engine: ad.Engine,
                                                     expression: str) -> None:
    source = plan(f"try:\n    x = {expression}\nexcept Exception as e:\n"
                  "    return [str(e), repr(e), repr(type(e))]\nreturn 'no error'",
                  "import json, itertools, math, statistics, textwrap, collections")
    status = await run(engine, source)
    assert status.status == "complete", status.error
    assert status.output != "no error"
    for text in status.output:
        assert not HOST_DETAIL.search(text), text


async def test_type_of_an_engine_error_is_the_class_the_plan_names(engine: ad.Engine) -> None:
    source = plan(
        "def boom():\n    raise NonRetryableError('no')\n"
        "try:\n    await step.do('boom', boom)\nexcept StepFailed as e:\n    failed = e\n"
        "try:\n    'a'.expandtabs\nexcept AttributeError as e:\n    refused = e\n"
        "return [type(failed) is StepFailed, type(refused) is AttributeError, "
        "repr(type(failed)), repr(type(refused))]")
    await assert_output(engine, source, [True, True, "<class 'StepFailed'>",
                                         "<class 'AttributeError'>"])


async def test_printing_a_lone_surrogate_logs_valid_utf8(engine: ad.Engine) -> None:
    scope = engine.agent("printer")
    await scope.register_plan("p", plan("print('a\\ud800b')\nprint(['\\udfff'])\n"
                                        "print('ok \\u20ac')\nreturn 'done'"))
    instance = await scope.create("p")
    status = await instance.wait(timeout=30)
    assert (status.status, status.output) == ("complete", "done")
    lines = [entry.line for entry in (await instance.history()).logs]
    assert lines == ["a\\ud800b", "['\\udfff']", "ok \u20ac"]
    for line in lines:
        line.encode("utf-8")  # never raises: the log is valid UTF-8


async def test_dict_fromkeys_works_and_is_measured(engine) -> None:
    from .conftest import assert_output, assert_stopped

    await assert_output(engine, "async def run(event, step):\n"
                                "    return dict.fromkeys(['a', 'b'], 0)\n", {"a": 0, "b": 0})
    await assert_stopped(engine, "async def run(event, step):\n"
                                 "    return len(dict.fromkeys(range(10 ** 8)))\n",
                         ("BudgetExceeded", "LimitExceeded"))


async def test_refused_class_attributes_name_the_class(engine) -> None:
    from .conftest import run

    status = await run(engine, "async def run(event, step):\n    return dict.items\n")
    assert status.status == "errored"
    assert "the class dict" in status.error.message and "member" not in status.error.message
