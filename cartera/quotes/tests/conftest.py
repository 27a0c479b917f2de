"""Fixtures of the quote tests: a deal on the book's account and a small priced catalogue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cartera.catalog.models import PriceList, PriceListItem, Product
from cartera.core.testing import Book
from cartera.sales.services import create_opportunity, ensure_default_pipeline


@pytest.fixture
def deal(book: Book) -> Any:
    ensure_default_pipeline()
    return create_opportunity(
        actor=book.owner,
        data={
            "name": "Fleet tracking",
            "account": book.account,
            "amount": Decimal("1000"),
            "currency": "EUR",
        },
    )


@pytest.fixture
def products(db: None) -> dict[str, Product]:
    licence = Product.objects.create(
        sku="LIC", name="Tracking licence", unit="licence", tax_rate=Decimal("21")
    )
    setup = Product.objects.create(sku="SET", name="Setup", unit="day", tax_rate=Decimal("21"))
    everyone = PriceList.objects.create(name="EUR", currency="EUR")
    tier_a = PriceList.objects.create(name="EUR A", currency="EUR", segment="a")
    PriceListItem.objects.create(price_list=everyone, product=licence, unit_price=Decimal("100"))
    PriceListItem.objects.create(price_list=tier_a, product=licence, unit_price=Decimal("90"))
    PriceListItem.objects.create(price_list=everyone, product=setup, unit_price=Decimal("800"))
    return {"licence": licence, "setup": setup}


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    """Run queued tasks (emails) at once, so tests read ``mail.outbox``."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def public_token(link: str) -> str:
    """The token in a public link."""
    return link.rstrip("/").rsplit("/", 1)[-1]
