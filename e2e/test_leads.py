"""Leads end to end: a visitor sends the public form, a rule assigns it, the rep converts it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from cartera.core.testing import Book
from cartera.leads.models import Lead
from cartera.leads.services import save_assignment_rule, save_scoring_rule, save_web_form
from cartera.notifications.models import Notification
from e2e.helpers import SignIn, shot

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _private_rate_limit(settings: Any) -> None:
    """The web form's rate limit counts in memory here, not in the shared cache on disk."""
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "e2e"},
    }


def test_public_form_lead_is_assigned_by_a_rule_and_converted_by_the_assignee(
    browser: Browser,
    live_server: LiveServer,
    page: Page,
    book: Book,
    sign_in_as: SignIn,
    request: pytest.FixtureRequest,
) -> None:
    save_web_form(
        actor=book.admin,
        data={"name": "Contact us", "slug": "contact", "thank_you_text": "Thanks, talk soon!"},
    )
    save_assignment_rule(
        actor=book.admin,
        data={
            "name": "Spain software",
            "country": "ES",
            "industry": "software",
            "user": book.owner.pk,
        },
    )
    save_scoring_rule(
        actor=book.admin, data={"kind": "industry", "value": "software", "points": 20}
    )

    # A visitor, not signed in, in a browser profile of their own.
    visitor = browser.new_context(base_url=live_server.url, locale="en-US")
    try:
        public = visitor.new_page()
        public.goto("/leads/form/contact/")
        expect(public.locator("h1")).to_have_text("Contact us")
        form = public.locator("#lead-form")
        form.locator("[name=company]").fill("Robótica Norte SL")
        form.locator("[name=first_name]").fill("Lucía")
        form.locator("[name=last_name]").fill("Martín")
        form.locator("[name=email]").fill("lucia@robotica-norte.example")
        form.locator("[name=website]").fill("robotica-norte.example")
        form.locator("[name=country]").select_option("ES")
        form.locator("[name=industry]").select_option("software")
        form.locator("[name=message]").fill("We need 40 robots by spring.")
        expect(form.locator("[name=fax_number]")).not_to_be_in_viewport()
        shot(public, request, "public-form")
        form.locator("[type=submit]").click()
        expect(public.locator("#lead-form-thanks")).to_contain_text("Thanks, talk soon!")
    finally:
        visitor.close()

    lead = Lead.objects.get()
    assert lead.owner == book.owner and lead.source == "web_form"
    assert Notification.objects.filter(recipient=book.owner, url=f"/leads/{lead.pk}/").exists()

    # The assignee finds it on their list, sees the score's reasons and converts it.
    sign_in_as(book.owner)
    page.goto("/leads/")
    page.get_by_role("link", name="Robótica Norte SL").click()
    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))
    expect(page.locator("#lead-owner")).to_contain_text("Olga Owner")
    expect(page.locator("#score")).to_contain_text("+20 Industry is Software and SaaS")
    shot(page, request, "lead")

    page.get_by_role("link", name="Convert").click()
    expect(page.locator("#convert-account")).to_contain_text("A new account")
    page.locator("[name=amount]").fill("48000")
    shot(page, request, "convert")
    page.locator("#confirm-conversion").click()

    lead.refresh_from_db()
    assert lead.status == "converted"
    deal = lead.converted_opportunity
    assert deal is not None and deal.account == lead.converted_account
    assert deal.amount == Decimal("48000") and deal.owner == book.owner
    expect(page).to_have_url(re.compile(rf"/deals/{deal.pk}/$"))
    expect(page.locator("body")).to_contain_text("Robótica Norte SL")
    shot(page, request, "deal")

    # The lead keeps the links to what it became.
    page.goto(f"/leads/{lead.pk}/")
    links = page.locator("#conversion-links")
    expect(links).to_contain_text("Robótica Norte SL")
    expect(links).to_contain_text("Lucía Martín")
    links.get_by_role("link", name="Robótica Norte SL").first.click()
    expect(page).to_have_url(re.compile(rf"/accounts/{lead.converted_account_id}/$"))
