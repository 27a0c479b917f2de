"""The forecast table's rows, written in Python (``{% forecast_rows forecast columns %}``).

The template loop it replaces rendered, per row, period and column, a link built by
``forecast_link`` + ``urlencode``, a ``{% blocktranslate count %}`` and a Babel currency
format: ~5,000 template nodes for the director's default view. Here the links are built once per
column, period and currency (only the row's key changes), amounts are formatted once per
amount, currency and locale (``deal_tags._money``) and deal counts once per language. The markup
is the loop's, whitespace aside (``cartera/sales/tests/test_forecast_table.py`` compares them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, urlencode

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from cartera.core.display import escape_text
from cartera.core.templatetags.cartera import babel_locale
from cartera.sales.selectors import Forecast, ForecastCell, ForecastRow, forecast_link

from .deal_tags import _language, _money, _number

register = template.Library()

#: Stands for a row's key in a link built once for every row (not a possible parameter value).
ROW_KEY_MARK = "ROWKEY0MARK"

#: The classes of a row's total cells (the last ``len(columns)`` cells of a body row).
TOTAL_CELL_CLASS = "text-end text-nowrap fw-semibold"

Period = tuple[dt.date, dt.date] | None


class ForecastLinks:
    """Escaped deal-list URLs behind the figures of one forecast.

    ``url(column, row, period)`` is ``f"{list_url}?{urlencode(forecast.link(...))}"`` escaped;
    the query is built once per column, period, currency and "row has a key", then the row's
    key is put in (``forecast_link`` sets ``params[group] = key`` last or in place, as here).
    """

    def __init__(self, forecast: Forecast, list_url: str | None = None) -> None:
        self.forecast = forecast
        self.list_url = list_url if list_url is not None else reverse("sales:list")
        self._built: dict[tuple[str, Period, str, bool], str] = {}

    def _template(self, column: str, period: Period, currency: str, keyed: bool) -> str:
        key = (column, period, currency, keyed)
        found = self._built.get(key)
        if found is None:
            forecast = self.forecast
            params = forecast_link(
                forecast.filters,
                column,
                row=None,
                period=period,
                currency=currency,
                window=forecast.periods,
            )
            if keyed:
                params[forecast.filters.group] = ROW_KEY_MARK
            found = self._built[key] = escape_text(f"{self.list_url}?{urlencode(params)}")
        return found

    def url(self, column: str, row: ForecastRow, period: Period) -> str:
        """The escaped link of ``row``'s ``column`` figure in ``period`` (``None``: the total)."""
        if row.key is None:
            return self._template(column, period, row.currency, False)
        built = self._template(column, period, row.currency, True)
        key = row.key
        text = str(key) if type(key) is int else escape_text(quote_plus(str(key)))
        return built.replace(ROW_KEY_MARK, text)


@lru_cache(maxsize=4096)
def _deal_count_title(count: int, language: str) -> str:
    """``{% blocktranslate count n=count %}{{ n }} deal{% plural %}{{ n }} deals…``.

    As the tag: the value is escaped, the translation is not.
    """
    return ngettext("%(n)s deal", "%(n)s deals", count) % {"n": _number(count, language)}


def _cells(row: ForecastRow, forecast: Forecast) -> list[tuple[Period, ForecastCell | None]]:
    cells: list[tuple[Period, ForecastCell | None]] = [
        (period, row.cells.get(period[0])) for period in forecast.periods
    ]
    cells.append((None, row.total))
    return cells


@register.simple_tag
def forecast_rows(
    forecast: Forecast,
    columns: Sequence[tuple[str, Any]],
    links: ForecastLinks | None = None,
    totals: bool = False,
) -> SafeString:
    """The ``<tr>``s of the forecast's body (``totals``: of its footer, one per currency)."""
    links = links or ForecastLinks(forecast)
    locale, language = babel_locale(), _language()
    names = [column for column, _label in columns]
    html: list[str] = []
    if totals:
        total_label = escape_text(gettext("Total"))
        for row in forecast.totals:
            currency = escape_text(row.currency)
            html.append(
                f'<tr class="fw-semibold"><th scope="row">{total_label}</th><td>{currency}</td>'
            )
            for period, cell in _cells(row, forecast):
                for column in names:
                    count = cell.count(column) if cell else 0
                    if count:
                        value = _money(getattr(cell, column), row.currency or "EUR", locale)
                        url = links.url(column, row, period)
                        html.append(
                            f'<td class="text-end text-nowrap"><a href="{url}">{value}</a></td>'
                        )
                    else:
                        html.append('<td class="text-end text-nowrap">—</td>')
            html.append("</tr>")
        return mark_safe("".join(html))  # noqa: S308 (every value is escaped above)
    none_label = escape_text(gettext("(none)"))
    for row in forecast.rows:
        label = escape_text(row.label) if row.label else none_label
        html.append(f'<tr><th scope="row">{label}</th><td>{escape_text(row.currency)}</td>')
        for period, cell in _cells(row, forecast):
            css = "text-end text-nowrap" if period is not None else TOTAL_CELL_CLASS
            for column in names:
                count = cell.count(column) if cell else 0
                if count:
                    value = _money(getattr(cell, column), row.currency or "EUR", locale)
                    html.append(
                        f'<td class="{css}"><a href="{links.url(column, row, period)}" '
                        f'title="{_deal_count_title(count, language)}">{value}</a></td>'
                    )
                else:
                    html.append(
                        f'<td class="{css}"><span class="text-body-secondary">—</span></td>'
                    )
        html.append("</tr>")
    return mark_safe("".join(html))  # noqa: S308 (every value is escaped above)
