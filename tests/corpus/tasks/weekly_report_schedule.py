"""Hard: weekly sleep_until Monday 08:00, seven daily reads per report, date labels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Email a weekly signups report for the next 3 weeks.

Every Monday at 08:00 UTC, starting with the first Monday 08:00 UTC after the run
starts, for 3 weeks:
1. For each of the 7 previous days (Monday to Sunday of the week that just ended),
   read `metrics.signups(date)` with date as "YYYY-MM-DD"; it returns an int.
2. Email the report with `email.send(to, subject, body)` to the `to` param. Subject
   exactly "Signups for the week of <date of that Monday a week ago as YYYY-MM-DD>".
   Body: one line per day, in date order, exactly "<Day> <DD> <Mon>: <n>" such as
   "Mon 29 Dec: 41" (English abbreviated weekday, two-digit day, English abbreviated
   month), then a last line "Total: <sum>". Lines joined with "\\n".
   Send each report at its Monday 08:00 UTC, not before.

Params (`event.payload`): {"to": "growth@example.com"}.
No events arrive.

Return: {"reports": [str, ...] (the ISO date "YYYY-MM-DD" of each sending Monday),
"total_signups": int (over all reports)}.
"""

PARAMS = {"to": "growth@example.com"}


def _signups(date: str) -> int:
    day = dt.date.fromisoformat(date)
    return (day.toordinal() * 7) % 40 + 10


def _first_report(state: dict[str, Any]) -> None:
    assert len(state["emails"]) == 1, state["emails"]


# Starts Thu 2026-01-01: reports on Mon Jan 5, 12 and 19 at 08:00 UTC.
SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "4 days"), ("probe", lambda s: _none(s)), ("advance", "9 hours"),
    ("probe", _first_report), ("advance", "15 days"),
]


def _none(state: dict[str, Any]) -> None:
    assert state["emails"] == [], "a report went out before Monday 08:00 UTC"


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(emails=[])

    def metrics_signups(date: str) -> int:
        """Number of new signups on a day (date as "YYYY-MM-DD", UTC)."""
        rec.call("metrics.signups", date)
        return _signups(date)

    def email_send(to: str, subject: str, body: str) -> dict:
        """Send an email. Returns {"message_id": str}."""
        rec.call("email.send", to)
        rec.add("emails", {"to": to, "subject": subject, "body": body})
        return {"message_id": rec.next_id("M")}

    return {"metrics.signups": metrics_signups, "email.send": email_send}, rec.state


def _expected_mails() -> list[dict[str, str]]:
    mails = []
    for monday in (dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 1, 19)):
        days = [monday - dt.timedelta(days=7 - i) for i in range(7)]
        lines = [f"{d.strftime('%a %d %b')}: {_signups(d.isoformat())}" for d in days]
        total = sum(_signups(d.isoformat()) for d in days)
        mails.append({"to": "growth@example.com",
                      "subject": f"Signups for the week of {days[0].isoformat()}",
                      "body": "\n".join([*lines, f"Total: {total}"])})
    return mails


def check(output: Any, state: dict[str, Any]) -> None:
    mails = _expected_mails()
    total = sum(int(m["body"].rsplit(": ", 1)[1]) for m in mails)
    assert output == {"reports": ["2026-01-05", "2026-01-12", "2026-01-19"],
                      "total_signups": total}, output
    assert state["emails"] == mails, state["emails"]
