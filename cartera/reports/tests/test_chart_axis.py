"""The report page: the chart's axis says the currency; the filter bar explains multi-choice."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cartera.core.testing import Book, client_for
from cartera.sales.services import ensure_default_pipeline, won_stage

from .conftest import close, make_deal

pytestmark = pytest.mark.django_db


def test_a_money_chart_names_its_currency_and_the_lists_are_explained(book: Book) -> None:
    pipeline = ensure_default_pipeline()
    deal = make_deal(
        book.owner, created=dt.date(2026, 1, 5), account=book.account, currency="EUR", amount="500"
    )
    close(book.owner, deal, won_stage(pipeline), dt.date(2026, 2, 1))

    page = client_for(book.director).get("/reports/revenue-by-product/").content.decode()

    chart = json.loads(
        page.split('id="report-chart-data" type="application/json">', 1)[1].split("</script>", 1)[0]
    )
    assert chart["y_label"] == "Revenue won (EUR)"
    assert chart["currency"] == "EUR"
    assert 'id="filters-hint"' in page and 'multiple size="4"' in page
