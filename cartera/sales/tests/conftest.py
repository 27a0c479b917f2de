"""Fixtures of the sales tests: the default pipeline and a deal on the book's account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cartera.core.testing import Book
from cartera.sales.models import Opportunity, Pipeline
from cartera.sales.services import create_opportunity, ensure_default_pipeline


@pytest.fixture
def pipeline(db: None) -> Pipeline:
    """The default "Sales" pipeline with its standard stages and loss reasons."""
    return ensure_default_pipeline()


@pytest.fixture
def deal(book: Book, pipeline: Pipeline) -> Opportunity:
    """A deal owned by the book's owner on the book's account."""
    return create_opportunity(
        actor=book.owner,
        data={
            "name": "Fleet renewal",
            "account": book.account,
            "amount": Decimal("12000.00"),
            "currency": "EUR",
            "expected_close_date": "2026-12-15",
        },
    )
