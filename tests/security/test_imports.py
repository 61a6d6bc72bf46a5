"""Category 3, imports: modules outside the allow-list, ``__import__``, submodules and
re-exports, and poisoning the shared modules (facades are read-only and per activation).
"""

from __future__ import annotations

import json
import math

import pytest

import agents_durable as ad
from tests.security.conftest import assert_output, assert_rejected, assert_stopped

pytestmark = pytest.mark.anyio


def _plan(body: str, imports: str = "") -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"{imports}\nasync def run(event, step):\n{lines}\n"


FORBIDDEN = ["os", "sys", "subprocess", "importlib", "builtins", "ctypes", "random", "time",
             "operator", "functools", "string", "re", "pickle", "gc", "inspect", "socket"]


@pytest.mark.parametrize("module", FORBIDDEN)
def test_module_outside_the_allow_list_is_rejected(module: str) -> None:
    assert_rejected(_plan("return 1", f"import {module}"), "ADP201")


@pytest.mark.parametrize("module", ["os", "sys", "importlib", "random", "json.decoder",
                                    "collections.abc"])
async def test_importer_refuses_it_at_run_time(engine: ad.Engine, unvalidated: None,
                                               module: str) -> None:
    # The import statement sits inside run, so the activation (not the load) fails.
    await assert_stopped(engine, _plan(f"import {module}\nreturn 1"), "ImportError")


@pytest.mark.parametrize("source", [
    _plan("return 1", "from json import decoder"),
    _plan("return 1", "import collections.abc"),
    _plan("return str(datetime.sys)", "import datetime"),
    _plan("return str(json.decoder)", "import json"),
])
def test_reaching_modules_through_other_modules_is_rejected(source: str) -> None:
    diagnostics = [d.code for d in ad.validate_plan(source) if d.severity == "error"]
    assert {"ADP201", "ADP202"} & set(diagnostics), diagnostics


@pytest.mark.parametrize("attribute", ["sys", "decoder", "scanner", "codecs", "loader"])
async def test_module_facades_offer_only_their_names(engine: ad.Engine, unvalidated: None,
                                                     attribute: str) -> None:
    source = _plan(f"return str(getattr(json, '{attribute}'))", "import json")
    await assert_stopped(engine, source, "PlanAccessError")


def test_dunder_import_is_rejected() -> None:
    assert_rejected(_plan('return __import__("os")'), "ADP203")


async def test_dunder_import_is_refused_by_the_compiler(unvalidated: None) -> None:
    from tests.security.conftest import compile_codes

    assert "ADP309" in compile_codes(_plan('return __import__("os")'))


@pytest.mark.parametrize("body", [
    "math.pi = 3\nreturn 1",
    'setattr(json, "dumps", len)\nreturn 1',
    "json.dumps = len\nreturn 1",
    "del math.pi\nreturn 1",
])
async def test_module_facades_are_read_only(engine: ad.Engine, unvalidated: None,
                                            body: str) -> None:
    await assert_stopped(engine, _plan(body, "import math, json"), "PlanAccessError")
    assert math.pi == 3.141592653589793 and json.dumps.__module__ == "json"


async def test_a_poisoning_attempt_is_invisible_to_another_agent(
        engine: ad.Engine, unvalidated: None) -> None:
    source = _plan("try:\n    math.pi = 3\nexcept AttributeError:\n    pass\nreturn math.pi",
                   "import math")
    await assert_output(engine, source, math.pi)
    await assert_output(engine, _plan("return math.pi", "import math"), math.pi,
                        agent="bystander-2")


async def test_benign_imports_work(engine: ad.Engine) -> None:
    source = _plan("return [math.sqrt(2) > 1.41, json.loads('[1]'), sqrt(9.0), "
                   "str(datetime.timedelta(days=1))]",
                   "import math, json, datetime\nfrom math import sqrt")
    await assert_output(engine, source, [True, [1], 3.0, "1 day, 0:00:00"])
