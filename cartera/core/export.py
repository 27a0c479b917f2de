"""Safe spreadsheet cells for CSV/XLSX exports."""

from __future__ import annotations

from typing import Any

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula (prefix it with a quote)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


class Echo:
    """A write-only file object that hands each written line back, for streamed CSV."""

    def write(self, value: str) -> str:
        return value
