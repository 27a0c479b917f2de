"""The public CRM data set for the reports' tests: where it is, and an independent reading of it.

``expected_*`` functions compute the figures the reports must show straight from the raw CSV
files with the ``csv`` module and ``Decimal`` — no Cartera code — so the reconciliation test
compares two computations that share nothing but the files.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest


def shared_data() -> Path | None:
    """``$CARTERA_SHARED_DATA``, else ``../shared/data`` beside the clone (as imports' tests)."""
    if configured := os.environ.get("CARTERA_SHARED_DATA"):
        return Path(configured)
    beside = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    for candidate in (beside, Path("/work/shared/data")):
        if (candidate / "crm-sales-opportunities" / "sales_pipeline.csv").exists():
            return candidate
    return None


def crm_folder() -> Path:
    """The CRM data set's folder; skips locally when absent, fails on CI (``CI=true``)."""
    data = shared_data()
    folder = data / "crm-sales-opportunities" if data else None
    if folder is None or not (folder / "sales_pipeline.csv").exists():
        message = "the public data set crm-sales-opportunities is missing (CARTERA_SHARED_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def _squash(name: str) -> str:
    return re.sub(r"[\W_]+", "", name).casefold()


@dataclass(frozen=True)
class Deal:
    """One row of sales_pipeline.csv, read as it is."""

    agent: str
    product: str
    stage: str
    engaged: dt.date | None
    closed: dt.date | None
    value: Decimal | None


class RawData:
    """The four CSV files, read with the ``csv`` module only."""

    def __init__(self, folder: Path) -> None:
        self.teams = {row["sales_agent"]: row for row in _rows(folder / "sales_teams.csv")}
        products = [row["product"] for row in _rows(folder / "products.csv")]
        canonical = {_squash(name): name for name in products}
        self.deals = [
            Deal(
                agent=row["sales_agent"],
                product=canonical.get(_squash(row["product"]), row["product"]),
                stage=row["deal_stage"],
                engaged=dt.date.fromisoformat(row["engage_date"]) if row["engage_date"] else None,
                closed=dt.date.fromisoformat(row["close_date"]) if row["close_date"] else None,
                value=Decimal(row["close_value"]) if row["close_value"] else None,
            )
            for row in _rows(folder / "sales_pipeline.csv")
        ]

    def manager(self, deal: Deal) -> str:
        return self.teams[deal.agent]["manager"]

    def office(self, deal: Deal) -> str:
        return self.teams[deal.agent]["regional_office"]

    def key(self, by: str) -> Callable[[Deal], str]:
        return {
            "owner": lambda deal: deal.agent,
            "manager": self.manager,
            "office": self.office,
            "product": lambda deal: deal.product,
        }[by]


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _days(total: int, count: int) -> Decimal:
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def expected_win_rates(data: RawData, by: str) -> dict[str, tuple[int, int, Decimal]]:
    """Group → (won, lost, win rate %) over every closed deal."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    key = data.key(by)
    for deal in data.deals:
        if deal.stage in {"Won", "Lost"}:
            counts[key(deal)][0 if deal.stage == "Won" else 1] += 1
    return {name: (won, lost, _percent(won, won + lost)) for name, (won, lost) in counts.items()}


def expected_days_to_close(data: RawData, by: str) -> dict[str, tuple[int, Decimal]]:
    """Group → (closed deals, average days engage_date → close_date)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    key = data.key(by)
    for deal in data.deals:
        if deal.stage in {"Won", "Lost"}:
            assert deal.engaged and deal.closed
            totals[key(deal)][0] += 1
            totals[key(deal)][1] += (deal.closed - deal.engaged).days
    return {name: (count, _days(days, count)) for name, (count, days) in totals.items()}


def expected_won_value(
    data: RawData, bucket: Callable[[Deal], str]
) -> dict[str, tuple[int, Decimal]]:
    """Bucket → (won deals, won value) for won deals."""
    counts: dict[str, int] = defaultdict(int)
    values: dict[str, Decimal] = defaultdict(Decimal)
    for deal in data.deals:
        if deal.stage == "Won":
            counts[bucket(deal)] += 1
            values[bucket(deal)] += deal.value or Decimal(0)
    return {name: (counts[name], values[name].quantize(Decimal("0.01"))) for name in counts}


def month_of(deal: Deal) -> str:
    assert deal.closed
    return f"{deal.closed.year}-{deal.closed.month:02d}"


def quarter_of(deal: Deal) -> str:
    assert deal.closed
    return f"{deal.closed.year} Q{(deal.closed.month - 1) // 3 + 1}"
