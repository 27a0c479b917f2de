"""What a report's export holds: its table's columns, typed, in the reader's language."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from cartera.core.export import CellType, Column, ExportSpec

from .selectors import ColumnKind, Report

CELL_TYPES: dict[ColumnKind, CellType] = {
    "text": "text",
    "currency": "text",
    "count": "number",
    "money": "number",
    "percent": "number",
    "days": "number",
    "date": "date",
}

WIDTHS: dict[ColumnKind, float] = {"text": 28, "currency": 8, "date": 12}


def report_export(report: Report) -> ExportSpec[dict[str, Any]]:
    """The export of ``report``'s table: one column per table column, numbers as numbers."""
    columns: tuple[Column[dict[str, Any]], ...] = tuple(
        Column(
            column.header,
            itemgetter(column.key),
            CELL_TYPES[column.kind],
            width=WIDTHS.get(column.kind, 14),
        )
        for column in report.columns
    )
    return ExportSpec(f"report-{report.name}", report.title, columns)
