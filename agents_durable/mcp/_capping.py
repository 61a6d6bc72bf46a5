"""Keep a tool result or resource small enough for a model's context, and say what was cut.

Step results, event payloads, plan outputs and printed lines are whatever a plan made them,
so one ``plan_history`` can hold megabytes. :func:`cap_result` shrinks a result's JSON to a
character budget in three passes, each only if the previous one was not enough:

1. free-form values (``output``, ``result``, ``payload``) longer than a per-value share
   become a short preview string (these fields accept any JSON, so the result still fits
   its schema);
2. the longest lists are halved, keeping the end of journals (``steps``, ``events``,
   ``logs``: what happened last is what a model usually needs) and the start of the rest;
3. any remaining long string is shortened.

It returns the capped data and a note naming every cut, or ``None`` when nothing was cut.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DEFAULT_MAX_RESULT_CHARS", "cap_result"]

#: The default budget for one tool result or resource, in characters of JSON.
DEFAULT_MAX_RESULT_CHARS = 20_000

_FREE_FORM = frozenset({"output", "result", "payload"})
_KEEP_LAST = frozenset({"steps", "events", "logs", "attempts"})
_PREVIEW = 200


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str))


def _preview(value: Any, size: int) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return f"[cut: {size:,} characters of JSON; it starts: {text[:_PREVIEW]}]"


def _walk(value: Any, path: str, visit: Any) -> Any:
    """Rebuild ``value`` bottom-up, letting ``visit(key, path, child)`` replace children."""
    if isinstance(value, dict):
        return {key: visit(key, f"{path}.{key}" if path else key,
                           _walk(child, f"{path}.{key}" if path else key, visit))
                for key, child in value.items()}
    if isinstance(value, list):
        return [visit(None, f"{path}[{index}]", _walk(child, f"{path}[{index}]", visit))
                for index, child in enumerate(value)]
    return value


def _replace_free_form(data: Any, share: int, cuts: list[str]) -> Any:
    def visit(key: str | None, path: str, child: Any) -> Any:
        if key in _FREE_FORM and child is not None:
            size = _size(child)
            if size > share:
                cuts.append(path)
                return _preview(child, size)
        return child

    return _walk(data, "", visit)


def _longest_list(data: Any, path: str = "") -> tuple[int, str, list[Any] | None, str | None]:
    """(length, path, the list, its key) of the longest list in ``data``."""
    best: tuple[int, str, list[Any] | None, str | None] = (0, "", None, None)
    if isinstance(data, dict):
        for key, child in data.items():
            where = f"{path}.{key}" if path else key
            if isinstance(child, list) and len(child) > best[0]:
                best = (len(child), where, child, key)
            inner = _longest_list(child, where)
            if inner[0] > best[0]:
                best = inner
    elif isinstance(data, list):
        for index, child in enumerate(data):
            inner = _longest_list(child, f"{path}[{index}]")
            if inner[0] > best[0]:
                best = inner
    return best


def _halve_lists(data: Any, limit: int, notes: dict[str, tuple[int, int]]) -> Any:
    """Halve the longest list until ``data`` fits ``limit`` (or no list has two items)."""
    while _size(data) > limit:
        length, path, found, key = _longest_list(data)
        if found is None or length < 2:
            break
        keep = length // 2
        total = notes.get(path, (0, length))[1]
        kept = found[-keep:] if key in _KEEP_LAST else found[:keep]
        found[:] = kept
        notes[path] = (keep, total)
    return data


def _shorten_strings(data: Any, share: int, cuts: list[str]) -> Any:
    def visit(key: str | None, path: str, child: Any) -> Any:
        if isinstance(child, str) and len(child) > share:
            cuts.append(path)
            return f"{child[:share]} [cut: {len(child):,} characters]"
        return child

    return _walk(data, "", visit)


def cap_result(data: dict[str, Any], limit: int = DEFAULT_MAX_RESULT_CHARS
               ) -> tuple[dict[str, Any], str | None]:
    """``data`` cut to about ``limit`` characters of JSON, and a note saying what was cut."""
    if _size(data) <= limit:
        return data, None
    share = max(_PREVIEW, limit // 10)
    replaced: list[str] = []
    capped: dict[str, Any] = _replace_free_form(data, share, replaced)
    lists: dict[str, tuple[int, int]] = {}
    capped = _halve_lists(capped, limit, lists)
    shortened: list[str] = []
    if _size(capped) > limit:
        capped = _shorten_strings(capped, share, shortened)
    parts = [f"This result was cut to fit {limit:,} characters."]
    if replaced:
        parts.append(f"Values over {share:,} characters became a preview: "
                     f"{_list_paths(replaced)}.")
    for path, (kept, total) in lists.items():
        which = "last" if path.rpartition(".")[2].partition("[")[0] in _KEEP_LAST else "first"
        parts.append(f"{path}: only the {which} {kept:,} of {total:,} are shown.")
    if shortened:
        parts.append(f"Long text was shortened: {_list_paths(shortened)}.")
    return capped, " ".join(parts)


def _list_paths(paths: list[str], most: int = 8) -> str:
    shown = ", ".join(paths[:most])
    return shown + (f" and {len(paths) - most:,} more" if len(paths) > most else "")
