"""Signing in with email and password, and what an anonymous visitor gets."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from cartera.core.testing import Book
from e2e.helpers import fill_login_form, shot, sign_in_with_form

pytestmark = pytest.mark.browser


def test_owner_signs_in_with_email_and_password(
    page: Page, book: Book, request: pytest.FixtureRequest
) -> None:
    """The login form takes an email and a password and lands on the home page, styled."""
    page.goto("/login/")
    expect(page.locator("input[name=password]")).to_be_visible()
    # The shell's front-end packages loaded: htmx runs and Bootstrap styles the form.
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("typeof window.bootstrap") == "object"
    submit = (
        page.locator("form")
        .filter(has=page.locator("input[name=password]"))
        .locator("[type=submit]")
    )
    assert submit.evaluate("element => getComputedStyle(element).borderRadius") != "0px"
    shot(page, request, "login")

    sign_in_with_form(page, book.owner.email)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("nav")).to_contain_text(book.owner.get_short_name())
    expect(page.locator("main")).to_contain_text(book.account.name)
    shot(page, request, "home")


def test_wrong_password_keeps_the_visitor_out(page: Page, book: Book) -> None:
    """A wrong password shows an error on the login page and signs nobody in."""
    sign_in_with_form(page, book.owner.email, password="not-the-password")

    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.locator(".alert, .invalid-feedback, .errorlist").first).to_be_visible()
    page.goto("/accounts/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/accounts/"))


def test_anonymous_visitor_is_sent_to_login_and_back(page: Page, book: Book) -> None:
    """After signing in from a redirect, the visitor lands on the page they asked for."""
    page.goto(f"/accounts/{book.account.pk}/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))

    fill_login_form(page, book.owner.email)

    expect(page).to_have_url(re.compile(rf"/accounts/{book.account.pk}/$"))
    expect(page.locator("h1")).to_contain_text(book.account.name)
