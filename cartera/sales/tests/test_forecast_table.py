"""The forecast table's rows, written by ``{% forecast_rows %}``: the markup of the template loop
(and the per-figure ``forecast.link`` + ``urlencode``) they replace, whitespace between tags
aside, in English and Spanish, for every grouping and with filters on the grouped field."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import translation

from cartera.core.testing import Book, client_for
from cartera.sales.selectors import Forecast, ForecastCell, ForecastFilters, ForecastRow
from cartera.sales.templatetags.forecast_tags import ForecastLinks, forecast_rows

COLUMNS = [
    ("won", "Closed won"),
    ("commit", "Commit"),
    ("best_case", "Best case"),
    ("pipeline", "Pipeline"),
    ("weighted", "Weighted"),
]

#: The body and footer loops ``sales/forecast.html`` had before the tag.
TEMPLATE_LOOP = """
    {% for item in rows %}
    <tr>
      <th scope="row">{{ item.row.label|default:_("(none)") }}</th>
      <td>{{ item.row.currency }}</td>
      {% for cell in item.cells %}{% for figure in cell.figures %}
      <td class="text-end text-nowrap{% if cell.period is None %} fw-semibold{% endif %}">{% if figure.count %}<a href="{{ figure.url }}" title="{% blocktranslate count n=figure.count %}{{ n }} deal{% plural %}{{ n }} deals{% endblocktranslate %}">{{ figure.value|money:item.row.currency }}</a>{% else %}<span class="text-body-secondary">—</span>{% endif %}</td>
      {% endfor %}{% endfor %}
    </tr>
    {% endfor %}
  </tbody>
  <tfoot class="table-group-divider">
    {% for item in totals %}
    <tr class="fw-semibold">
      <th scope="row">{% translate "Total" %}</th>
      <td>{{ item.row.currency }}</td>
      {% for cell in item.cells %}{% for figure in cell.figures %}
      <td class="text-end text-nowrap">{% if figure.count %}<a href="{{ figure.url }}">{{ figure.value|money:item.row.currency }}</a>{% else %}—{% endif %}</td>
      {% endfor %}{% endfor %}
    </tr>
    {% endfor %}"""  # noqa: E501


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def _old_context(result: Forecast) -> dict[str, Any]:
    """What the view handed the template loop before the tag (its code, unchanged)."""
    list_url = reverse("sales:list")

    def link(column: str, row: Any, period: Any, currency: str) -> str:
        params = result.link(column, row=row, period=period, currency=currency)
        return f"{list_url}?{urlencode(params)}"

    def cells(row: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for period in [*result.periods, None]:
            cell = row.total if period is None else row.cells.get(period[0])
            out.append(
                {
                    "period": period,
                    "figures": [
                        {
                            "column": column,
                            "value": getattr(cell, column) if cell else 0,
                            "count": cell.count(column) if cell else 0,
                            "url": link(column, row, period, row.currency),
                        }
                        for column, _label in COLUMNS
                    ],
                }
            )
        return out

    return {
        "rows": [{"row": row, "cells": cells(row)} for row in result.rows],
        "totals": [{"row": row, "cells": cells(row)} for row in result.totals],
    }


def _cell(amount: str, count: int, commit: int = 0) -> ForecastCell:
    value = Decimal(amount)
    return ForecastCell(
        won=value,
        commit=value / 2 if commit else Decimal("0"),
        best_case=value / 2 if commit else Decimal("0"),
        pipeline=value * 3,
        weighted=value,
        won_count=count,
        commit_count=commit,
        best_case_count=commit,
        pipeline_count=count + commit,
    )


def _forecast(filters: ForecastFilters) -> Forecast:
    periods = filters.window()
    first, second = periods[0][0], periods[1][0]
    rows = [
        ForecastRow(key=7, label="Ana <Pérez> & co", currency="EUR"),
        ForecastRow(key=None, label="", currency="EUR"),
        ForecastRow(key=12, label="Bob", currency="JPY"),
    ]
    rows[0].cells = {first: _cell("12000.50", 1, commit=2), second: _cell("0.00", 1234)}
    rows[1].cells = {second: _cell("99.99", 3)}
    rows[2].cells = {first: _cell("1234567", 2)}
    totals = [
        ForecastRow(key=None, label="", currency="EUR"),
        ForecastRow(key=None, label="", currency="JPY"),
    ]
    for row in rows:
        total = totals[0] if row.currency == "EUR" else totals[1]
        for start, cell in row.cells.items():
            row.total.add(cell)
            total.cells.setdefault(start, ForecastCell()).add(cell)
            total.total.add(cell)
    return Forecast(filters=filters, periods=periods, rows=rows, totals=totals)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    "filters",
    [
        {"group": "owner"},
        {"group": "owner", "owner": [7, 12], "type": ["new_business"], "period": "month"},
        {"group": "team", "team": [3], "pipeline": 2},
        {"group": "pipeline", "pipeline": 2, "periods": 3},
    ],
)
def test_rows_are_the_template_loops_markup(language: str, filters: dict[str, Any]) -> None:
    result = _forecast(ForecastFilters.model_validate({"start": "2026-05-10", **filters}))
    template = engines["django"].from_string(TEMPLATE_LOOP)
    with translation.override(language):
        expected = template.render(_old_context(result))
        links = ForecastLinks(result)
        written = str(forecast_rows(result, COLUMNS, links)) + "</tbody>"
        written += '<tfoot class="table-group-divider">'
        written += str(forecast_rows(result, COLUMNS, links, totals=True))
    assert squeeze(written) == squeeze(expected)
    assert "Ana &lt;Pérez&gt; &amp; co" in written and "<Pérez>" not in written
    assert "&amp;close_to=" in written


def test_forecast_page_renders_the_rows(book: Book) -> None:
    """The page wires the tag: a figure links to its deals (the drill-down is ``e2e``)."""
    from cartera.sales import services

    services.create_opportunity(
        actor=book.owner,
        data={
            "name": "Forecast deal",
            "account": book.account,
            "amount": Decimal("5000"),
            "expected_close_date": dt.date.today(),
        },
    )
    response = client_for(book.owner).get("/deals/forecast/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="forecast-table"' in html and "forecast_category=" in html
    assert f"owner={book.owner.pk}" in html
