"""Hard: collect many events of one type until a deadline or a target; dedupe; aggregate."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Collect responses to a team survey, then publish the results.

Responses arrive as events "survey-response" with payload {"survey_id": str,
"respondent": str, "score": int (1-5), "comment": str}; only this survey's responses
count, and only the first response of each respondent.

Keep collecting until `target` distinct respondents have answered or until 3 days after
the run started (a total deadline), whichever comes first. Then publish once with
`report.publish(title, lines)`: title exactly "Survey <survey_id> results", lines any
text you like.

Params (`event.payload`): {"survey_id": "Q4-pulse", "target": 6}.

Return: {"survey_id": str, "responses": int, "mean": float (mean score, rounded to 2
decimals with round()) or null if there are none, "distribution": {"1": int, "2": int,
"3": int, "4": int, "5": int} (count per score, every key present), "comments":
[str, ...] (non-empty comments of counted responses, in arrival order)}.
"""

PARAMS = {"survey_id": "Q4-pulse", "target": 6}


def _r(who: str, score: int, comment: str = "", survey: str = "Q4-pulse") -> tuple[Any, ...]:
    return ("event", "survey-response", {"survey_id": survey, "respondent": who,
                                         "score": score, "comment": comment})


SCENARIO: list[tuple[Any, ...]] = [
    ("advance", "3 hours"), _r("ann", 4, "good pace"),
    ("advance", "1 day"), _r("ben", 5), _r("ann", 1, "changed my mind"),
    _r("cat", 3, "too many meetings"), _r("dan", 2, survey="Q3-pulse"),
    ("advance", "1 day"), _r("dan", 4),
    ("advance", "20 hours"), ("expect_status", "waiting"),
    ("advance", "5 hours"), _r("eve", 5, "late"),
    ("advance", "1 day"),
]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(reports=[])

    def report_publish(title: str, lines: list) -> dict:
        """Publish a report to the team wiki. Returns {"url": str}."""
        rec.call("report.publish", title)
        rec.add("reports", title)
        return {"url": "https://wiki.example/survey"}

    return {"report.publish": report_publish}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"survey_id": "Q4-pulse", "responses": 4, "mean": 4.0,
                      "distribution": {"1": 0, "2": 0, "3": 1, "4": 2, "5": 1},
                      "comments": ["good pace", "too many meetings"]}, output
    assert state["reports"] == ["Survey Q4-pulse results"]
