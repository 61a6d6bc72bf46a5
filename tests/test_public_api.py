"""``__all__`` is the public API: every name in it exists, and nothing public is missing."""

from __future__ import annotations

import importlib
import inspect

import pytest

import agents_durable as ad

PACKAGES = ["agents_durable", "agents_durable.engine", "agents_durable.plans",
            "agents_durable.store", "agents_durable.errors", "agents_durable.testing",
            "agents_durable.display", "agents_durable.mcp", "agents_durable.server"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist_and_are_unique(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), "duplicate names in __all__"
    missing = [attr for attr in exported if not hasattr(module, attr)]
    assert missing == []


@pytest.mark.parametrize("name", PACKAGES)
def test_public_classes_and_functions_are_exported(name: str) -> None:
    """A public class or function defined in (or re-exported by) a package is in __all__."""
    module = importlib.import_module(name)
    public = {
        attr for attr, value in vars(module).items()
        if not attr.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
        and (getattr(value, "__module__", "") or "").startswith("agents_durable")
    }
    assert sorted(public - set(module.__all__)) == []


def test_every_error_is_exported_at_top_level() -> None:
    import agents_durable.errors as errors

    for attr in errors.__all__:
        assert getattr(ad, attr) is getattr(errors, attr)


def test_error_tree_is_drawn_in_the_docstring() -> None:
    import agents_durable.errors as errors

    for attr in errors.__all__:
        assert attr in (errors.__doc__ or ""), f"{attr} is missing from the drawn tree"


def test_host_errors_share_one_root() -> None:
    host_errors = [getattr(ad, n) for n in ad.__all__ if isinstance(getattr(ad, n), type)
                   and issubclass(getattr(ad, n), Exception)]
    plan_visible = {ad.NonRetryableError, ad.StepFailed, ad.EventTimeout}
    for error in host_errors:
        if error not in plan_visible:
            assert issubclass(error, ad.AgentsDurableError), error
