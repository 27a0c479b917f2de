"""A quote from a deal: a discount that needs approval, the manager approves, the rep sends it,
and the client accepts through the public link in a fresh browser (no login): the deal is won."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from cartera.core.testing import Book
from cartera.quotes.models import Quote, QuoteStatus
from cartera.sales.models import Opportunity, StageKind
from cartera.sales.services import create_opportunity, ensure_default_pipeline
from e2e.helpers import SignIn, shot

pytestmark = pytest.mark.browser


def test_quote_with_approval_sent_and_accepted_wins_the_deal(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    book: Book,
    sign_in_as: SignIn,
    settings: Any,
    request: pytest.FixtureRequest,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # A long flow on a shared machine: allow slow answers (each step is still checked).
    page.set_default_timeout(20_000)
    page.set_default_navigation_timeout(30_000)
    ensure_default_pipeline()
    deal = create_opportunity(
        actor=book.owner,
        data={
            "name": "Fleet tracking",
            "account": book.account,
            "currency": "EUR",
            "amount": Decimal("10000"),
        },
    )

    # The rep builds the quote on the deal.
    sign_in_as(book.owner)
    page.goto(f"/quotes/new/?opportunity={deal.pk}")
    page.get_by_role("button", name="Create quote").click()
    expect(page.locator("h1")).to_contain_text("Q-")
    form = page.locator("#add-line-form")
    form.locator("[name=description]").fill("Tracking licences")
    form.locator("[name=quantity]").fill("10")
    form.locator("[name=unit_price]").fill("1000")
    form.locator("[name=discount_percent]").fill("25")
    form.get_by_role("button", name="Add").click()
    # htmx swaps in the lines and the live totals
    expect(page.locator("[data-total=subtotal]")).to_have_text("€7,500.00")
    expect(page.locator("[data-total=effective]")).to_contain_text("needs approval")
    # changing the quantity updates the totals in place
    quantity = page.locator("tr[data-line] [name=quantity]")
    quantity.fill("8")
    quantity.press("Tab")
    expect(page.locator("[data-total=subtotal]")).to_have_text("€6,000.00")
    shot(page, request, "builder")
    assert not page.locator("#send-form").count()
    page.get_by_role("button", name="Request approval").click()
    expect(page.locator("h1")).to_contain_text("Pending approval")
    quote = Quote.objects.get(opportunity=deal)

    # The manager approves it.
    page.context.clear_cookies()
    sign_in_as(book.manager)
    page.goto(f"/quotes/{quote.pk}/")
    page.locator("#decide-comment").fill("Fine for a fleet this size")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1")).to_contain_text("Approved")

    # The rep sends it to the client.
    page.context.clear_cookies()
    sign_in_as(book.owner)
    page.goto(f"/quotes/{quote.pk}/")
    send = page.locator("#send-form")
    send.locator("[name=recipient_email]").fill("jose@munoz.example")
    send.locator("[name=name]").fill("José Pérez")
    send.get_by_role("button", name="Send").click()
    expect(page.locator("h1")).to_contain_text("Sent")
    message = next(m for m in mail.outbox if "jose@munoz.example" in m.to)
    link = re.search(r"https?://\S+/quotes/public/\S+/", message.body)
    assert link is not None
    path = urlparse(link.group(0)).path

    # The client opens the link in a fresh browser context: no session at all.
    client_context = browser.new_context(base_url=live_server.url, locale="es-ES")
    client_context.set_default_timeout(20_000)
    client_context.set_default_navigation_timeout(30_000)
    client_page = client_context.new_page()
    client_page.goto(path)
    expect(client_page.locator("#public-total")).to_contain_text("€6,000.00")
    client_page.locator("#answer-name").fill("José Pérez")
    client_page.locator("[name=decision][value=accepted]").click()
    expect(client_page.locator("#quote-answer")).to_contain_text("José Pérez")
    expect(client_page.locator("#answer-form")).to_have_count(0)
    client_context.close()

    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert quote.response.name == "José Pérez"
    assert Opportunity.objects.get(pk=deal.pk).status == StageKind.WON
    page.goto(f"/quotes/{quote.pk}/")
    expect(page.locator("h1")).to_contain_text("Accepted")
    shot(page, request, "accepted")
