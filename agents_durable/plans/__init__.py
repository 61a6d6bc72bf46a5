"""Plan source -> validated, compiled, sandboxed plan version.

Decision log: how plans are isolated, and why
==============================================

Plans are Python written by AI agents, unreviewed, many agents to one engine process.

1. **RestrictedPython plus our own guards and budget (chosen).** RestrictedPython is a
   language gate: it rewrites attribute, item, iteration and write operations into calls
   of guard functions the host supplies. By itself it is not a sandbox (its docs say so;
   see SECURITY.md for the CVEs). The security lives in what we add: AST validation
   with diagnostics before anything compiles (``_validate.py``), a policy subclass that
   allows ``async def``/``await`` but refuses ``async for``/``async with``/async
   comprehensions/top-level ``await`` (they would run ``__aiter__``/``__aenter__``
   unguarded), attribute access by allow-list per type (``_guards.py``), fuel ticks
   injected into loops, function entries, handlers, lambdas and comprehensions, size
   checks on ``+ * ** << %`` and on builtins that consume iterables, a measured size
   before anything turns a value into text (``str``/``repr``/``print``/f-string
   fields/``%``/``json.dumps``/``run``'s output, ``_sizes.py``: an aliased list renders
   to far more than it holds), ``type()`` that returns only data types (never the
   metaclass, which would make classes whose ``__index__`` lies to the size checks),
   ``Decimal``/``Fraction`` constructors that refuse huge exponents plus a bounded
   decimal context per activation, fresh globals, builtins and module facades per
   activation (``_compile.instantiate``), and engine signals that derive from
   ``BaseException`` so plans cannot catch them. Known residual risks of in-process
   execution: single C calls the budget cannot see, such as ``==`` between two aliased
   structures (exponential) or a million-deep tuple hashed (a crash); both need the
   subprocess mode below.
2. **Plain ``exec`` with a trimmed ``__builtins__`` (rejected).** Every introspection
   walk (``().__class__.__mro__[1].__subclasses__()``) is open; there is nothing to hook.
3. **An AST interpreter written in Python (rejected for now).** Total control, but 20-100x
   slower than CPython, and a second Python semantics to keep right.
4. **Worker subprocesses with OS limits (planned, not default).** The only answer to
   C-level crashes no in-process guard can stop (a tuple nested a million deep, hashed).
   Activation code does not assume where it runs, so this mode can be added; meanwhile
   the engine quarantines an instance whose activation was in flight during two crashes.

Residual risk in inline mode (round two). Every builtin, method and facade call that
allocates in proportion to an argument is measured first (``_sizes.measure`` for text,
counts for ``split``/star-unpacking/``product``, the int bit cap on every int and
Fraction result), and what the host renders from a plan value goes through
``_sizes.safe_repr``/``safe_str``. What cannot be priced before the C call runs:

- ``==``/``<``/``in`` and ``hash`` of aliased structures (``a = [a, a]`` forty times, or
  the tuple version used as a dict key or set member): exponential, one C call, no hook;
- a tuple nested a million deep, hashed or compared: a C stack overflow (a crash);
- linear C work repeated in a loop: ``x in big_list``, ``big.count(x)``, ``a == b`` of
  long lists cost up to a million steps per fuel tick, so the CPU deadline is checked
  only every ~1024 ticks (a stall of seconds, not minutes);
- text measured as ``len + 2`` per string: ``repr``/``ascii`` of non-printable or non-ASCII
  text can be up to 10x that (a bounded factor over the string limit, not unbounded);
- ``datetime.timestamp()``/``astimezone()`` of naive datetimes read the host's time zone
  (not a cost, but a nondeterminism the validator does not flag).

5. **WebAssembly (CPython on wasmtime) (rejected for now).** Strong isolation, but tens
   of MB per interpreter and slow start; revisit for hostile multi-tenant deployments.

Pinned: restrictedpython 9.x. Checked against CVE-2023-37271 (generator frames: no
``yield``, no frame attributes), CVE-2023-41039 / CVE-2024-47532 (format strings: no
``str.format``/``format_map``/``format`` builtin, no ``string`` module, %-format widths
checked), CVE-2025-22153 (``except*`` refused), and guard-name shadowing through every
binding form (all ``_``-prefixed names are refused by validation, ADP206, and again by
RestrictedPython's compiler). ``tests/security`` holds an attack per path, each paired with
a benign twin.
"""

from __future__ import annotations

from agents_durable.plans._budget import Budget
from agents_durable.plans._compile import CompiledPlan, compile_plan, content_hash
from agents_durable.plans._diagnostics import CODES, Diagnostic, Severity
from agents_durable.plans._outline import OutlineEntry, extract_outline
from agents_durable.plans._policy import DEFAULT_MODULES, PlanPolicy
from agents_durable.plans._validate import validate_plan

__all__ = [
    "CODES",
    "DEFAULT_MODULES",
    "Budget",
    "CompiledPlan",
    "Diagnostic",
    "OutlineEntry",
    "PlanPolicy",
    "Severity",
    "compile_plan",
    "content_hash",
    "extract_outline",
    "validate_plan",
]
