"""REST operations of the reports app: the same reports, filters and exports as the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Query, Router

from cartera.core.api import READ_ERRORS, request_actor
from cartera.core.export import EXPORT_ERRORS, EXPORT_OPENAPI, ExportQuery, export_response

from .exports import report_export
from .filters import ReportFilters
from .schemas import ReportKindOut, ReportOut
from .selectors import REPORTS, Report, build_report

router = Router(tags=["reports"])


def _out(report: Report) -> dict[str, Any]:
    return {
        "name": report.name,
        "title": str(report.title),
        "columns": [
            {"key": column.key, "header": str(column.header), "kind": column.kind}
            for column in report.columns
        ],
        "rows": report.rows,
        "chart": report.chart,
    }


@router.get("/reports", response={200: list[ReportKindOut], **READ_ERRORS})
def list_reports(request: HttpRequest) -> Any:
    """The reports on offer."""
    request_actor(request)
    return [
        {
            "name": kind.name,
            "title": str(kind.title),
            "description": str(kind.description),
            "breakdown": kind.uses_by,
            "periods": kind.uses_period,
        }
        for kind in REPORTS.values()
    ]


@router.get("/reports/{name}", response={200: ReportOut, **READ_ERRORS})
def get_report(request: HttpRequest, name: str, filters: Query[ReportFilters]) -> Any:
    """One report over the deals the caller sees (``by``: owner, team, manager, office, product)."""
    return _out(build_report(request_actor(request), name, filters))


@router.get(
    "/reports/{name}/export",
    response={**READ_ERRORS, **EXPORT_ERRORS},
    openapi_extra=EXPORT_OPENAPI,
)
def export_report(
    request: HttpRequest, name: str, filters: Query[ReportFilters], options: Query[ExportQuery]
) -> HttpResponseBase:
    """The report's table as CSV (streamed) or XLSX, with the same filters."""
    report = build_report(request_actor(request), name, filters)
    return export_response(report_export(report), report.rows, options.format)
