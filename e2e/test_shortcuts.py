"""Keyboard shortcuts of the app shell: "n" for a new record, "g" then a letter to go places."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from cartera.core.testing import Book
from e2e.helpers import SignIn

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("list_path", "form_path"), [("/accounts/", "/accounts/new/"), ("/contacts/", "/contacts/new/")]
)
def test_n_on_a_list_opens_the_new_record_form(
    page: Page, book: Book, sign_in_as: SignIn, list_path: str, form_path: str
) -> None:
    """ "n" on a list page opens its creation form."""
    sign_in_as(book.owner)
    page.goto(list_path)

    page.locator("body").press("n")

    expect(page).to_have_url(re.compile(rf"{re.escape(form_path)}$"))
    expect(page.locator("#main form[method=post]").first).to_be_visible()


def test_g_then_c_goes_to_contacts(page: Page, book: Book, sign_in_as: SignIn) -> None:
    """ "g" then "c" goes to the contacts list from anywhere."""
    sign_in_as(book.owner)
    page.goto("/accounts/")

    page.locator("body").press("g")
    page.locator("body").press("c")

    expect(page).to_have_url(re.compile(r"/contacts/$"))


def test_shortcuts_do_not_fire_while_typing(page: Page, book: Book, sign_in_as: SignIn) -> None:
    """Typing "n" in the list's search box types it; it does not open a new record."""
    sign_in_as(book.owner)
    page.goto("/accounts/")
    search = page.locator("#filter-q")

    search.press_sequentially("ana")

    expect(search).to_have_value("ana")
    expect(page).to_have_url(re.compile(r"/accounts/(\?.*)?$"))
