"""What the command modules share: exit codes, the one-line failure, and loading the
host's ``--tools`` (``agents-durable``'s own commands and those the server adds)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import agents_durable as ad

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_PIPE", "EXIT_USAGE", "CommandFailed",
           "load_tools", "register_tools"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_PIPE = 141  # 128 + SIGPIPE: the reader of the output closed it, as `| head` does


class CommandFailed(Exception):
    """An expected failure: print ``message`` as one line and exit with ``code``."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def load_tools(spec: str) -> Callable[[Any], Sequence[str]]:
    """The tool-registering callable named by ``module:function`` or ``file.py:function``.

    A module name is imported with the current directory on ``sys.path`` (so
    ``plans.gallery_tools:register_gallery_tools`` works from the repository root); a path
    ending in ``.py`` is loaded as a module named after the file.
    """
    module_name, sep, attribute = spec.rpartition(":")
    if not sep or not module_name or not attribute:
        raise CommandFailed(f"--tools {spec!r} must look like module:function or "
                            "path/to/file.py:function", EXIT_USAGE)
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise CommandFailed(f"--tools: no file {module_name!r}", EXIT_USAGE)
            name = path.stem
            loader_spec = importlib.util.spec_from_file_location(name, path)
            if loader_spec is None or loader_spec.loader is None:
                raise CommandFailed(f"--tools: cannot load {module_name!r}", EXIT_USAGE)
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[name] = module  # dataclasses and pickling look modules up by name
            loader_spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except CommandFailed:
        raise
    except Exception as exc:  # the host's module: any import error is a usage error here
        raise CommandFailed(f"--tools: importing {module_name!r} failed: "
                            f"{type(exc).__name__}: {exc}", EXIT_USAGE) from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise CommandFailed(f"--tools: {module_name!r} has no function {attribute!r}",
                            EXIT_USAGE)
    return function  # type: ignore[no-any-return]


def register_tools(engine: ad.Engine, spec: str | None) -> list[str]:
    """Load ``--tools`` and register them on ``engine.tools``; the names to grant."""
    if not spec:
        return []
    register = load_tools(spec)
    try:
        names = register(engine.tools)
    except Exception as exc:  # the host's function: report it, do not print its traceback
        raise CommandFailed(f"--tools {spec!r} raised {type(exc).__name__}: {exc}",
                            EXIT_USAGE) from None
    if not isinstance(names, (list, tuple, set, frozenset)) or not all(
            isinstance(n, str) for n in names):
        raise CommandFailed(f"--tools {spec!r} must return the list of tool names to grant",
                            EXIT_USAGE)
    return sorted(names)
