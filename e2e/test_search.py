"""Finding an account with the global search in the navbar."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from cartera.core.testing import Book
from e2e.helpers import SignIn, shot

pytestmark = pytest.mark.browser


def test_slash_then_accent_free_query_then_keyboard_opens_the_account(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """ "/" focuses the search, "munoz" finds "Muñoz Logística", arrow + Enter opens it."""
    sign_in_as(book.owner)
    page.goto("/")
    search = page.locator("#global-search")

    page.locator("body").press("/")
    expect(search).to_be_focused()
    page.keyboard.type("munoz")

    results = page.locator("#global-search-results")
    match = results.locator("a", has_text="Muñoz Logística")
    expect(match).to_be_visible()
    shot(page, request, "dropdown")
    page.keyboard.press("ArrowDown")
    expect(results.locator("a").first).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/accounts/{book.account.pk}/$"))
    expect(page.locator("h1")).to_contain_text("Muñoz Logística")


def test_search_result_opens_on_click(page: Page, book: Book, sign_in_as: SignIn) -> None:
    """Clicking a result in the dropdown opens the account page."""
    sign_in_as(book.owner)
    page.goto("/")
    page.locator("#global-search").fill("logistica")

    page.locator("#global-search-results a", has_text="Muñoz Logística").click()

    expect(page).to_have_url(re.compile(rf"/accounts/{book.account.pk}/$"))


def test_outsider_search_does_not_reveal_the_account(
    page: Page, book: Book, sign_in_as: SignIn
) -> None:
    """Another team's rep searching for the name sees no result for it."""
    sign_in_as(book.outsider)
    page.goto("/")
    with page.expect_response(re.compile(r"/search/\?q=munoz")) as answer:
        page.locator("#global-search").fill("munoz")
    assert answer.value.ok

    expect(page.locator("#global-search-results")).not_to_contain_text("Muñoz")
