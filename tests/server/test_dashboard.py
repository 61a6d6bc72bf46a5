"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright.

Set ``AGENTS_DURABLE_SHOTS=/some/dir`` to keep screenshots of the main pages.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import Server
from tests.server.plans import APPROVAL

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)",
                allow_module_level=True)

A = "/v1/agents/alice"

# one server (and one browser) per module: under ``pytest -n 4 --dist loadgroup`` the
# module's tests stay on one worker instead of each worker starting its own
pytestmark = pytest.mark.xdist_group("server-dashboard")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SQLite only: the browser tests check the pages, which read the store through the
    same API the PostgreSQL runs of test_api.py cover; twice would double their time."""
    return str(tmp_path_factory.mktemp("dashboard") / "server.db")
EVIL = "<script>window.__pwned = 1</script>"


def _wait_status(client: httpx.Client, id: str, wanted: str) -> None:
    deadline = time.monotonic() + 20
    while client.get(f"{A}/instances/{id}").json()["status"] != wanted:
        assert time.monotonic() < deadline, f"{id} never became {wanted}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def alice(server: Server) -> Iterator[httpx.Client]:
    with server.client("alice") as client:
        assert client.post(f"{A}/plans", json={"name": "approval", "source": APPROVAL}
                           ).status_code == 201
        for id in ("d-1", "d-2", "d-3"):
            client.post(f"{A}/instances", json={"plan": "approval", "id": id,
                                                "params": {"who": EVIL}})
        for id in ("d-1", "d-2", "d-3"):
            _wait_status(client, id, "waiting")
        yield client


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("AGENTS_DURABLE_SHOTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def page(server: Server, alice: httpx.Client) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url + "/ui/")
        assert page.url.endswith("/ui/login")
        page.fill("input[name=token]", server.tokens["operator"])
        page.click("button:has-text('Sign in')")
        page.wait_for_url("**/ui/")
        yield page
        assert errors == []
        context.close()
        browser.close()


def test_pages_show_agents_plans_and_instances(page: Any, server: Server, shots: Path) -> None:
    page.goto(server.url + "/ui/")
    assert page.locator("h1").inner_text() == "Agents"
    assert page.locator("table.grid").inner_text().count("alice") == 1
    page.screenshot(path=shots / "agents.png", full_page=True)
    page.click("table.grid a:has-text('alice')")
    page.wait_for_url("**/ui/agents/alice")
    assert "d-1" in page.locator("body").inner_text()
    page.screenshot(path=shots / "agent.png", full_page=True)
    page.select_option("select[name=status]", "complete")
    page.click("button:has-text('Show')")
    assert "No instances with status complete" in page.locator("body").inner_text()
    page.fill("input[name=id]", "d-2")
    page.select_option("select[name=status]", "")
    page.click("button:has-text('Show')")
    page.wait_for_url("**/instances/d-2")
    page.goto(server.url + "/ui/agents/alice/plans/approval")
    source = page.locator(".src").inner_text()
    assert 'wait_for_event("approval"' in source
    page.screenshot(path=shots / "plan.png", full_page=True)


def test_pause_and_resume_with_the_buttons(page: Any, server: Server) -> None:
    page.goto(server.url + "/ui/agents/alice/instances/d-1")
    page.click("#pause")
    page.wait_for_selector("#resume")
    assert page.locator("#live .badge").first.inner_text() == "paused"
    assert "pause requested" in page.locator(".notice").inner_text()
    page.click("#resume")
    page.wait_for_selector("#pause")
    assert page.locator("#live .badge").first.inner_text() in ("queued", "running", "waiting")


def test_send_an_event_from_the_form_and_scripts_stay_text(page: Any, server: Server,
                                                           shots: Path) -> None:
    page.goto(server.url + "/ui/agents/alice/instances/d-1")
    page.fill("#event-type", "approve")
    page.fill("#event-payload", '{"note": "<script>window.__pwned = 2</script>"}')
    page.click("#send-event")
    page.wait_for_selector("#live .badge.s-complete")
    live = page.locator("#live").inner_text()
    assert "hello " + EVIL in live  # the params' script, shown as text
    assert "<script>window.__pwned = 2</script>" in live  # and the payload's
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#live script").count() == 0
    page.screenshot(path=shots / "instance.png", full_page=True)


def test_the_timeline_updates_while_the_page_is_open(page: Any, server: Server,
                                                     alice: httpx.Client) -> None:
    page.goto(server.url + "/ui/agents/alice/instances/d-2")
    assert page.locator("#live .badge").first.inner_text() == "waiting"
    assert alice.post(f"{A}/instances/d-2/events/approve", json="from outside"
                      ).status_code == 202
    page.wait_for_selector("#live .badge.s-complete")  # no click: the page followed it
    assert "from outside" in page.locator("#live").inner_text()


def test_terminate_asks_for_confirmation(page: Any, server: Server,
                                         alice: httpx.Client) -> None:
    page.goto(server.url + "/ui/agents/alice/instances/d-3")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#terminate")
    page.wait_for_timeout(300)
    assert alice.get(f"{A}/instances/d-3").json()["status"] == "waiting"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#terminate")
    page.wait_for_selector("#live .badge.s-terminated")
    assert alice.get(f"{A}/instances/d-3").json()["status"] == "terminated"


def test_a_form_post_without_its_csrf_token_is_refused(page: Any, server: Server,
                                                       alice: httpx.Client) -> None:
    alice.post(f"{A}/instances", json={"plan": "approval", "id": "d-4"})
    _wait_status(alice, "d-4", "waiting")
    answer = page.request.post(server.url + "/ui/agents/alice/instances/d-4/terminate",
                               form={"csrf": "forged"}, max_redirects=0)
    assert answer.status == 403
    assert "csrf_failed" in answer.text()
    assert alice.get(f"{A}/instances/d-4").json()["status"] == "waiting"
