"""Quote sync: an accepted quote's lines become the won deal's products, adding up to its amount."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry

from cartera.catalog.models import Product
from cartera.core.testing import Book
from cartera.quotes import services
from cartera.quotes.models import Quote
from cartera.reports import selectors as reports
from cartera.reports.filters import ReportFilters
from cartera.sales.models import Opportunity, OpportunityLine, StageKind
from cartera.sales.services import add_opportunity_line, line_total

from .conftest import public_token

pytestmark = pytest.mark.django_db


def _accept(book: Book, deal: Any, lines: list[dict[str, Any]], discount: str = "0") -> Quote:
    quote = services.create_quote(actor=book.owner, opportunity=deal, data={})
    quote.lines.all().delete()  # start from an empty quote, whatever the deal had
    for data in lines:
        quote.refresh_from_db()
        services.add_line(actor=book.owner, quote=quote, data=data, expected_version=quote.version)
    quote.refresh_from_db()
    services.update_quote(
        actor=book.owner,
        quote=quote,
        changes={"discount_percent": discount},
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    _quote, link = services.send_quote(
        actor=book.owner,
        quote=quote,
        recipient_email="buyer@x.example",
        expected_version=quote.version,
    )
    services.respond_to_quote(token=public_token(link), decision="accepted", name="Ana Ruiz")
    quote.refresh_from_db()
    return quote


def _deal_lines(deal: Any) -> list[OpportunityLine]:
    return list(OpportunityLine.objects.filter(opportunity=deal).order_by("position", "id"))


def test_the_quote_lines_replace_the_deal_products(
    book: Book, deal: Any, products: dict[str, Product]
) -> None:
    old = add_opportunity_line(
        actor=book.owner, opportunity=deal, data={"description": "Early guess", "unit_price": "5"}
    )
    quote = _accept(
        book,
        deal,
        [
            {
                "product": products["licence"].pk,
                "quantity": "10",
                "unit_price": "100",
                "discount_percent": "10",
            },
            {"product": products["setup"].pk, "quantity": "2", "unit_price": "800"},
        ],
    )

    won = Opportunity.objects.get(pk=deal.pk)
    lines = _deal_lines(won)
    assert won.status == StageKind.WON
    assert not OpportunityLine.objects.filter(pk=old.pk).exists()
    assert [(line.product_id, line.quantity, line.unit_price) for line in lines] == [
        (products["licence"].pk, Decimal("10"), Decimal("100.00")),
        (products["setup"].pk, Decimal("2"), Decimal("800.00")),
    ]
    assert [line.discount_percent for line in lines] == [Decimal("10"), Decimal("0")]
    assert won.amount == quote.subtotal - quote.discount_amount == Decimal("2500.00")
    # the removal and the additions are audited, by the quote's owner
    entries = LogEntry.objects.get_for_model(OpportunityLine)
    assert entries.filter(object_pk=str(old.pk), action=LogEntry.Action.DELETE).exists()
    added = entries.filter(action=LogEntry.Action.CREATE, object_pk__in=[str(x.pk) for x in lines])
    assert added.count() == 2 and {entry.actor for entry in added} == {book.owner}


def test_the_quote_discount_is_spread_so_the_lines_add_up_to_the_amount(
    book: Book, deal: Any, products: dict[str, Product]
) -> None:
    # 3 x 100 + 1 x 33.33 + 7 x 12.34, 7 % off the quote: allocations with rounding
    quote = _accept(
        book,
        deal,
        [
            {"product": products["licence"].pk, "quantity": "3", "unit_price": "100"},
            {"description": "Support", "quantity": "1", "unit_price": "33.33"},
            {"description": "Cables", "quantity": "7", "unit_price": "12.34"},
        ],
        discount="7",
    )

    won = Opportunity.objects.get(pk=deal.pk)
    lines = _deal_lines(won)
    assert len(lines) == 3
    expected = [q.net_amount - q.allocated_discount for q in quote.lines.order_by("position", "id")]
    assert [line_total(line, "EUR") for line in lines] == expected
    assert sum(expected) == won.amount == quote.subtotal - quote.discount_amount
    assert lines[0].product_id == products["licence"].pk and lines[0].quantity == 3
    # the product's name is not repeated as its description; free text is kept
    assert [line.description for line in lines][:2] == ["", "Support"]


def test_revenue_per_product_counts_the_accepted_quote(
    book: Book, deal: Any, products: dict[str, Product]
) -> None:
    _accept(
        book,
        deal,
        [
            {"product": products["licence"].pk, "quantity": "10", "unit_price": "100"},
            {"product": products["setup"].pk, "quantity": "1", "unit_price": "800"},
        ],
        discount="10",
    )

    report = reports.revenue_by_product(book.director, ReportFilters.model_validate({}))

    revenue = {row["label"]: row["revenue"] for row in report.rows}
    assert revenue == {"Tracking licence": Decimal("900.00"), "Setup": Decimal("720.00")}
