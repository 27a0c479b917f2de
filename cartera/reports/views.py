"""Report pages: the index, one page per report (filters, chart, table) and its exports.

Views only parse the filters, call the report's selector and render its rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import formats
from django.views.decorators.http import require_GET

from cartera.core.errors import InvalidInput, NotFound
from cartera.core.export import export_format, export_response
from cartera.core.filters import parse_filters
from cartera.core.money import is_currency
from cartera.core.templatetags.cartera import money
from cartera.users.models import User

from .exports import report_export
from .filters import ReportFilters
from .selectors import (
    DIMENSION_LABELS,
    REPORTS,
    Report,
    ReportColumn,
    build_report,
    report_filter_options,
)

#: The common currencies offered in the filter bar (any ISO code works in the query string).
CURRENCIES = ["EUR", "USD", "GBP", "MXN", "COP", "ARS", "CLP", "PEN", "BRL", "CHF"]


def _cell(column: ReportColumn, row: dict[str, Any]) -> str:
    """A table cell as the reader expects it, in their language."""
    value = row.get(column.key)
    if value is None:
        return "—"
    if column.kind == "money":
        return money(value, row.get("currency", ""))
    if column.kind == "percent":
        return f"{formats.number_format(value, 2, use_l10n=True)} %"
    if column.kind == "days":
        return formats.number_format(value, 1, use_l10n=True)
    if column.kind == "count":
        return formats.number_format(value, 0, use_l10n=True, force_grouping=True)
    if column.kind == "date":
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def table_rows(report: Report) -> list[list[tuple[str, bool]]]:
    """Each row's cells as (text, numeric) pairs, numeric cells aligned right."""
    numeric = [column.kind in {"count", "money", "percent", "days"} for column in report.columns]
    return [
        [(_cell(column, row), right) for column, right in zip(report.columns, numeric, strict=True)]
        for row in report.rows
    ]


def chart_spec(report: Report) -> dict[str, Any]:
    """The report's chart; when its series are amounts per currency, the axis says which one
    (``currency`` lets the page format the ticks as money when there is just one)."""
    chart = dict(report.chart)
    codes = [str(dataset["label"]) for dataset in chart.get("datasets", [])]
    money_chart = any(column.kind == "money" for column in report.columns)
    if money_chart and codes and all(is_currency(code) for code in codes):
        chart["y_label"] = f"{chart.get('y_label', '')} ({' / '.join(codes)})".strip()
        chart["currency"] = codes[0] if len(codes) == 1 else ""
    return chart


@require_GET
@login_required
def report_index(request: HttpRequest) -> HttpResponse:
    """The list of reports."""
    return render(request, "reports/index.html", {"nav": "reports", "reports": REPORTS.values()})


@require_GET
@login_required
def report_detail(request: HttpRequest, name: str) -> HttpResponse:
    """One report: the filter bar, its chart and its table over the deals the reader sees."""
    user: User = request.user  # type: ignore[assignment]
    kind = REPORTS.get(name)
    if kind is None:
        raise NotFound()
    context: dict[str, Any] = {"nav": "reports", "kind": kind, "currencies": CURRENCIES}
    status = 200
    try:
        filters = parse_filters(ReportFilters, request.GET)
        report = build_report(user, name, filters)
    except InvalidInput as error:
        filters = ReportFilters.model_validate({})
        report, status = None, error.status
        context["filter_errors"] = error.field_errors
    context.update(
        filters=filters,
        report=report,
        rows=table_rows(report) if report else [],
        chart=chart_spec(report) if report else None,
        options=report_filter_options(user),
        dimensions=list(DIMENSION_LABELS.items()),
        query=request.GET.urlencode(),
    )
    return render(request, "reports/report.html", context, status=status)


@require_GET
@login_required
def report_export_view(request: HttpRequest, name: str) -> HttpResponseBase:
    """The report's table with the page's filters: CSV (default) or Excel with ``format=xlsx``."""
    user: User = request.user  # type: ignore[assignment]
    fmt = export_format(request.GET.get("format"))
    filters = parse_filters(ReportFilters, request.GET, ignore={"format"})
    report = build_report(user, name, filters)
    return export_response(report_export(report), report.rows, fmt)
