"""The deal list's and the board's filters, defined once for the pages, the export and the API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Q, QuerySet
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field

from cartera.core.filters import PositiveId
from cartera.core.text import search_terms

from .models import ForecastCategory, Opportunity, OpportunityType, StageKind

OpportunitySort = Literal[
    "name", "-name", "updated_at", "-updated_at", "created_at", "-created_at", "amount", "-amount"
]

OPPORTUNITY_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": ("name_key", "pk"),
    "-name": ("-name_key", "-pk"),
    "updated_at": ("updated_at", "pk"),
    "-updated_at": ("-updated_at", "-pk"),
    "created_at": ("created_at", "pk"),
    "-created_at": ("-created_at", "-pk"),
    "amount": ("amount", "pk"),
    "-amount": ("-amount", "-pk"),
}

#: Named close periods the board and the list offer.
ClosePeriod = Literal[
    "overdue",
    "this_month",
    "next_month",
    "this_quarter",
    "next_quarter",
    "this_year",
    "next_year",
]


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_range(period: str, today: dt.date | None = None) -> tuple[dt.date | None, dt.date]:
    """First and last day of a named period (``overdue``: everything before today)."""
    today = today or timezone.localdate()
    month = _month_start(today)
    quarter = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    starts: dict[str, tuple[dt.date, int]] = {
        "this_month": (month, 1),
        "next_month": (_add_months(month, 1), 1),
        "this_quarter": (quarter, 3),
        "next_quarter": (_add_months(quarter, 3), 3),
        "this_year": (dt.date(today.year, 1, 1), 12),
        "next_year": (dt.date(today.year + 1, 1, 1), 12),
    }
    if period == "overdue":
        return None, today - dt.timedelta(days=1)
    start, months = starts[period]
    return start, _add_months(start, months) - dt.timedelta(days=1)


def close_date_condition(first: dt.date | None, last: dt.date | None) -> Q:
    """Deals closing in [first, last]: open ones by expected close date, closed by close day."""
    open_q = Q(status=StageKind.OPEN)
    closed_q = ~Q(status=StageKind.OPEN)
    if first is not None:
        open_q &= Q(expected_close_date__gte=first)
        closed_q &= Q(closed_on__gte=first)
    if last is not None:
        open_q &= Q(expected_close_date__lte=last)
        closed_q &= Q(closed_on__lte=last)
    return open_q | closed_q


class OpportunityFilters(BaseModel):
    """What the user filtered the deal list (or the board) by."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(None, max_length=200, description="Search name and external id")
    pipeline: PositiveId | None = Field(None, description="Pipeline id")
    stage: list[PositiveId] = Field(default_factory=list, description="Stage ids")
    owner: list[PositiveId] = Field(default_factory=list, description="Owner user ids")
    team: list[PositiveId] = Field(default_factory=list, description="Owner's team ids")
    type: list[OpportunityType] = Field(default_factory=list)
    status: list[StageKind] = Field(default_factory=list)
    forecast_category: list[ForecastCategory] = Field(default_factory=list)
    currency: str | None = Field(None, min_length=3, max_length=3)
    account: PositiveId | None = Field(None, description="Account id")
    close: ClosePeriod | None = Field(
        None, description="Named close period (expected close for open deals, close day else)"
    )
    close_from: dt.date | None = Field(None, description="Closing on or after this day")
    close_to: dt.date | None = Field(None, description="Closing on or before this day")
    stuck: bool | None = Field(None, description="Only deals longer than usual in their stage")
    sort: OpportunitySort = "-updated_at"

    def close_bounds(self) -> tuple[dt.date | None, dt.date | None] | None:
        """The close window these filters ask for, or ``None`` for any."""
        if self.close is None and self.close_from is None and self.close_to is None:
            return None
        first, last = (None, None)
        if self.close is not None:
            first, last = period_range(self.close)
        if self.close_from is not None:
            first = max(first, self.close_from) if first else self.close_from
        if self.close_to is not None:
            last = min(last, self.close_to) if last else self.close_to
        return first, last

    def apply(self, queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        """Narrow ``queryset`` (already scoped to the user) to these filters."""
        conditions = Q()
        if self.pipeline is not None:
            conditions &= Q(pipeline_id=self.pipeline)
        if self.stage:
            conditions &= Q(stage_id__in=self.stage)
        if self.owner:
            conditions &= Q(owner_id__in=self.owner)
        if self.team:
            conditions &= Q(owner__team_id__in=self.team)
        if self.type:
            conditions &= Q(type__in=self.type)
        if self.status:
            conditions &= Q(status__in=self.status)
        if self.forecast_category:
            conditions &= Q(forecast_category__in=self.forecast_category)
        if self.currency:
            conditions &= Q(currency=self.currency.upper())
        if self.account is not None:
            conditions &= Q(account_id=self.account)
        bounds = self.close_bounds()
        if bounds is not None:
            conditions &= close_date_condition(*bounds)
        queryset = queryset.filter(conditions)
        if self.stuck:
            queryset = stuck_only(queryset)
        return search(queryset, self.q)

    @property
    def ordering(self) -> tuple[str, ...]:
        """Keyset ordering for the chosen sort."""
        return OPPORTUNITY_ORDERINGS[self.sort]


def stuck_only(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """Open deals that have been in their stage longer than the stage's usual days.

    Stages are few: their limits are read first (one small query) and each becomes a
    ``stage = s AND stage_entered_at < now - usual days`` condition, the same on SQLite and
    PostgreSQL, each served by an index range.
    """
    from .models import Stage

    now = timezone.now()
    limits = Stage.objects.filter(kind=StageKind.OPEN, usual_days__isnull=False).values_list(
        "pk", "usual_days"
    )
    condition = Q(pk__in=[])
    for stage_id, days in limits:
        condition |= Q(stage_id=stage_id, stage_entered_at__lt=now - dt.timedelta(days=days or 0))
    return queryset.filter(condition, status=StageKind.OPEN)


def search(queryset: QuerySet[Opportunity], query: str | None) -> QuerySet[Opportunity]:
    """Deals whose name or external id holds every word of ``query`` (accents and case ignored).

    On PostgreSQL the trigram index ``opp_search_trgm_idx`` serves the ``LIKE '%word%'``.
    """
    for word in search_terms(query):
        queryset = queryset.filter(search_text__contains=word)
    return queryset
