"""The account page: quick-logging a call, editing and the history, access, the list filter."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cartera.accounts.models import Account
from cartera.accounts.services import create_account
from cartera.activities.models import Interaction
from cartera.core.testing import Book
from e2e.helpers import SignIn, choose_kind, mark_document, open_tab, same_document, shot

pytestmark = pytest.mark.browser


def test_quick_log_a_call_shows_on_the_timeline_without_reloading(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """The quick-log form posts with htmx and the new call heads the timeline."""
    # The kick-off call happened yesterday, so "now" must come above it.
    Interaction.objects.filter(pk=book.interaction.pk).update(
        occurred_at=timezone.now() - timedelta(days=1)
    )
    sign_in_as(book.teammate)
    page.goto(f"/accounts/{book.account.pk}/")
    timeline = open_tab(page, "Timeline")
    form = timeline.locator("form[data-quick-log]")
    expect(form).to_be_visible()
    expect(timeline).to_contain_text("Kick-off call")
    shot(page, request, "timeline")
    mark_document(page)

    choose_kind(form, "call")
    form.locator("[name=subject]").fill("Pricing call with José")
    with page.expect_response(re.compile(rf"/timeline/account/{book.account.pk}/log/")) as post:
        form.locator("[type=submit]").click()
    assert post.value.status == 200

    entries = page.locator("#account-timeline-entries > li")
    expect(entries.first).to_contain_text("Pricing call with José")
    expect(entries.nth(1)).to_contain_text("Kick-off call")
    assert same_document(page), "the page reloaded instead of swapping the timeline in"
    expect(form.locator("[name=subject]")).to_have_value("")
    logged = Interaction.objects.get(subject="Pricing call with José")
    assert (logged.kind, logged.author, logged.account_id) == (
        "call",
        book.teammate,
        book.account.pk,
    )
    shot(page, request, "logged")


def test_quick_log_without_subject_shows_the_error_in_place(
    page: Page, book: Book, sign_in_as: SignIn
) -> None:
    """A call without a subject is refused next to the field; nothing is saved or reloaded."""
    sign_in_as(book.owner)
    page.goto(f"/accounts/{book.account.pk}/")
    timeline = open_tab(page, "Timeline")
    form = timeline.locator("form[data-quick-log]")
    form.locator("[name=body]").fill("They want a discount")
    mark_document(page)

    with page.expect_response(re.compile(rf"/timeline/account/{book.account.pk}/log/")) as post:
        form.locator("[type=submit]").click()

    assert post.value.status == 422
    expect(form.locator(".invalid-feedback")).to_contain_text("required")
    # The details typed so far are kept, and the timeline below is still there.
    expect(form.locator("[name=body]")).to_have_value("They want a discount")
    expect(timeline.locator("#account-timeline-entries")).to_contain_text("Kick-off call")
    assert same_document(page)
    assert Interaction.objects.filter(account=book.account).count() == 1


def test_edit_city_then_history_shows_before_after_and_who(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """Changing the city is saved and the History tab says who changed it from what to what."""
    Account.objects.filter(pk=book.account.pk).update(city="Bilbao")
    # The teammate edits an account the owner created: the history must name the teammate.
    sign_in_as(book.teammate)
    page.goto(f"/accounts/{book.account.pk}/")
    shot(page, request, "detail")
    page.locator(f"#main a[href='/accounts/{book.account.pk}/edit/']").first.click()
    expect(page).to_have_url(re.compile(rf"/accounts/{book.account.pk}/edit/$"))
    shot(page, request, "form")

    page.get_by_label("City", exact=True).fill("Sevilla")
    with page.expect_navigation():
        page.locator("form.account-form [type=submit]").first.click()

    expect(page).to_have_url(re.compile(rf"/accounts/{book.account.pk}/$"))
    assert Account.objects.get(pk=book.account.pk).city == "Sevilla"
    history = open_tab(page, "History")
    newest = history.locator("#account-history > ol > li").first
    expect(newest).to_contain_text(book.teammate.full_name)
    expect(newest).to_contain_text(re.compile(r"City:\s*Bilbao\s*→\s*Sevilla"))
    shot(page, request, "history")


def test_outsider_gets_404_on_the_account_page(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """Another team's rep gets a styled 404 page, with nothing of the account on it."""
    sign_in_as(book.outsider)

    response = page.goto(f"/accounts/{book.account.pk}/")

    assert response is not None
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("Muñoz")
    expect(page.locator("nav")).to_contain_text(book.outsider.get_short_name())
    shot(page, request, "404")


def test_status_filter_updates_the_list_and_stays_in_the_url(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """Picking a status narrows the table in place; the URL keeps it, so a reload keeps it."""
    create_account(
        actor=book.owner, data={"name": "Prospecto Andaluz", "country": "ES", "status": "prospect"}
    )
    sign_in_as(book.owner)
    page.goto("/accounts/")
    results = page.locator("#account-results")
    expect(results).to_contain_text("Prospecto Andaluz")
    expect(results).to_contain_text("Muñoz Logística")
    shot(page, request, "list")
    mark_document(page)

    page.locator("#account-filters").get_by_text("Active", exact=True).click()

    expect(page).to_have_url(re.compile(r"[?&]status=active"))
    expect(results).not_to_contain_text("Prospecto Andaluz")
    expect(results).to_contain_text("Muñoz Logística")
    assert same_document(page), "filtering reloaded the page instead of swapping the table"
    shot(page, request, "filtered")

    page.reload()
    expect(page.locator("#account-results")).not_to_contain_text("Prospecto Andaluz")
    expect(page.locator("#status-active")).to_be_checked()


def test_question_mark_opens_the_shortcut_help(page: Page, book: Book, sign_in_as: SignIn) -> None:
    """ "?" opens the keyboard shortcut help; Escape closes it."""
    sign_in_as(book.owner)
    page.goto("/accounts/")
    help_dialog = page.locator("#shortcut-help")
    expect(help_dialog).to_be_hidden()

    page.locator("body").press("?")

    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Keyboard shortcuts")
    # Bootstrap ignores Escape until the fade-in ends and the dialog holds the focus.
    expect(help_dialog).to_be_focused()
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()


def test_l_shortcut_jumps_to_the_quick_log_subject(
    page: Page, book: Book, sign_in_as: SignIn
) -> None:
    """ "l" on the account page puts the cursor in the quick-log subject, whatever tab is open."""
    sign_in_as(book.owner)
    page.goto(f"/accounts/{book.account.pk}/")
    subject = page.locator("form[data-quick-log] [name=subject]")
    expect(subject).to_be_attached()

    page.locator("body").press("l")

    expect(subject).to_be_visible()
    expect(subject).to_be_focused()
