"""Switching the interface language, and keeping it across sign-out and sign-in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from cartera.core.testing import Book, fresh
from e2e.helpers import shot, sign_in_with_form

pytestmark = pytest.mark.browser

UNTRANSLATED = "no Spanish label: are the .po translations written and compiled (make install)?"


def switch_language(page: Page, code: str) -> None:
    """Pick a language in the navbar switcher (it submits itself and reloads the page)."""
    with page.expect_navigation():
        page.locator("#language-select").select_option(code)


def sign_out(page: Page) -> None:
    """Open the user menu and press its sign-out button."""
    page.locator("#user-menu").click()
    with page.expect_navigation():
        page.locator("form[action$='/logout/'] [type=submit]").click()


def test_switch_to_spanish_is_remembered_after_signing_out_and_in(
    page: Page, book: Book, request: pytest.FixtureRequest
) -> None:
    """Spanish chosen in the switcher changes the UI now and on the next sign-in."""
    sign_in_with_form(page, book.owner.email)
    page.goto("/accounts/")
    accounts_link = page.locator("nav a[accesskey=a]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(accounts_link).to_have_text("Accounts")
    shot(page, request, "english")

    switch_language(page, "es")

    expect(page).to_have_url(re.compile(r"/accounts/$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    shot(page, request, "spanish")
    expect(accounts_link, UNTRANSLATED).to_have_text("Cuentas")
    expect(page.locator("h1"), UNTRANSLATED).to_have_text("Cuentas")
    assert fresh(book.owner).language == "es"

    sign_out(page)
    expect(page).to_have_url(re.compile(r"/login/"))
    # The browser still asks for English: the saved preference must win after signing in.
    sign_in_with_form(page, book.owner.email)

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(accounts_link).to_have_text("Cuentas")
    shot(page, request, "spanish-home")

    switch_language(page, "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(accounts_link).to_have_text("Accounts")
    assert fresh(book.owner).language == "en"
