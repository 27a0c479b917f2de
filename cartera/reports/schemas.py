"""What the reports API returns."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ReportKindOut(Schema):
    """A report the API offers."""

    name: str
    title: str
    description: str
    breakdown: bool
    periods: bool


class ReportColumnOut(Schema):
    """A column of a report's table: ``key`` names the row field it shows."""

    key: str
    header: str
    kind: str


class ReportOut(Schema):
    """A computed report: its columns, its rows (amounts as decimal strings) and its chart."""

    name: str
    title: str
    columns: list[ReportColumnOut]
    rows: list[dict[str, Any]]
    chart: dict[str, Any]
