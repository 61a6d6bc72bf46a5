"""Rich views: untrusted text stays text, and the views show what a user looks for."""

from __future__ import annotations

import re

import pytest

import agents_durable as ad
from agents_durable.display import (
    history_text,
    layout_timeline,
    render_diagnostics,
    render_history,
    render_instance_status,
    render_plan_source,
    render_plan_version,
    render_timeline_svg,
)
from agents_durable.testing import FakeClock
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio

SCRIPT = "<script>alert(1)</script>"

HOSTILE_PLAN = '''"""Says <script>alert(1)</script> in its description."""

NOTE = "<script>alert(1)</script>"


async def run(event, step):
    got = await step.do("<script>alert(1)</script>", lambda: event.payload["html"])
    print("<script>alert(1)</script>", got)
    reply = await step.wait_for_event("wait", type="<script>alert(1)</script>",
                                      timeout="1 hour")
    return {"echo": reply["payload"], "note": NOTE}
'''


def assert_escaped(html: str, view: str) -> None:
    assert "<script" not in html.lower(), view
    assert "&lt;script&gt;" in html, view


async def hostile_history(engine: ad.Engine, clock: FakeClock) -> ad.History:
    agent = engine.agent("agent-a")
    await agent.register_plan("hostile", HOSTILE_PLAN)
    instance = await agent.create("hostile", {"html": SCRIPT}, id="h1")
    await clock.settle()
    await instance.send_event(SCRIPT, {"html": SCRIPT})
    status = await instance.wait(timeout=20)
    assert status.status == "complete"
    return await instance.history()


async def test_untrusted_text_is_escaped_in_every_view(engine: ad.Engine,
                                                       clock: FakeClock) -> None:
    history = await hostile_history(engine, clock)
    version = await engine.agent("agent-a").get_plan("hostile")
    invalid = HOSTILE_PLAN + "\nimport os  # <script>\n"
    views = {
        "plan version": render_plan_version(version),
        "plan source with diagnostics": render_plan_source(invalid),
        # messages may quote source text, e.g. an imported name
        "diagnostics": render_diagnostics([*ad.validate_plan(invalid), ad.Diagnostic(
            code="ADP202", line=3, column=0, message=SCRIPT, hint=SCRIPT)]),
        "instance status": render_instance_status(history.status),
        "history": render_history(history),
        "timeline svg": render_timeline_svg(history),
        "model _repr_html_": history._repr_html_() + history.status._repr_html_()
        + version._repr_html_(),
    }
    for name, html in views.items():
        assert_escaped(html, name)
    page = views["history"]
    # the step name, the print line, the event type and the payload are all there, as text
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5


async def test_history_view_shows_attempts_events_and_prints(engine: ad.Engine,
                                                            clock: FakeClock) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "plans"))
    try:
        from gallery_tools import register_gallery_tools, reset
    finally:
        sys.path.remove(str(ROOT / "plans"))
    reset()
    agent = engine.agent("agent-a", tools=register_gallery_tools(engine.tools))
    await agent.register_plan("retry", (ROOT / "plans" / "retry_with_backoff.py").read_text())
    await agent.register_plan("order", (ROOT / "plans" / "order_followup.py").read_text())
    retried = await agent.create("retry", {"key": "rates", "fail_times": 2}, id="r1")
    order = await agent.create("order", {"order_id": 7}, id="o1")
    await clock.advance("1 day")
    await order.send_event("delivery-confirmed", {"note": "at the door"})
    await clock.advance("1 day")
    assert (await retried.wait(timeout=20)).status == "complete"
    assert (await order.wait(timeout=20)).status == "complete"

    timeline = layout_timeline(await retried.history())
    (fetch,) = timeline.rows
    assert len(fetch.bars) == 3  # three attempts
    assert [b.stroke for b in fetch.bars] == ["#c62828", "#c62828", "#2e7d32"]
    assert len(fetch.lines) == 2  # two backoff waits between them
    assert fetch.outcome == "done · 3 attempts · 15 s"
    assert [bar.x for bar in fetch.bars] == sorted(bar.x for bar in fetch.bars)

    history = await order.history()
    timeline = layout_timeline(history)
    assert [row.label for row in timeline.rows] == [
        "load order", "let the courier work", "customer reply", "events"]
    assert timeline.rows[1].outcome == "slept 2 days"
    assert timeline.rows[2].outcome.startswith("got 'delivery-confirmed'")
    assert len(timeline.connectors) == 1  # the event, to the wait that took it
    gap_labels = [label for _, label in timeline.gaps]
    assert gap_labels == ["1 day", "1 day"]
    html = render_history(history)
    assert "<svg" in html and "slept 2 days" in html and "at the door" in html
    text = history_text(history)
    assert "#1 sleep 'let the courier work' done · 2 days" in text
    assert "'delivery-confirmed' taken by step #2" in text


async def test_pending_steps_are_dashed_and_statuses_badged(engine: ad.Engine,
                                                            clock: FakeClock) -> None:
    agent = engine.agent("agent-a")
    await agent.register_plan("nap", 'async def run(event, step):\n'
                                     '    print("going to sleep")\n'
                                     '    await step.sleep("nap", "3 hours")\n'
                                     '    return 1\n')
    instance = await agent.create("nap", id="n1")
    await clock.settle()
    history = await instance.history()
    assert history.status.status == "waiting"
    rows = layout_timeline(history).rows
    assert rows[0].bars[0].dashed and rows[0].outcome.startswith("sleeping until")
    assert rows[1].label == "print" and len(rows[1].markers) == 1
    html = render_instance_status(history.status)
    assert 'class="badge s-waiting"' in html and "wakes" in html
    assert "going to sleep" in render_history(history)
    assert "instance 'n1': waiting" in str(history.status)


async def test_plan_views_mark_diagnostics_at_their_lines() -> None:
    source = ('import time\n\nasync def run(event, step):\n'
              '    await step.sleep("x", "3 fortnights")\n')
    html = render_plan_source(source)
    codes = [d.code for d in ad.validate_plan(source)]
    assert "ADP201" in codes and "ADP403" in codes
    for code in codes:
        assert code in html
    # each diagnostic row comes right after its source line
    rows = re.findall(r'<tr class="([^"]*)"><td class="ln">(\d*)</td>', html)
    first_diag = next(i for i, (cls, _) in enumerate(rows) if cls.startswith("diag"))
    assert rows[first_diag - 1] == ("has-error", "1")
    single = ad.validate_plan(source)[0]._repr_html_()
    assert single.count("<tr>") == 2  # the header and the one diagnostic


def test_short_durations_never_read_as_zero_and_axis_labels_do_not_repeat() -> None:
    from agents_durable.display._formatting import format_duration
    from agents_durable.display._timeline import _new_labels

    assert [format_duration(s) for s in (0, 0.00001, 0.0004, 0.0031, 0.0099, 0.015, 0.5,
                                         150)] == [
        "0 s", "<0.1 ms", "0.4 ms", "3.1 ms", "9.9 ms", "15 ms", "500 ms", "2 min 30 s"]
    assert _new_labels([(0, "0"), (10, "+10 ms"), (20, "+10 ms"), (30, "+12 ms"),
                        (40, "+10 ms")]) == [(0, "0"), (10, "+10 ms"), (30, "+12 ms"),
                                             (40, "+10 ms")]
