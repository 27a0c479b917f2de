"""Browser harness: Debian's chromium driven by Playwright against pytest-django's live server.

One browser per test session keeps the suite fast; each test gets a fresh context (cookies,
storage) and page. Data is built through the services, like the rest of the suite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Response,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from cartera.users.models import User
from e2e.helpers import SignIn, sign_in

# Once started, Playwright's sync API leaves its event loop registered as running in this thread
# for the rest of the session, so Django's async guard would refuse every later ORM call in the
# process (browser test or not, e.g. under pytest-xdist): switch the guard off process-wide.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CARTERA_CHROMIUM", "/usr/bin/chromium")
# Without the networking flags chromium keeps calling home and floods the closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Short waits: every page is local, so a missing element fails fast instead of hanging.
TIMEOUT_MS = 7_000


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """The Playwright driver, started once."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """One headless chromium for the whole session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh", pytrace=False)
    chromium = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def context(
    browser: Browser, live_server: LiveServer, transactional_db: None
) -> Iterator[BrowserContext]:
    """A fresh browser profile pointed at the live server, in English by default."""
    browser_context = browser.new_context(
        base_url=live_server.url,
        locale="en-US",
        timezone_id="Europe/Madrid",
        viewport={"width": 1280, "height": 860},
    )
    browser_context.set_default_timeout(TIMEOUT_MS)
    browser_context.set_default_navigation_timeout(TIMEOUT_MS)
    yield browser_context
    browser_context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that fails the test on uncaught script errors, 5xx answers or broken static files."""
    problems: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def on_response(response: Response) -> None:
        """Remember server errors and missing static files (a 404 page itself is fine)."""
        if response.status >= 500 or (response.status >= 400 and "/static/" in response.url):
            problems.append(f"answer {response.status}: {response.url}")

    def on_request_failed(request: Request) -> None:
        """Remember requests that got no answer (not those cancelled by a navigation)."""
        if request.failure != "net::ERR_ABORTED":
            problems.append(f"request failed ({request.failure}): {request.url}")

    tab.on("response", on_response)
    tab.on("requestfailed", on_request_failed)
    yield tab
    if problems:
        pytest.fail("the page misbehaved:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def sign_in_as(page: Page, live_server: LiveServer) -> SignIn:
    """Sign a persona in on this test's page (a session cookie, not the login form)."""

    def sign_in_user(user: User) -> None:
        """Give the browser a session for ``user``."""
        sign_in(page.context, user, live_server.url)

    return sign_in_user
