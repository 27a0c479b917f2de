"""Fixtures of the sales tests: the default pipeline, a deal on the book's account, and the
check that every test leaves the deal totals table equal to the deals."""

from __future__ import annotations

from collections.abc import Iterator
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


def assert_rollups_consistent() -> None:
    """The deal totals table equals a fresh ``GROUP BY`` of the live deals, bucket by bucket."""
    from cartera.sales.rollups import discrepancies

    found = discrepancies()
    assert not found, f"deal totals differ from the deals (stored, actual): {found}"


@pytest.fixture(autouse=True)
def _deal_totals_stay_exact(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every sales test that touches the database ends with exact deal totals."""
    name = next((n for n in ("transactional_db", "db") if n in request.fixturenames), None)
    if name is None and request.node.get_closest_marker("django_db") is None:
        yield
        return
    request.getfixturevalue(name or "db")  # set up first, so torn down after this check
    yield
    assert_rollups_consistent()
