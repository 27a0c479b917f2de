"""Contacts: from the list to a contact's page, with their accounts and timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from cartera.core.testing import Book
from e2e.helpers import SignIn, open_tab, shot

pytestmark = pytest.mark.browser


def test_contact_list_leads_to_the_contact_page(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """The list shows the contact; their page links the account and shows the call logged."""
    sign_in_as(book.owner)
    page.goto("/contacts/")
    expect(page.locator("#main")).to_contain_text("jose@munoz.example")
    shot(page, request, "list")

    page.locator("#main").get_by_role("link", name=re.compile("José|Pérez")).first.click()

    expect(page).to_have_url(re.compile(rf"/contacts/{book.contact.pk}/$"))
    expect(page.locator("h1")).to_contain_text("José Pérez")
    account_link = page.locator(f"#main a[href$='/accounts/{book.account.pk}/']").first
    expect(account_link).to_contain_text("Muñoz Logística")
    expect(page.locator("#main")).to_contain_text("Kick-off call")
    shot(page, request, "detail")
    history = open_tab(page, "History")
    expect(history.locator("li").first).to_contain_text(book.owner.full_name)
    expect(history.locator("li").first).to_contain_text("created")
    shot(page, request, "history")


def test_outsider_gets_404_on_the_contact_page(page: Page, book: Book, sign_in_as: SignIn) -> None:
    """Another team's rep cannot open the contact, nor see it in their list."""
    sign_in_as(book.outsider)

    response = page.goto(f"/contacts/{book.contact.pk}/")

    assert response is not None
    assert response.status == 404
    page.goto("/contacts/")
    expect(page.locator("#main")).not_to_contain_text("Pérez")
