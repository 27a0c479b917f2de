"""A product listed on several lines of one deal: one deal for that product, its lines' revenue.

The product breakdown joins each deal to its lines, so a deal with the same product on two lines
(or two free-text lines, "No product") shows up on two joined rows: every figure must still
count that deal once for the product, and the product's revenue is the sum of those lines' net
values (never the deal amount twice).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from cartera.catalog.models import Product
from cartera.core.testing import Book
from cartera.reports import selectors
from cartera.reports.filters import ReportFilters
from cartera.sales.models import Opportunity
from cartera.sales.services import add_opportunity_line, ensure_default_pipeline, lost_stage
from cartera.sales.services import won_stage as won_stage_of

from .conftest import close, make_deal

pytestmark = pytest.mark.django_db


def _filters(**values: Any) -> ReportFilters:
    return ReportFilters.model_validate(values)


def _rows(rows: list[dict[str, Any]], *keys: str) -> dict[str, tuple[Any, ...]]:
    return {str(row["label"]): tuple(row[key] for key in keys) for row in rows}


def _with_lines(book: Book, created: dt.date, lines: list[dict[str, Any]]) -> Opportunity:
    deal = make_deal(book.owner, created=created, account=book.account, currency="EUR")
    for line in lines:
        add_opportunity_line(actor=book.owner, opportunity=deal, data=line)
    deal.refresh_from_db()
    return deal


@pytest.fixture
def repeated(book: Book) -> dict[str, Any]:
    """Won: Widget on two lines plus a Gadget line; lost: Widget on three lines; won: two
    free-text lines. Closed in February and January 2026."""
    pipeline = ensure_default_pipeline()
    widget = Product.objects.create(sku="W-1", name="Widget")
    gadget = Product.objects.create(sku="G-1", name="Gadget")
    won_deal = _with_lines(
        book,
        dt.date(2026, 1, 5),
        [
            {"product": widget.pk, "quantity": "2", "unit_price": "100"},  # 200.00
            {"product": gadget.pk, "unit_price": "30"},  # 30.00
            {"product": widget.pk, "unit_price": "50", "discount_percent": "10"},  # 45.00
        ],
    )
    assert won_deal.amount == Decimal("275.00")
    won_deal = close(book.owner, won_deal, won_stage_of(pipeline), dt.date(2026, 2, 4))  # 30 d
    lost_deal = _with_lines(
        book,
        dt.date(2026, 1, 10),
        [
            {"product": widget.pk, "unit_price": "70"},
            {"product": widget.pk, "unit_price": "80"},
            {"product": widget.pk, "unit_price": "10"},
        ],
    )
    lost_deal = close(book.owner, lost_deal, lost_stage(pipeline), dt.date(2026, 1, 30))  # 20 d
    services_deal = _with_lines(
        book,
        dt.date(2026, 1, 1),
        [
            {"description": "Set-up", "unit_price": "100"},
            {"description": "Training", "unit_price": "20"},
        ],
    )
    services_deal = close(
        book.owner, services_deal, won_stage_of(pipeline), dt.date(2026, 1, 11)
    )  # 10 days
    return {"book": book, "won": won_deal, "lost": lost_deal, "services": services_deal}


def test_revenue_counts_the_deal_once_and_sums_its_lines(repeated: dict[str, Any]) -> None:
    report = selectors.revenue_by_product(repeated["book"].director, _filters())
    assert _rows(report.rows, "deals", "revenue") == {
        "Widget": (1, Decimal("245.00")),  # 200 + 45, one deal
        "Gadget": (1, Decimal("30.00")),
        "No product": (1, Decimal("120.00")),  # two free-text lines, one deal
    }
    # The split adds up to the won amounts, exactly.
    total = sum((row["revenue"] for row in report.rows), Decimal(0))
    assert total == repeated["won"].amount + repeated["services"].amount == Decimal("395.00")


def test_win_rate_counts_the_deal_once_per_product(repeated: dict[str, Any]) -> None:
    report = selectors.win_rate(repeated["book"].director, _filters(by="product"))
    assert _rows(report.rows, "won", "lost", "closed", "win_rate") == {
        "Widget": (1, 1, 2, Decimal("50.00")),
        "Gadget": (1, 0, 1, Decimal("100.00")),
        "No product": (1, 0, 1, Decimal("100.00")),
    }


def test_deal_size_counts_the_deal_once_per_product(repeated: dict[str, Any]) -> None:
    report = selectors.deal_size(repeated["book"].director, _filters(by="product"))
    assert _rows(report.rows, "deals", "total", "average") == {
        "Widget": (1, Decimal("245.00"), Decimal("245.00")),
        "Gadget": (1, Decimal("30.00"), Decimal("30.00")),
        "No product": (1, Decimal("120.00"), Decimal("120.00")),
    }


def test_sales_cycle_counts_the_deal_once_per_product(repeated: dict[str, Any]) -> None:
    report = selectors.sales_cycle(repeated["book"].director, _filters(by="product"))
    assert _rows(report.rows, "deals", "average_days", "won_deals", "average_days_won") == {
        "Widget": (2, Decimal("25.0"), 1, Decimal("30.0")),  # (30 + 20) / 2; the won one: 30
        "Gadget": (1, Decimal("30.0"), 1, Decimal("30.0")),
        "No product": (1, Decimal("10.0"), 1, Decimal("10.0")),
    }


def test_other_breakdowns_are_not_multiplied_by_lines(repeated: dict[str, Any]) -> None:
    director = repeated["book"].director
    cycle = selectors.sales_cycle(director, _filters(by="owner"))
    assert _rows(cycle.rows, "deals", "average_days") == {"Olga Owner": (3, Decimal("20.0"))}
    size = selectors.deal_size(director, _filters(by="owner"))
    assert _rows(size.rows, "deals", "total") == {"Olga Owner": (2, Decimal("395.00"))}
