"""What the sale-flow walk-through found on the quote pages: labels, numbers, names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cartera.core.testing import Book, client_for
from cartera.notifications.models import Notification
from cartera.quotes import services
from cartera.quotes.models import Quote

from .conftest import public_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def quote(book: Book, deal: Any) -> Quote:
    """A quote titled after its deal (the default): 10 x 1,200 at 21 % tax."""
    quote = services.create_quote(actor=book.owner, opportunity=deal, data={"language": "en"})
    quote.lines.all().delete()
    services.add_line(
        actor=book.owner,
        quote=quote,
        data={
            "description": "Fleet tracker",
            "quantity": "10",
            "unit_price": "1200",
            "tax_rate": "21",
        },
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    return quote


def test_the_header_names_the_deal_once_when_the_title_is_the_deals(
    book: Book, quote: Quote
) -> None:
    assert quote.title == quote.opportunity.name
    page = client_for(book.owner).get(f"/quotes/{quote.pk}/").content.decode()
    header = page.split('<p class="mb-0 text-body-secondary">', 1)[1].split("</p>", 1)[0]
    assert header.count(quote.opportunity.name) == 1


def test_the_builder_shows_whole_quantities_and_labelled_errors(book: Book, quote: Quote) -> None:
    client = client_for(book.owner)
    page = client.get(f"/quotes/{quote.pk}/").content.decode()
    assert 'name="quantity" value="10"' in page
    assert "10.000" not in page

    line = quote.lines.get()
    answer = client.post(
        f"/quotes/{quote.pk}/lines/{line.pk}/",
        {"version": quote.version, "unit_price": "-5"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Unit price:" in answer
    assert "unit_price:" not in answer


def test_the_approval_request_formats_the_total_as_money(book: Book, deal: Any) -> None:
    quote = services.create_quote(actor=book.owner, opportunity=deal, data={})
    quote.lines.all().delete()
    services.add_line(
        actor=book.owner,
        quote=quote,
        data={
            "description": "Fleet tracker",
            "quantity": "10",
            "unit_price": "1200",
            "tax_rate": "21",
            "discount_percent": "20",
        },
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    book.manager.language = "es"
    book.manager.save(update_fields=["language"])

    services.request_approval(
        actor=book.owner, quote=quote, note="", expected_version=quote.version
    )

    body = Notification.objects.get(recipient=book.manager).body
    assert "11.616,00" in body and "€" in body  # 9,600 + 21 % tax, in Spanish
    assert "EUR" not in body


def test_the_public_page_says_who_the_quote_is_from(
    book: Book, quote: Quote, client: Any, settings: Any
) -> None:
    settings.CARTERA_COMPANY_NAME = "Telemática Sur SL"
    quote.refresh_from_db()
    services.update_quote(
        actor=book.owner,
        quote=quote,
        changes={"discount_percent": "5"},
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    _quote, link = services.send_quote(
        actor=book.owner,
        quote=quote,
        recipient_email="buyer@x.example",
        expected_version=quote.version,
    )

    page = client.get(f"/quotes/public/{public_token(link)}/").content.decode()

    assert "From Telemática Sur SL" in page
    assert "\u2212€600.00" in page  # the internal page's minus sign, not a hyphen
    assert "-€600.00" not in page


def test_the_deal_page_labels_amount_and_quote_total(book: Book, quote: Quote) -> None:
    page = client_for(book.owner).get(f"/deals/{quote.opportunity_id}/").content.decode()
    assert "Amount (before tax)" in page
    assert "Total incl. tax" in page
    assert quote.total == Decimal("14520.00")
