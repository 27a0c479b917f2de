"""Reads of deals and pipelines, always scoped to what the user may see.

The board and the forecast are aggregates in SQL (``GROUP BY`` stage or owner/period/currency),
never Python loops over deals; amounts are summed as integer cents (``ROUND(amount * 100)``),
so totals are exact on SQLite (which stores decimals as floating point) and PostgreSQL alike,
and never mixed across currencies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from auditlog.models import LogEntry
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateField,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.functions import Cast, Round, TruncMonth, TruncQuarter
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field

from cartera.core.audit import history_for
from cartera.core.errors import Forbidden, NotFound
from cartera.core.export import CHUNK_SIZE, Row
from cartera.core.filters import PositiveId
from cartera.core.money import round_money
from cartera.core.pagination import Page, keyset_page
from cartera.users.models import User

from .filters import OpportunityFilters, _add_months
from .models import (
    ForecastCategory,
    LossReason,
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    OpportunityType,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from .services import line_total

#: Cards a board column shows; the rest are one click away ("show more" opens the list).
BOARD_COLUMN_LIMIT = 50
#: Without a close period, won and lost columns show the deals closed in these last days.
BOARD_CLOSED_DAYS = 90


# --------------------------------------------------------------------------------------------
# Deals


def visible_opportunities(user: User, *, trashed: bool = False) -> QuerySet[Opportunity]:
    """Deals ``user`` may see, alive or in the trash."""
    queryset = Opportunity.objects.visible_to(user)
    return queryset.trashed() if trashed else queryset.alive()


def get_opportunity_for_user(
    user: User, pk: int | str, *, write: bool = False, trashed: bool = False
) -> Opportunity:
    """The deal ``pk`` if ``user`` may see it (404 otherwise, missing or forbidden alike).

    With ``write``, a user who may only read gets 403.
    """
    try:
        opportunity = (
            visible_opportunities(user, trashed=trashed)
            .select_related("pipeline", "stage", "owner", "account", "loss_reason")
            .get(pk=int(pk))
        )
    except (Opportunity.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc
    if write and not user.can_write:
        raise Forbidden()
    return opportunity


def annotate_aging(opportunity: Opportunity, *, now: dt.datetime | None = None) -> Opportunity:
    """Set ``days_in_stage`` and ``is_stuck`` (longer in the stage than its usual days)."""
    now = now or timezone.now()
    days = max((now - opportunity.stage_entered_at).days, 0)
    usual = opportunity.stage.usual_days
    opportunity.days_in_stage = days  # type: ignore[attr-defined]
    opportunity.is_stuck = bool(  # type: ignore[attr-defined]
        opportunity.status == StageKind.OPEN and usual is not None and days > usual
    )
    return opportunity


def opportunity_list(
    user: User,
    filters: OpportunityFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    trashed: bool = False,
) -> Page[Opportunity]:
    """One keyset page of the user's deals, filtered, with stage, owner and account.

    1 query (2 for people whose view is scoped: their visible accounts are read first).
    """
    queryset = filters.apply(visible_opportunities(user, trashed=trashed)).select_related(
        "pipeline", "stage", "owner", "account"
    )
    page = keyset_page(queryset, ordering=filters.ordering, cursor=cursor, limit=limit)
    now = timezone.now()
    for item in page.items:
        annotate_aging(item, now=now)
    return page


def opportunity_detail(user: User, pk: int | str, *, trashed: bool = False) -> Opportunity:
    """A deal with what its page shows: contacts with roles, product lines (3 queries)."""
    opportunity = get_opportunity_for_user(user, pk, trashed=trashed)
    contacts = OpportunityContact.objects.select_related("contact").order_by(
        "contact__last_name", "contact__first_name", "pk"
    )
    lines = OpportunityLine.objects.select_related("product").order_by("position", "pk")
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(
        [opportunity],
        Prefetch("contact_roles", queryset=contacts),
        Prefetch("lines", queryset=lines),
    )
    for line in opportunity.lines.all():
        line.opportunity = opportunity
        line.total = line_total(line, opportunity.currency)  # type: ignore[attr-defined]
    return annotate_aging(opportunity)


def contact_choices(user: User, opportunity: Opportunity, *, limit: int = 200) -> list[Any]:
    """Contacts ``user`` may add to the deal: those of its account they see, not on it yet."""
    from cartera.contacts.models import Contact

    if opportunity.account_id is None:
        return []
    return list(
        Contact.objects.visible_to(user)
        .alive()
        .filter(account_links__account_id=opportunity.account_id)
        .exclude(opportunity_roles__opportunity=opportunity)
        .only("pk", "first_name", "last_name")
        .order_by("last_name", "first_name", "pk")
        .distinct()[:limit]
    )


@dataclass(frozen=True)
class StageVisit:
    """A stay of a deal in one stage: when it came, from where, who moved it, how long."""

    change: StageChange
    left_at: dt.datetime | None
    duration: dt.timedelta | None
    is_current: bool

    @property
    def days(self) -> int | None:
        """Whole days spent in the stage (``None`` for the stage a closed deal rests in)."""
        return None if self.duration is None else self.duration.days


def stage_history(opportunity: Opportunity) -> list[StageVisit]:
    """The deal's stages in order with the time spent in each (1 query)."""
    changes = list(
        StageChange.objects.filter(opportunity=opportunity)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "pk")
    )
    now = timezone.now()
    visits: list[StageVisit] = []
    for index, change in enumerate(changes):
        following = changes[index + 1] if index + 1 < len(changes) else None
        if following is not None:
            left: dt.datetime | None = following.changed_at
            duration: dt.timedelta | None = max(
                following.changed_at - change.changed_at, dt.timedelta(0)
            )
        else:
            left = None
            is_open = opportunity.status == StageKind.OPEN
            duration = max(now - change.changed_at, dt.timedelta(0)) if is_open else None
        visits.append(
            StageVisit(change=change, left_at=left, duration=duration, is_current=following is None)
        )
    return visits


