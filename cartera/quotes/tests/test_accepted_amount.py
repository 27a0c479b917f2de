"""An accepted quote wins its deal at what the client accepted (the quote before tax)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry

from cartera.core.testing import Book
from cartera.quotes import services
from cartera.sales.models import Opportunity, StageChange, StageKind

from .conftest import public_token

pytestmark = pytest.mark.django_db


def _sent_quote(book: Book, deal: Any) -> str:
    """A sent quote: 10 x 100 at 21 % tax, 10 % off the quote (needs no approval); its link."""
    quote = services.create_quote(actor=book.owner, opportunity=deal, data={})
    services.add_line(
        actor=book.owner,
        quote=quote,
        data={"description": "Licences", "quantity": "10", "unit_price": "100", "tax_rate": "21"},
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    services.update_quote(
        actor=book.owner,
        quote=quote,
        changes={"discount_percent": "10"},
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    assert (quote.subtotal, quote.discount_amount, quote.total) == (
        Decimal("1000.00"),
        Decimal("100.00"),
        Decimal("1089.00"),
    )
    _quote, link = services.send_quote(
        actor=book.owner,
        quote=quote,
        recipient_email="buyer@x.example",
        expected_version=quote.version,
    )
    return public_token(link)


def test_accepting_wins_the_deal_at_the_quote_value_before_tax(book: Book, deal: Any) -> None:
    deal.amount = Decimal("5000.00")  # the rep's early guess, far from what was sold
    deal.save(update_fields=["amount"])
    token = _sent_quote(book, deal)

    services.respond_to_quote(token=token, decision="accepted", name="José Pérez")

    won = Opportunity.objects.get(pk=deal.pk)
    assert won.status == StageKind.WON
    assert won.amount == Decimal("900.00")  # 1,000 - 10 %; the 21 % tax is not revenue
    assert won.probability == 100
    assert StageChange.objects.filter(opportunity=won, to_stage=won.stage).count() == 1
    # one audited change, by the quote's owner, carrying both the amount and the stage
    entry = LogEntry.objects.get_for_object(won).order_by("-timestamp").first()
    assert entry is not None and entry.actor == book.owner
    assert {"amount", "stage"} <= set(entry.changes_dict)


def test_a_deal_in_another_currency_keeps_its_amount(book: Book, deal: Any) -> None:
    token = _sent_quote(book, deal)
    Opportunity.objects.filter(pk=deal.pk).update(currency="USD", amount=Decimal("1234.00"))

    services.respond_to_quote(token=token, decision="accepted", name="José Pérez")

    won = Opportunity.objects.get(pk=deal.pk)
    assert won.status == StageKind.WON
    assert won.amount == Decimal("1234.00")


def test_declining_leaves_the_amount(book: Book, deal: Any) -> None:
    token = _sent_quote(book, deal)

    services.respond_to_quote(token=token, decision="declined", name="José Pérez")

    kept = Opportunity.objects.get(pk=deal.pk)
    assert (kept.status, kept.amount) == (StageKind.OPEN, Decimal("1000.00"))
