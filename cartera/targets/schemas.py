"""What the targets API reads and returns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from cartera.core.filters import PositiveId

from .models import PeriodKind, TargetMetric


class TargetIn(Schema):
    """A new target: for ``user`` or ``team`` (exactly one)."""

    user: PositiveId | None = None
    team: PositiveId | None = None
    period_kind: PeriodKind = PeriodKind.MONTH
    period_start: dt.date = Field(description="First day of the month, quarter or year")
    metric: TargetMetric = TargetMetric.WON_AMOUNT
    value: Decimal = Field(ge=0, max_digits=16, decimal_places=2)
    currency: str = Field("", max_length=3, description="Required for won_amount targets")


class TargetPatch(Schema):
    """Fields of a target to change."""

    period_kind: PeriodKind | None = None
    period_start: dt.date | None = None
    metric: TargetMetric | None = None
    value: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    currency: str | None = Field(None, max_length=3)


class TargetOut(Schema):
    """A target with its attainment."""

    id: int
    user: int | None
    user_name: str | None
    team: int | None
    team_name: str | None
    period_kind: str
    period_start: dt.date
    period_end: dt.date
    metric: str
    value: Decimal
    currency: str
    achieved: Decimal
    attainment: Decimal | None = Field(description="Percent of the target won, 2 decimals")
    shortage: Decimal
    rank: int = 0
    version: int


class TrendPointOut(Schema):
    """One period of a target's trend."""

    period_start: dt.date
    label: str
    target: Decimal | None
    achieved: Decimal
    attainment: Decimal | None


class TargetQuery(Schema):
    """Filters of the target list."""

    period_kind: PeriodKind | None = None
    period_start: dt.date | None = None
    metric: TargetMetric | None = None
    user: PositiveId | None = None
    team: PositiveId | None = None


class LeaderboardQuery(Schema):
    """Which period's leaderboard: any day within it."""

    period_kind: PeriodKind = PeriodKind.MONTH
    period: dt.date | None = Field(None, description="A day in the period (default: today)")
    metric: TargetMetric | None = None


class TrendQuery(Schema):
    """How many periods of trend, up to the target's."""

    periods: int = Field(6, ge=1, le=36)
