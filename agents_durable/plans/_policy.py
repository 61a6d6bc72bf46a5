"""The plan policy: what a plan may import, and the budgets it runs under.

A policy is data (a frozen pydantic model). ``PlanPolicy()`` is the default preset; a host
may widen or narrow it per agent with ``policy.model_copy(update=...)``. The policy's
``version`` goes into every plan's content hash, so a plan validated under one policy is
never silently run under another.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_MODULES", "REPLACEMENTS", "PlanPolicy"]

#: Module -> names the plan may use from it. Each module reaches the plan only through a
#: read-only facade that offers exactly these names (see ``_modules.py``).
DEFAULT_MODULES: MappingProxyType[str, frozenset[str]] = MappingProxyType({
    "math": frozenset({
        "pi", "e", "tau", "inf", "nan", "ceil", "floor", "trunc", "fabs", "sqrt", "isqrt",
        "exp", "log", "log2", "log10", "log1p", "pow", "sin", "cos", "tan", "asin", "acos",
        "atan", "atan2", "hypot", "degrees", "radians", "isfinite", "isinf", "isnan",
        "isclose", "gcd", "lcm", "factorial", "comb", "perm", "prod", "fsum", "copysign",
        "fmod", "modf", "remainder", "dist",
    }),
    "json": frozenset({"dumps", "loads", "JSONDecodeError"}),
    "datetime": frozenset({"date", "datetime", "time", "timedelta", "timezone", "MINYEAR",
                           "MAXYEAR", "UTC"}),
    "decimal": frozenset({"Decimal", "ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_DOWN",
                          "ROUND_UP", "ROUND_FLOOR", "ROUND_CEILING", "InvalidOperation"}),
    "fractions": frozenset({"Fraction"}),
    "statistics": frozenset({"mean", "median", "median_low", "median_high", "mode",
                             "multimode", "stdev", "pstdev", "variance", "pvariance",
                             "fmean", "quantiles", "StatisticsError"}),
    "itertools": frozenset({"accumulate", "chain", "combinations", "compress", "count",
                            "cycle", "dropwhile", "filterfalse", "groupby", "islice",
                            "pairwise", "permutations", "product", "repeat", "starmap",
                            "takewhile", "zip_longest", "batched"}),
    "collections": frozenset({"Counter", "defaultdict", "deque", "OrderedDict"}),
    "heapq": frozenset({"heappush", "heappop", "heapify", "heappushpop", "heapreplace",
                        "nlargest", "nsmallest", "merge"}),
    "bisect": frozenset({"bisect", "bisect_left", "bisect_right", "insort", "insort_left",
                         "insort_right"}),
    "textwrap": frozenset({"dedent", "indent", "shorten", "wrap", "fill"}),
})

#: What to use instead of a module a plan may not import. Shown in ADP201's hint.
REPLACEMENTS: MappingProxyType[str, str] = MappingProxyType({
    "time": "use `await step.now()` for the time and `await step.sleep(name, duration)` "
            "to wait",
    "random": "use `await step.random()`; it is recorded so replay sees the same number",
    "secrets": "use `await step.random()` or `await step.uuid()`",
    "uuid": "use `await step.uuid()`; it is recorded so replay sees the same id",
    "asyncio": "use `await step.gather(...)` for concurrency and `await step.sleep(...)` "
               "to wait",
    "anyio": "use `await step.gather(...)` for concurrency and `await step.sleep(...)` "
             "to wait",
    "trio": "use `await step.gather(...)` for concurrency and `await step.sleep(...)` "
            "to wait",
    "re": "use str methods (split, find, startswith, replace); regular expressions are "
          "not available because they can hang",
    "string": "use str methods and f-strings",
    "copy": "build a new dict or list (e.g. `dict(d)`, `list(xs)`); step results are "
            "already fresh copies",
    "functools": "write a small function or a loop instead",
    "operator": "use a lambda instead (e.g. `lambda x: x['key']`)",
})

#: Modules whose effects belong to the host: the hint asks for a tool.
HOST_EFFECT_MODULES: frozenset[str] = frozenset({
    "os", "sys", "subprocess", "socket", "requests", "httpx", "urllib", "urllib3", "http",
    "aiohttp", "pathlib", "shutil", "io", "sqlite3", "aiosqlite", "pickle", "shelve",
    "importlib", "builtins", "ctypes", "threading", "multiprocessing", "signal", "smtplib",
    "ftplib", "tempfile", "glob", "inspect", "gc", "code", "codeop", "marshal", "types",
    "logging", "platform", "ssl", "select", "mmap", "resource", "pty", "fcntl", "webbrowser",
})


class PlanPolicy(BaseModel):
    """Imports a plan may use and the budgets every activation runs under.

    Budgets are per activation (one replay of ``run``): ``fuel`` counts loop iterations,
    function calls, comprehension items and items consumed by builtins such as ``sorted``;
    ``max_*`` cap what the guarded operators may build; ``max_slice_seconds`` caps the CPU
    time plan code may run between two awaits of the engine.
    """

    model_config = ConfigDict(frozen=True)

    version: str = "1"
    modules: dict[str, frozenset[str]] = Field(default_factory=lambda: dict(DEFAULT_MODULES))
    fuel: int = 5_000_000
    max_int_bits: int = 4096 * 8
    max_sequence_length: int = 1_000_000
    max_string_length: int = 1_000_000
    max_depth: int = 200
    max_slice_seconds: float = 2.0
    max_print_bytes: int = 64 * 1024
    max_source_bytes: int = 256 * 1024
    max_ast_nodes: int = 50_000
    max_nesting: int = 60
    max_tool_calls: int = 1_000

    def fingerprint(self) -> str:
        """A stable text form of everything that changes how a plan validates or runs."""
        data: dict[str, Any] = self.model_dump()
        data["modules"] = {k: sorted(v) for k, v in sorted(self.modules.items())}
        return repr(sorted(data.items()))
