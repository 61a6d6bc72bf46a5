"""The RestrictedPython policy plans compile under.

RestrictedPython 9 refuses ``async def`` and ``await``. Plans need both, so this policy
allows them, and keeps refusing what would run unguarded: ``async for`` and ``async with``
(they call ``__aiter__``/``__anext__``/``__aenter__`` without a guard), async
comprehensions, and ``await`` outside a function (it would compile at top level).

On top of RestrictedPython's own rewriting (attribute, item, iteration, write guards) it
injects our budget:

- ``_tick_()`` at the start of every loop body and ``except`` handler, and before every
  lambda body (``lambda: _tick_() or body``);
- ``_enter_()`` / ``_exit_()`` around every function body (fuel and recursion depth);
- ``_fuel_iter_`` around every comprehension's iterable (one tick per item);
- ``_add_``, ``_mul_``, ``_pow_``, ``_lshift_`` and ``_mod_`` for the binary operators
  that can build huge objects in one C call;
- ``_render_`` around every f-string field, and ``_join_text_`` over the pieces of an
  f-string with several fields, so that text is measured before it is built;
- augmented assignment to an item (``counts[k] += 1``), which RestrictedPython forbids,
  is rewritten into guarded read, operator and write, evaluating target and key once.

It also allows two statements RestrictedPython refuses, after checking their names like
any other binding: ``nonlocal`` and ``match``. Patterns run in C without our guards, so
only the forms that touch nothing but data are accepted: literal, capture, wildcard,
sequence, mapping (literal keys), ``|``, ``as`` and guards, and class patterns of the
builtin data types in :data:`MATCH_CLASSES` with at most one positional sub-pattern
(which matches the subject itself). Their class name is rewritten to a hidden global
bound to the real type (``case str(s)`` -> ``case _match_str_(s)``): the plan's own
``str`` is a stand-in that ``match`` cannot use, and a plan cannot rebind an underscore
name, so a class pattern never reaches a class whose ``__match_args__`` would read
attributes unguarded. Keyword sub-patterns (``case int(real=r)``) and dotted value
patterns (``case math.pi``) would read attributes unguarded and are refused.

``return``, ``break`` and ``continue`` directly in a ``finally`` block are refused: they
would swallow whatever exception is in flight, the engine's own signals included.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from RestrictedPython.transformer import (
    IOPERATOR_TO_STR,
    RestrictingNodeTransformer,
    copy_locations,
)

from agents_durable.plans._constructs import (
    MATCH_CLASSES,
    finally_exits,
    literal_pattern_value,
    match_global,
)

__all__ = ["BINOP_GUARDS", "MAX_FORMAT_WIDTH", "PlanTransformer"]

#: The widest f-string field width or precision a plan may write (the validator's ADP308
#: says the same; this is the second line for code that reaches the compiler).
MAX_FORMAT_WIDTH = 1000

BINOP_GUARDS: dict[type[ast.operator], str] = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
    ast.Sub: "_sub_",
    ast.Div: "_truediv_",
    ast.FloorDiv: "_floordiv_",
}


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])


def _stmt(name: str, node: ast.AST) -> ast.Expr:
    stmt = ast.Expr(_call(name))
    copy_locations(stmt, node)
    ast.fix_missing_locations(stmt)
    return stmt


class PlanTransformer(RestrictingNodeTransformer):
    """RestrictingNodeTransformer plus async support and our budget hooks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._function_kinds: list[str] = []  # "async" | "sync" | "lambda"

    # -- names: `print` stays a plain name, bound per activation to our capture ----------

    def visit_Name(self, node: ast.Name) -> Any:
        if isinstance(node.ctx, ast.Load) and node.id in ("print", "printed"):
            self.used_names[node.id] = True
            return node
        return super().visit_Name(node)

    # -- functions -----------------------------------------------------------------------

    def _wrap_body(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        body = node.body
        docstring: list[ast.stmt] = []
        if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            docstring, body = body[:1], body[1:]
        wrapped = ast.Try(body=body or [ast.Pass()], handlers=[], orelse=[],
                          finalbody=[_stmt("_exit_", node)])
        copy_locations(wrapped, node)
        node.body = [*docstring, _stmt("_enter_", node), wrapped]
        ast.fix_missing_locations(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        self._function_kinds.append("sync")
        try:
            node = super().visit_FunctionDef(node)
        finally:
            self._function_kinds.pop()
        self._wrap_body(node)
        return node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> Any:
        self.check_name(node, node.name)
        self.check_function_argument_names(node)
        self._function_kinds.append("async")
        try:
            node = self.node_contents_visit(node)
        finally:
            self._function_kinds.pop()
        self._wrap_body(node)
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        self._function_kinds.append("lambda")
        try:
            node = super().visit_Lambda(node)
        finally:
            self._function_kinds.pop()
        node.body = ast.BoolOp(op=ast.Or(), values=[_call("_tick_"), node.body])
        copy_locations(node.body, node)
        ast.fix_missing_locations(node)
        return node

    def visit_Await(self, node: ast.Await) -> Any:
        if not self._function_kinds or self._function_kinds[-1] != "async":
            self.error(node, "`await` is only allowed inside an `async def` function.")
        return self.node_contents_visit(node)

    # -- loops, handlers, comprehensions -------------------------------------------------

    def visit_For(self, node: ast.For) -> Any:
        node = super().visit_For(node)
        node.body.insert(0, _stmt("_tick_", node))
        return node

    def visit_While(self, node: ast.While) -> Any:
        node = super().visit_While(node)
        node.body.insert(0, _stmt("_tick_", node))
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        node = super().visit_ExceptHandler(node)
        node.body.insert(0, _stmt("_tick_", node))
        return node

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        if node.is_async:
            self.error(node.target, "Async comprehensions are not allowed.")
        node = super().visit_comprehension(node)
        node.iter = _call("_fuel_iter_", node.iter)
        copy_locations(node.iter, node.iter.args[0])
        return node

    # -- f-strings -----------------------------------------------------------------------

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:
        """``f"{a}-{b}"`` -> ``_join_text_((f"{_render_(a)}", "-", f"{_render_(b)}"))``."""
        pieces: list[ast.expr] = []
        fields = 0
        for value in node.values:
            if not isinstance(value, ast.FormattedValue):
                pieces.append(value)
                continue
            fields += 1
            spec = value.format_spec
            parts = getattr(spec, "values", ()) if spec is not None else ()
            if any(isinstance(part, ast.FormattedValue) for part in parts):
                self.error(value, "A computed f-string format spec is not allowed.")
            elif any(int(number) > MAX_FORMAT_WIDTH for part in parts
                     if isinstance(part, ast.Constant) and isinstance(part.value, str)
                     for number in re.findall(r"\d+", part.value)):
                self.error(value, f"f-string widths above {MAX_FORMAT_WIDTH} are not allowed.")
            value.value = _call("_render_", self.visit(value.value))
            copy_locations(value.value, value)
            piece = ast.JoinedStr(values=[value])
            copy_locations(piece, value)
            pieces.append(piece)
        if fields < 2:
            node.values = [p.values[0] if isinstance(p, ast.JoinedStr) else p for p in pieces]
            return node
        new = _call("_join_text_", ast.Tuple(elts=pieces, ctx=ast.Load()))
        copy_locations(new, node)
        ast.fix_missing_locations(new)
        return new

    # -- operators -----------------------------------------------------------------------

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        new = _call(guard, node.left, node.right)
        copy_locations(new, node)
        return new

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        if not isinstance(node.target, ast.Subscript):
            return super().visit_AugAssign(node)
        # `obj[key] op= value` -> evaluate obj and key once, then read, combine, write.
        node = self.node_contents_visit(node)
        target = node.target
        assert isinstance(target, ast.Subscript)
        obj_name, key_name = self.gen_tmp_name(), self.gen_tmp_name()
        load_obj, load_key = ast.Name(obj_name, ast.Load()), ast.Name(key_name, ast.Load())
        store_obj = ast.Assign(targets=[ast.Name(obj_name, ast.Store())],
                               value=_unwrap_write(target.value))
        store_key = ast.Assign(targets=[ast.Name(key_name, ast.Store())], value=target.slice)
        combined = _call("_inplacevar_", ast.Constant(IOPERATOR_TO_STR[type(node.op)]),
                         _call("_getitem_", load_obj, load_key), node.value)
        write = ast.Assign(
            targets=[ast.Subscript(value=_call("_write_", ast.Name(obj_name, ast.Load())),
                                   slice=ast.Name(key_name, ast.Load()), ctx=ast.Store())],
            value=combined)
        statements = [store_obj, store_key, write]
        for statement in statements:
            copy_locations(statement, node)
            ast.fix_missing_locations(statement)
        return statements

    # -- star-unpacking: measured before the display or call is built ------------------

    def visit_List(self, node: ast.List) -> Any:
        return self._unpacking_display(node, "list")

    def visit_Tuple(self, node: ast.Tuple) -> Any:
        return self._unpacking_display(node, "tuple")

    def visit_Set(self, node: ast.Set) -> Any:
        return self._unpacking_display(node, "set")

    def visit_Dict(self, node: ast.Dict) -> Any:
        """``{**a, k: v, **b}`` -> ``_unpack_dict_("*-*", a, {k: v}, b)``."""
        node = self.node_contents_visit(node)
        if all(key is not None for key in node.keys):
            return node
        pattern = ""
        chunks: list[Any] = []
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                pattern += "*"
                chunks.append(value)
            elif pattern.endswith("-"):
                chunks[-1].keys.append(key)
                chunks[-1].values.append(value)
            else:
                pattern += "-"
                chunks.append(ast.Dict(keys=[key], values=[value]))
        new = _call("_unpack_dict_", ast.Constant(pattern), *chunks)
        copy_locations(new, node)
        ast.fix_missing_locations(new)
        return new

    def _unpacking_display(self, node: ast.List | ast.Tuple | ast.Set, kind: str) -> Any:
        """``[a, *xs, b]`` -> ``_unpack_display_("list", "-*-", (a,), xs, (b,))``: a star
        in a display is a C loop that would copy any number of items unmeasured."""
        node = self.node_contents_visit(node)
        if not isinstance(getattr(node, "ctx", ast.Load()), ast.Load) or not any(
                isinstance(elt, ast.Starred) for elt in node.elts):
            return node
        new = _call("_unpack_display_", ast.Constant(kind), *_star_chunks(node.elts))
        copy_locations(new, node)
        ast.fix_missing_locations(new)
        return new

    def visit_Call(self, node: ast.Call) -> Any:
        """``f(a, *xs)`` -> ``_apply_(f, *_unpack_display_("tuple", "-*", (a,), xs))``."""
        node = super().visit_Call(node)  # type: ignore[assignment]
        if not any(isinstance(arg, ast.Starred) for arg in node.args):
            return node
        first = 1 if isinstance(node.func, ast.Name) and node.func.id == "_apply_" else 0
        head, rest = node.args[:first], node.args[first:]
        packed = _call("_unpack_display_", ast.Constant("tuple"), *_star_chunks(rest))
        node.args = [*head, ast.Starred(value=packed, ctx=ast.Load())]
        ast.copy_location(node.args[-1], node)
        ast.fix_missing_locations(node)
        return node

    # -- refused outright ----------------------------------------------------------------

    def visit_AsyncFor(self, node: ast.AsyncFor) -> Any:
        self.error(node, "`async for` is not allowed in plans.")

    def visit_AsyncWith(self, node: ast.AsyncWith) -> Any:
        self.error(node, "`async with` is not allowed in plans.")

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "Class definitions are not allowed in plans.")

    def visit_Global(self, node: ast.Global) -> Any:
        self.error(node, "`global` is not allowed in plans.")

    def visit_Yield(self, node: ast.Yield) -> Any:
        self.error(node, "`yield` is not allowed in plans.")

    def visit_YieldFrom(self, node: ast.YieldFrom) -> Any:
        self.error(node, "`yield from` is not allowed in plans.")

    def visit_With(self, node: ast.With) -> Any:
        self.error(node, "`with` is not allowed in plans.")

    def visit_Try(self, node: ast.Try) -> Any:
        for handler in node.handlers:
            if handler.type is None:
                self.error(handler, "A bare `except:` is not allowed in plans.")
        for statement in finally_exits(node.finalbody):
            word = type(statement).__name__.lower()
            self.error(statement, f"`{word}` inside a `finally` block is not allowed in plans.")
        return super().visit_Try(node)

    # -- nonlocal and match: allowed, with their names checked ---------------------------

    def visit_Nonlocal(self, node: ast.Nonlocal) -> Any:
        for name in node.names:
            self.check_name(node, name)
        return node

    def visit_Match(self, node: ast.Match) -> Any:
        node = self.node_contents_visit(node)
        # A star capture (``case [first, *rest]``) or a mapping rest (``case {**rest}``)
        # copies the subject's items in C: the subject is paid for before matching.
        copies = any(isinstance(sub, ast.MatchStar) or (
            isinstance(sub, ast.MatchMapping) and sub.rest is not None)
            for case in node.cases for sub in ast.walk(case.pattern))
        if copies:
            subject = _call("_match_subject_", node.subject)
            copy_locations(subject, node.subject)
            node.subject = subject
            ast.fix_missing_locations(node)
        return node

    def visit_match_case(self, node: ast.match_case) -> Any:
        return self.node_contents_visit(node)

    def visit_MatchValue(self, node: ast.MatchValue) -> Any:
        # The value stays as written: the compiler accepts only literals and dotted names
        # here, and a dotted name would be looked up without the attribute guard.
        if not literal_pattern_value(node.value):
            self.error(node, "Only literal values are allowed in `case` patterns.")
        return node

    def visit_MatchSingleton(self, node: ast.MatchSingleton) -> Any:
        return node

    def visit_MatchSequence(self, node: ast.MatchSequence) -> Any:
        return self.node_contents_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> Any:
        self.check_name(node, node.name)
        return node

    def visit_MatchMapping(self, node: ast.MatchMapping) -> Any:
        if not all(literal_pattern_value(key) for key in node.keys):
            self.error(node, "Only literal keys are allowed in mapping patterns.")
        self.check_name(node, node.rest)
        node.patterns = [self.visit(pattern) for pattern in node.patterns]
        return node

    def visit_MatchAs(self, node: ast.MatchAs) -> Any:
        self.check_name(node, node.name)
        return self.node_contents_visit(node)

    def visit_MatchOr(self, node: ast.MatchOr) -> Any:
        return self.node_contents_visit(node)

    def visit_MatchClass(self, node: ast.MatchClass) -> Any:
        cls = node.cls
        if not (isinstance(cls, ast.Name) and cls.id in MATCH_CLASSES):
            self.error(node, "Class patterns may only name a builtin data type "
                             f"({', '.join(sorted(MATCH_CLASSES))}).")
        elif node.kwd_attrs or len(node.patterns) > 1:
            self.error(node, "A class pattern may only hold one positional sub-pattern.")
        else:
            node.cls = ast.Name(match_global(cls.id), ast.Load())
            copy_locations(node.cls, cls)
        node.patterns = [self.visit(pattern) for pattern in node.patterns]
        return node


def _star_chunks(elts: list[ast.expr]) -> list[ast.expr]:
    """The pattern constant and the chunks of ``_unpack_display_``'s arguments."""
    pattern = ""
    chunks: list[Any] = []
    for elt in elts:
        if isinstance(elt, ast.Starred):
            pattern += "*"
            chunks.append(elt.value)
        elif pattern.endswith("-"):
            chunks[-1].elts.append(elt)
        else:
            pattern += "-"
            chunks.append(ast.Tuple(elts=[elt], ctx=ast.Load()))
    return [ast.Constant(pattern), *chunks]


def _unwrap_write(node: ast.expr) -> ast.expr:
    """RestrictedPython already wrapped a Store subscript's value in ``_write_(...)``."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "_write_" and len(node.args) == 1):
        return node.args[0]
    return node