def opportunity_history(user: User, opportunity: Opportunity) -> QuerySet[LogEntry]:
    """Audit entries of a deal and of its contact and product lines, newest first."""
    return history_for(opportunity, related_key="opportunity_id")


def account_opportunities(user: User, account: Any, *, limit: int = 20) -> list[Opportunity]:
    """The deals on ``account`` that ``user`` sees: open ones first by close date, then closed.

    For the account page (``sales/partials/account_deals.html``); 1 query (2 when scoped).
    """
    status_order = Case(
        When(status=StageKind.OPEN, then=0), default=1, output_field=BigIntegerField()
    )
    rows = list(
        visible_opportunities(user)
        .filter(account_id=account.pk)
        .select_related("stage", "owner")
        .annotate(status_order=status_order)
        .order_by(
            "status_order",
            F("expected_close_date").asc(nulls_last=True),
            F("closed_on").desc(nulls_last=True),
            "-pk",
        )[:limit]
    )
    now = timezone.now()
    return [annotate_aging(row, now=now) for row in rows]


# --------------------------------------------------------------------------------------------
# Pipelines


def pipelines(*, active_only: bool = True) -> list[Pipeline]:
    """Every pipeline (active ones, by default) in their order."""
    queryset = Pipeline.objects.all()
    if active_only:
        queryset = queryset.filter(is_active=True)
    return list(queryset.order_by("position", "name"))


def pipelines_with_stages(*, active_only: bool = True) -> list[Pipeline]:
    """Pipelines in their order with their stages loaded (2 queries)."""
    queryset = Pipeline.objects.prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("position", "pk"))
    )
    if active_only:
        queryset = queryset.filter(is_active=True)
    return list(queryset.order_by("position", "name"))


