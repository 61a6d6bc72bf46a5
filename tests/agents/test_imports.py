"""Frameworks are imported only by their adapters, and a missing one says what to install."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import pytest

FRAMEWORK_MODULES = ("pydantic_ai", "agents", "langchain_core", "openai", "mcp")


def test_importing_the_package_imports_no_framework() -> None:
    code = ("import sys, agents_durable, agents_durable.agents; "
            f"print([m for m in {FRAMEWORK_MODULES!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(("adapter", "framework", "extra"), [
    ("agents_durable.agents.pydantic_ai", "pydantic_ai", "pydantic-ai"),
    ("agents_durable.agents.openai_agents", "agents", "openai-agents"),
    ("agents_durable.agents.langchain", "langchain_core", "langchain"),
    ("agents_durable.mcp", "mcp", "mcp"),
])
def test_missing_framework_names_the_extra(monkeypatch: pytest.MonkeyPatch, adapter: str,
                                           framework: str, extra: str) -> None:
    for name in [m for m in sys.modules if m == adapter or m.startswith(adapter + ".")]:
        monkeypatch.delitem(sys.modules, name)
    # None in sys.modules makes an import fail, for the package and every cached submodule.
    for name in [m for m in sys.modules if m == framework or m.startswith(framework + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, framework, None)
    with pytest.raises(ImportError, match=re.escape(f"pip install 'agents-durable[{extra}]'")):
        importlib.import_module(adapter)
