"""Steps shared by the browser flows: signing in, screenshots, same-document checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import BrowserContext, Locator, Page

from cartera.core.testing import PASSWORD
from cartera.users.models import User

#: Signs a persona in on the test's page (the ``sign_in_as`` fixture).
SignIn = Callable[[User], None]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"


def sign_in(context: BrowserContext, user: User, base_url: str) -> None:
    """Sign ``user`` in with a real session cookie, so flows don't depend on the login page."""
    client = Client()
    client.force_login(user)
    session_cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": session_cookie.key, "value": session_cookie.value, "url": base_url}]
    )


def fill_login_form(page: Page, email: str, password: str = PASSWORD) -> None:
    """Type an email and password into the login form on screen and submit it."""
    form = page.locator("form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=username]").fill(email)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("[type=submit]").click()


def sign_in_with_form(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login page, as a person would."""
    page.goto("/login/")
    fill_login_form(page, email, password)


def shot(page: Page, request: pytest.FixtureRequest, step: str) -> Path:
    """Save a full-page screenshot as ``artifacts/screenshots/<test>-<step>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^\w-]+", "_", request.node.name)
    path = SCREENSHOTS / f"{test_name}-{step}.png"
    # Finish Bootstrap fades (tabs, modals) so the picture shows what a person would see.
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def mark_document(page: Page) -> None:
    """Put a marker on the current document: it survives htmx swaps but not a page load."""
    page.evaluate("window.__carteraSamePage = true")


def same_document(page: Page) -> bool:
    """Whether the document marked by ``mark_document`` is still the one shown."""
    return bool(page.evaluate("window.__carteraSamePage === true"))


def open_tab(page: Page, name: str) -> Locator:
    """Click the tab labelled ``name`` and wait until its panel has faded in; return the panel."""
    tab = page.locator(".nav-tabs [role=tab], .nav-tabs .nav-link").filter(
        has_text=re.compile(rf"^\s*{re.escape(name)}")
    )
    tab.first.click()
    pane_id = tab.first.get_attribute("aria-controls") or ""
    page.wait_for_function(
        """id => {
            const pane = document.getElementById(id);
            const shown = pane && pane.classList.contains("show");
            return shown && getComputedStyle(pane).opacity === "1";
        }""",
        arg=pane_id,
    )
    return page.locator(f"[id='{pane_id}']")


def drag(page: Page, source: Locator, target: Locator) -> None:
    """Drag with real pointer events, in steps (SortableJS ignores synthetic drag events)."""
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = target.bounding_box()
    assert start and end
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] - 8)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2 + 10, start["y"] + 20, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 30, steps=15)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 40, steps=5)
    page.mouse.up()


def choose_kind(form: Locator, kind: str) -> None:
    """Pick the interaction kind, whether the form offers a select or a button group."""
    select = form.locator("select[name=kind]")
    if select.count():
        select.select_option(kind)
    else:
        form.locator(f"input[name=kind][value={kind}]").check(force=True)