def get_pipeline(pk: int | str) -> Pipeline:
    """A pipeline with its stages loaded (pipelines are visible to everyone who signs in)."""
    try:
        return Pipeline.objects.prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("position", "pk"))
        ).get(pk=int(pk))
    except (Pipeline.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc


def get_stage(pk: int | str) -> Stage:
    """A stage by id, with its pipeline."""
    try:
        return Stage.objects.select_related("pipeline").get(pk=int(pk))
    except (Stage.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc


def get_loss_reason(pk: int | str) -> LossReason:
    """A loss reason by id."""
    try:
        return LossReason.objects.get(pk=int(pk))
    except (LossReason.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc


def stages_of(pipeline: Pipeline) -> list[Stage]:
    """The pipeline's stages in order."""
    return list(Stage.objects.filter(pipeline=pipeline).order_by("position", "pk"))


def active_loss_reasons() -> list[LossReason]:
    """The loss reasons a user may choose from."""
    return list(LossReason.objects.filter(is_active=True).order_by("position", "name"))


def loss_reasons() -> list[LossReason]:
    """Every loss reason, retired ones too (settings page)."""
    return list(LossReason.objects.order_by("position", "name"))


def stage_deal_counts(pipeline: Pipeline) -> dict[int, int]:
    """Deals (trash included) per stage of ``pipeline``: a stage with deals cannot be deleted."""
    rows = (
        Opportunity.objects.filter(pipeline=pipeline)
        .values("stage_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["stage_id"]: row["n"] for row in rows}


# --------------------------------------------------------------------------------------------
# Sums in exact cents

_CENTS = Cast(Round(F("amount") * 100), BigIntegerField())


def cents(value: int | None, currency: str) -> Decimal:
    """Integer cents summed in SQL → a ``Decimal`` amount in ``currency``'s precision."""
    return round_money(Decimal(value or 0) / 100, currency)


@dataclass
class MoneyTotal:
    """The count, amount and weighted amount of some deals in one currency."""

    currency: str
    count: int = 0
    amount: Decimal = Decimal("0")
    weighted: Decimal = Decimal("0")


def _weighted(cent_percent: int | None, currency: str) -> Decimal:
    """Σ cents x probability → amount x probability / 100, rounded to the currency."""
    return round_money(Decimal(cent_percent or 0) / 10000, currency)


# --------------------------------------------------------------------------------------------
# Board


@dataclass
class BoardColumn:
    """One stage of the board: its first cards and totals over all its matching deals."""

    stage: Stage
    cards: list[Opportunity]
    totals: list[MoneyTotal]
    count: int
    closed_since: dt.date | None = None

    @property
    def has_more(self) -> bool:
        """More deals match than the column shows."""
        return self.count > len(self.cards)


@dataclass
class Board:
    """A pipeline's board for one user and filter set."""

    pipeline: Pipeline
    columns: list[BoardColumn]
    closed_since: dt.date | None


def board_queryset(
    user: User, pipeline: Pipeline, filters: OpportunityFilters
) -> tuple[QuerySet[Opportunity], dt.date | None]:
    """The deals the board of ``pipeline`` counts, and the day closed deals are shown from."""
    # The columns are the pipeline's stages: ``stage_id IN (…)`` already picks the pipeline.
    base = filters.model_copy(update={"pipeline": None}).apply(visible_opportunities(user))
    closed_since = None
    if filters.close_bounds() is None:
        closed_since = timezone.localdate() - dt.timedelta(days=BOARD_CLOSED_DAYS)
        # Open deals have no close day (the services keep it so): one index range per stage.
        base = base.filter(Q(closed_on__isnull=True) | Q(closed_on__gte=closed_since))
    return base, closed_since


def board(
    user: User,
    pipeline: Pipeline,
    filters: OpportunityFilters,
    *,
    per_column: int = BOARD_COLUMN_LIMIT,
    stage_ids: list[int] | None = None,
) -> Board:
    """The board of ``pipeline``: per stage at most ``per_column`` cards and exact totals.

    Queries: (scoped people: their visible accounts,) the stages, one ``GROUP BY stage,
    currency`` for the totals (``opp_board_totals_idx``), then one ``LIMIT``ed
    read per stage on ``opp_board_idx`` (open stages: soonest expected close first; won and lost:
    latest close first on ``opp_board_closed_idx``). ``stage_ids`` rebuilds only those columns
    (after a move, or a stale board).
    """
    stages = stages_of(pipeline)
    if stage_ids is not None:
        stages = [stage for stage in stages if stage.pk in set(stage_ids)]
    base, closed_since = board_queryset(user, pipeline, filters)
    totals: dict[int, list[MoneyTotal]] = {}
    rows = (
        base.filter(stage_id__in=[stage.pk for stage in stages])
        .values("stage_id", "currency")
        .annotate(n=Count("pk"), total=Sum(_CENTS), weighted=Sum(_CENTS * F("probability")))
        .order_by("stage_id", "currency")
    )
    for row in rows:
        currency = row["currency"]
        totals.setdefault(row["stage_id"], []).append(
            MoneyTotal(
                currency=currency,
                count=row["n"],
                amount=cents(row["total"], currency),
                weighted=_weighted(row["weighted"], currency),
            )
        )
    now = timezone.now()
    columns = []
    for stage in stages:
        stage_totals = totals.get(stage.pk, [])
        count = sum(total.count for total in stage_totals)
        cards: list[Opportunity] = []
        if count:
            if stage.kind == StageKind.OPEN:
                order: list[Any] = [F("expected_close_date").asc(nulls_last=True), "pk"]
            else:
                order = [F("closed_on").desc(nulls_last=True), "-pk"]
            cards = list(
                base.filter(stage_id=stage.pk)
                .select_related("owner", "account")
                .order_by(*order)[:per_column]
            )
            for card in cards:
                card.stage = stage
                annotate_aging(card, now=now)
        columns.append(
            BoardColumn(
                stage=stage,
                cards=cards,
                totals=stage_totals,
                count=count,
                closed_since=closed_since if stage.kind != StageKind.OPEN else None,
            )
        )
    return Board(pipeline=pipeline, columns=columns, closed_since=closed_since)


# --------------------------------------------------------------------------------------------
# Forecast

ForecastGroup = Literal["owner", "team", "pipeline"]
ForecastPeriod = Literal["month", "quarter"]

_GROUP_FIELDS: dict[str, tuple[str, str]] = {
    "owner": ("owner_id", "owner__full_name"),
    "team": ("owner__team_id", "owner__team__name"),
    "pipeline": ("pipeline_id", "pipeline__name"),
}

#: The forecast's columns, in order, and the deal-list filters behind each.
FORECAST_COLUMNS: tuple[str, ...] = ("won", "commit", "best_case", "pipeline", "weighted")
_COLUMN_FILTERS: dict[str, dict[str, list[str]]] = {
    "won": {"status": [StageKind.WON]},
    "commit": {"status": [StageKind.OPEN], "forecast_category": [ForecastCategory.COMMIT]},
    "best_case": {
        "status": [StageKind.OPEN],
        "forecast_category": [ForecastCategory.COMMIT, ForecastCategory.BEST_CASE],
    },
    "pipeline": {
        "status": [StageKind.OPEN],
        "forecast_category": [
            ForecastCategory.PIPELINE,
            ForecastCategory.BEST_CASE,
            ForecastCategory.COMMIT,
        ],
    },
}
_COLUMN_FILTERS["weighted"] = _COLUMN_FILTERS["pipeline"]


class ForecastFilters(BaseModel):
    """What the forecast shows: grouping, period size and window, and narrowing filters."""

    model_config = ConfigDict(extra="forbid")

    group: ForecastGroup = "owner"
    period: ForecastPeriod = "quarter"
    start: dt.date | None = Field(None, description="A day in the first period (default: today)")
    periods: int = Field(4, ge=1, le=12, description="How many periods")
    pipeline: PositiveId | None = None
    owner: list[PositiveId] = Field(default_factory=list)
    team: list[PositiveId] = Field(default_factory=list)
    type: list[OpportunityType] = Field(default_factory=list)
    currency: str | None = Field(None, min_length=3, max_length=3)

    def window(self) -> list[tuple[dt.date, dt.date]]:
        """First and last day of every period shown."""
        day = self.start or timezone.localdate()
        months = 3 if self.period == "quarter" else 1
        first = dt.date(day.year, (day.month - 1) // months * months + 1, 1)
        bounds = []
        for index in range(self.periods):
            start = _add_months(first, index * months)
            bounds.append((start, _add_months(start, months) - dt.timedelta(days=1)))
        return bounds


@dataclass
class ForecastCell:
    """The figures of one group, period and currency."""

    won: Decimal = Decimal("0")
    commit: Decimal = Decimal("0")
    best_case: Decimal = Decimal("0")
    pipeline: Decimal = Decimal("0")
    weighted: Decimal = Decimal("0")
    won_count: int = 0
    commit_count: int = 0
    best_case_count: int = 0
    pipeline_count: int = 0

    def add(self, other: ForecastCell) -> None:
        """Add ``other`` (same currency) into this cell."""
        for name in (
            *FORECAST_COLUMNS,
            "won_count",
            "commit_count",
            "best_case_count",
            "pipeline_count",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def count(self, column: str) -> int:
        """Deals behind ``column``."""
        return int(getattr(self, f"{'pipeline' if column == 'weighted' else column}_count"))


@dataclass
class ForecastRow:
    """One rep, team or pipeline in one currency, with a cell per period."""

    key: int | None
    label: str
    currency: str
    cells: dict[dt.date, ForecastCell] = field(default_factory=dict)
    total: ForecastCell = field(default_factory=ForecastCell)


@dataclass
class Forecast:
    """The forecast table: rows per group and currency, and totals per currency."""

    filters: ForecastFilters
    periods: list[tuple[dt.date, dt.date]]
    rows: list[ForecastRow]
    totals: list[ForecastRow]

    def link(
        self,
        column: str,
        *,
        row: ForecastRow | None = None,
        period: tuple[dt.date, dt.date] | None = None,
        currency: str,
    ) -> dict[str, Any]:
        """The deal-list filters that list the deals behind one figure."""
        return forecast_link(
            self.filters, column, row=row, period=period, currency=currency, window=self.periods
        )


def forecast_link(
    filters: ForecastFilters,
    column: str,
    *,
    row: ForecastRow | None,
    period: tuple[dt.date, dt.date] | None,
    currency: str,
    window: list[tuple[dt.date, dt.date]],
) -> dict[str, Any]:
    """Query parameters of the deal list behind a forecast figure."""
    first, last = period or (window[0][0], window[-1][1])
    params: dict[str, Any] = {
        "close_from": first.isoformat(),
        "close_to": last.isoformat(),
        "currency": currency,
        **{key: ",".join(values) for key, values in _COLUMN_FILTERS[column].items()},
    }
    if filters.pipeline:
        params["pipeline"] = filters.pipeline
    if filters.owner:
        params["owner"] = ",".join(map(str, filters.owner))
    if filters.team:
        params["team"] = ",".join(map(str, filters.team))
    if filters.type:
        params["type"] = ",".join(filters.type)
    if row is not None and row.key is not None:
        params[filters.group] = row.key
    return params


def forecast(user: User, filters: ForecastFilters) -> Forecast:
    """The weighted forecast: one ``GROUP BY group, period, currency`` query (2 with stages).

    - closed won: won deals by their close day;
    - commit / best case (includes commit) / pipeline (every open deal not omitted): open deals
      by expected close date, by forecast category;
    - weighted: Σ amount x probability of those open deals.
    Amounts in different currencies are separate rows, never added.
    """
    periods = filters.window()
    first, last = periods[0][0], periods[-1][1]
    queryset = visible_opportunities(user).filter(
        Q(status=StageKind.WON, closed_on__gte=first, closed_on__lte=last)
        | (
            Q(
                status=StageKind.OPEN,
                expected_close_date__gte=first,
                expected_close_date__lte=last,
            )
            & ~Q(forecast_category=ForecastCategory.OMITTED)
        )
    )
    if filters.pipeline:
        queryset = queryset.filter(pipeline_id=filters.pipeline)
    if filters.owner:
        queryset = queryset.filter(owner_id__in=filters.owner)
    if filters.team:
        queryset = queryset.filter(owner__team_id__in=filters.team)
    if filters.type:
        queryset = queryset.filter(type__in=filters.type)
    if filters.currency:
        queryset = queryset.filter(currency=filters.currency.upper())
    day = Case(
        When(status=StageKind.WON, then=F("closed_on")),
        default=F("expected_close_date"),
        output_field=DateField(),
    )
    trunc = TruncQuarter if filters.period == "quarter" else TruncMonth
    key_field, label_field = _GROUP_FIELDS[filters.group]
    is_open = Q(status=StageKind.OPEN)
    commit = is_open & Q(forecast_category=ForecastCategory.COMMIT)
    best = is_open & Q(forecast_category__in=[ForecastCategory.COMMIT, ForecastCategory.BEST_CASE])
    won = Q(status=StageKind.WON)
    rows = (
        queryset.annotate(period_start=trunc(day, output_field=DateField()))
        .values(key_field, label_field, "period_start", "currency")
        .annotate(
            won=Sum(_CENTS, filter=won),
            won_count=Count("pk", filter=won),
            commit=Sum(_CENTS, filter=commit),
            commit_count=Count("pk", filter=commit),
            best_case=Sum(_CENTS, filter=best),
            best_case_count=Count("pk", filter=best),
            pipeline=Sum(_CENTS, filter=is_open),
            pipeline_count=Count("pk", filter=is_open),
            weighted=Sum(_CENTS * F("probability"), filter=is_open),
        )
        .order_by()
    )
    table: dict[tuple[int | None, str], ForecastRow] = {}
    totals: dict[str, ForecastRow] = {}
    for row in rows:
        currency = row["currency"]
        period_start = row["period_start"]
        if isinstance(period_start, dt.datetime):
            period_start = period_start.date()
        cell = ForecastCell(
            won=cents(row["won"], currency),
            commit=cents(row["commit"], currency),
            best_case=cents(row["best_case"], currency),
            pipeline=cents(row["pipeline"], currency),
            weighted=_weighted(row["weighted"], currency),
            won_count=row["won_count"],
            commit_count=row["commit_count"],
            best_case_count=row["best_case_count"],
            pipeline_count=row["pipeline_count"],
        )
        key = row[key_field]
        forecast_row = table.setdefault(
            (key, currency),
            ForecastRow(key=key, label=row[label_field] or "", currency=currency),
        )
        forecast_row.cells.setdefault(period_start, ForecastCell()).add(cell)
        forecast_row.total.add(cell)
        total_row = totals.setdefault(currency, ForecastRow(key=None, label="", currency=currency))
        total_row.cells.setdefault(period_start, ForecastCell()).add(cell)
        total_row.total.add(cell)
    ordered = sorted(table.values(), key=lambda r: (r.currency, r.label.casefold(), r.key or 0))
    return Forecast(
        filters=filters,
        periods=periods,
        rows=ordered,
        totals=[totals[c] for c in sorted(totals)],
    )


# --------------------------------------------------------------------------------------------
# Export


def opportunity_export_rows(user: User, filters: OpportunityFilters) -> Iterator[Row]:
    """Every deal matching ``filters`` that ``user`` sees, in list order, as export rows."""
    from .exports import OPPORTUNITY_EXPORT

    queryset = (
        filters.apply(visible_opportunities(user))
        .order_by(*filters.ordering)
        .values("id", *OPPORTUNITY_EXPORT.fields())
    )
    return queryset.iterator(chunk_size=CHUNK_SIZE)
