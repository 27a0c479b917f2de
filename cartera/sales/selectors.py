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
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field

from cartera.core.audit import history_for
from cartera.core.errors import Forbidden, InvalidInput, NotFound
from cartera.core.export import CHUNK_SIZE, Row
from cartera.core.filters import PositiveId
from cartera.core.money import round_money
from cartera.core.pagination import Page, keyset_page
from cartera.core.text import search_terms
from cartera.users.models import User

from . import rollups
from .filters import OpportunityFilters, _add_months
from .models import (
    NO_MONTH,
    VISIBLE_ACCOUNTS_LIMIT,
    DealVisibility,
    ForecastCategory,
    LossReason,
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    OpportunityRollup,
    OpportunityType,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
    deal_visibility,
)
from .services import line_total

#: Cards a board column shows by default in the API; the rest are one click away.
BOARD_COLUMN_LIMIT = 50
#: Cards a column of the board page shows, and adds on each "Show more" (``board_more``).
BOARD_PAGE_CARDS = 20
#: The columns a board card shows (``{% board_cards %}``); the page reads only these.
BOARD_CARD_FIELDS = (
    "version",
    "name",
    "stage",
    "account__name",
    "amount",
    "currency",
    "status",
    "expected_close_date",
    "closed_on",
    "stage_entered_at",
    "owner__full_name",
    "owner__email",
)
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


#: Columns no deal list (page or API) shows, left out of ``opportunity_list``'s read.
UNSHOWN_LIST_FIELDS = (
    "search_text",
    "account__phone",
    "account__description",
    "account__search_text",
)


def opportunity_list(
    user: User,
    filters: OpportunityFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    trashed: bool = False,
) -> Page[Opportunity]:
    """One keyset page of the user's deals, filtered, with stage, owner and account.

    1 query (2 for people whose view is scoped: their visible accounts are read first, or
    checked to be many; see ``list_page``).
    """
    from .list_page import list_visible_opportunities

    queryset = (
        filters.apply(list_visible_opportunities(user, trashed=trashed))
        .select_related("pipeline", "stage", "owner", "account")
        # Rows show the account's name: its phone (parsed on load, ~0.1 ms each) and long
        # texts stay in the database, as does the deal's search column.
        .defer(*UNSHOWN_LIST_FIELDS)
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


#: The trash page: most recently trashed first.
TRASH_ORDERING = ("-deleted_at", "-pk")


def trashed_opportunity_list(
    user: User,
    filters: OpportunityFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Opportunity]:
    """One keyset page of the user's deals in the trash, most recently trashed first.

    Each deal gets ``trashed_by``: who moved it there, from the audit trail (the newest entry
    of the deal that changed ``deleted_at``), read for the whole page in one query. 2 queries
    (3 for people whose view is scoped: their visible accounts are read first).
    """
    from django.contrib.contenttypes.models import ContentType

    queryset = filters.apply(visible_opportunities(user, trashed=True)).select_related(
        "pipeline", "stage", "owner", "account"
    )
    page = keyset_page(queryset, ordering=TRASH_ORDERING, cursor=cursor, limit=limit)
    trashed_by: dict[int, Any] = {}
    if page.items:
        entries = (
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Opportunity),
                object_id__in=[deal.pk for deal in page.items],
                changes__has_key="deleted_at",
            )
            .select_related("actor")
            .order_by("-timestamp", "-pk")
        )
        for entry in entries:
            trashed_by.setdefault(entry.object_id, entry.actor)
    for deal in page.items:
        deal.trashed_by = trashed_by.get(deal.pk)  # type: ignore[attr-defined]
    return page


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

_CENTS = rollups.CENTS


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

    @property
    def more_after(self) -> str | None:
        """Where "Show more" continues (``card_cursor`` of the last card), if more match."""
        return card_cursor(self.stage, self.cards[-1]) if self.has_more and self.cards else None


@dataclass
class Board:
    """A pipeline's board for one user and filter set."""

    pipeline: Pipeline
    columns: list[BoardColumn]
    closed_since: dt.date | None


def _board_deals(
    deals: QuerySet[Opportunity], filters: OpportunityFilters
) -> tuple[QuerySet[Opportunity], dt.date | None]:
    """``deals`` narrowed as the board narrows them, and the day closed deals are shown from."""
    # The columns are the pipeline's stages: ``stage_id IN (…)`` already picks the pipeline.
    base = filters.model_copy(update={"pipeline": None}).apply(deals)
    closed_since = None
    if filters.close_bounds() is None:
        closed_since = timezone.localdate() - dt.timedelta(days=BOARD_CLOSED_DAYS)
        # Open deals have no close day (the services keep it so): one index range per stage.
        base = base.filter(Q(closed_on__isnull=True) | Q(closed_on__gte=closed_since))
    return base, closed_since


def board_queryset(
    user: User, pipeline: Pipeline, filters: OpportunityFilters
) -> tuple[QuerySet[Opportunity], dt.date | None]:
    """The deals the board of ``pipeline`` counts, and the day closed deals are shown from."""
    return _board_deals(visible_opportunities(user), filters)


def rollup_conditions(filters: OpportunityFilters) -> Q | None:
    """``filters`` as conditions on the totals table's key (``OpportunityRollup``).

    ``None`` when they need the deals themselves: a search, an account, stuck deals, or a close
    period that does not start and end on whole months (the board then sums the deals).
    """
    if filters.account is not None or filters.stuck or search_terms(filters.q):
        return None
    condition = Q()
    if filters.stage:
        condition &= Q(stage_id__in=filters.stage)
    if filters.owner:
        condition &= Q(owner_id__in=filters.owner)
    if filters.team:
        condition &= Q(owner__team_id__in=filters.team)
    if filters.type:
        condition &= Q(type__in=filters.type)
    if filters.status:
        condition &= Q(status__in=filters.status)
    if filters.forecast_category:
        condition &= Q(forecast_category__in=filters.forecast_category)
    if filters.currency:
        condition &= Q(currency=filters.currency.upper())
    bounds = filters.close_bounds()
    if bounds is not None:
        months = rollups.month_bounds(*bounds)
        if months is None:
            return None
        condition &= months
    return condition


def _deal_sums(deals: QuerySet[Opportunity]) -> QuerySet[Any]:
    return (
        deals.values("stage_id", "currency")
        .annotate(n=Count("pk"), cents=Sum(_CENTS), cent_percent=Sum(_CENTS * F("probability")))
        .order_by()
    )


def _seen_through_accounts(
    filters: OpportunityFilters, others: Q, stage_ids: list[int]
) -> QuerySet[Opportunity]:
    """The board's deals seen only through an account, read by account (``opp_account_idx``).

    The closed-deal window is written as ``COALESCE(closed_on, 9999-12-31) >= since`` (the same
    rows as ``closed_on IS NULL OR closed_on >= since``), which no board index serves, so
    PostgreSQL reads the visible accounts' deals instead of every deal of the columns.
    """
    deals = filters.model_copy(update={"pipeline": None}).apply(Opportunity.objects.alive())
    deals = deals.filter(others, stage_id__in=stage_ids)
    if filters.close_bounds() is None:
        since = timezone.localdate() - dt.timedelta(days=BOARD_CLOSED_DAYS)
        close_day = Coalesce("closed_on", Value(dt.date.max), output_field=DateField())
        deals = deals.alias(close_day=close_day).filter(close_day__gte=since)
    return deals


def board_totals(
    visibility: DealVisibility | None,
    stages: list[Stage],
    filters: OpportunityFilters,
    closed_since: dt.date | None,
) -> dict[int, list[MoneyTotal]]:
    """Per stage and currency: count, amount and weighted amount of the board's deals (1 query).

    Read from the totals table (``OpportunityRollup``) when the filters are its key's; one
    ``UNION ALL`` adds what it cannot hold, each part a small index range of deals:

    - won and lost columns show deals closed since ``closed_since`` (a day): whole months from
      the table, the days of the first, partial month from the deals;
    - people whose view is scoped: the table's rows of the owners in their scope, plus the deals
      they see only through an account they see (owned by someone outside their scope).

    Other filters (search, account, stuck, periods cutting a month) sum the deals, as before.
    """
    stage_ids = [stage.pk for stage in stages]
    if not stage_ids or (visibility is not None and visibility.sees_nothing):
        return {}
    deals, _since = _board_deals(Opportunity.objects.alive(), filters)
    deals = deals.filter(stage_id__in=stage_ids)
    conditions = rollup_conditions(filters)
    parts: list[QuerySet[Any]] = []
    if conditions is None:
        seen, _since = _board_deals(Opportunity.objects.alive().seen_with(visibility), filters)
        parts.append(_deal_sums(seen.filter(stage_id__in=stage_ids)))
    else:
        table = OpportunityRollup.objects.filter(conditions, stage_id__in=stage_ids)
        own = deals
        if visibility is not None:
            table = table.filter(owner_id__in=visibility.owners)
            own = deals.filter(owner_id__in=visibility.owners)
            others = visibility.through_accounts()
            if others is not None:
                parts.append(_deal_sums(_seen_through_accounts(filters, others, stage_ids)))
        if closed_since is not None:
            boundary = closed_since if closed_since.day == 1 else _add_months(closed_since, 1)
            table = table.filter(
                Q(status=StageKind.OPEN) | Q(month=NO_MONTH) | Q(month__gte=boundary)
            )
            closed = [stage.pk for stage in stages if stage.kind != StageKind.OPEN]
            if closed and boundary > closed_since:
                parts.append(_deal_sums(own.filter(stage_id__in=closed, closed_on__lt=boundary)))
        parts.insert(
            0,
            table.values("stage_id", "currency")
            .annotate(n=Sum("deals"), cents=Sum("amount_cents"), cent_percent=Sum("weighted"))
            .order_by(),
        )
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    sums: dict[tuple[int, str], list[int]] = {}
    for row in rows:
        found = sums.setdefault((row["stage_id"], row["currency"]), [0, 0, 0])
        found[0] += int(row["n"] or 0)
        found[1] += int(row["cents"] or 0)
        found[2] += int(row["cent_percent"] or 0)
    totals: dict[int, list[MoneyTotal]] = {}
    for (stage_id, currency), (count, amount, weighted) in sorted(sums.items()):
        if count:
            totals.setdefault(stage_id, []).append(
                MoneyTotal(
                    currency=currency,
                    count=count,
                    amount=cents(amount, currency),
                    weighted=_weighted(weighted, currency),
                )
            )
    return totals


def board(
    user: User,
    pipeline: Pipeline,
    filters: OpportunityFilters,
    *,
    per_column: int = BOARD_COLUMN_LIMIT,
    stage_ids: list[int] | None = None,
    card_fields: tuple[str, ...] | None = None,
) -> Board:
    """The board of ``pipeline``: per stage at most ``per_column`` cards and exact totals.

    Queries: (scoped people: their visible accounts,) the stages, one query for the totals
    (``board_totals``: the totals table, with a few deals added), then one ``LIMIT``ed
    read per stage on ``opp_board_idx`` (open stages: soonest expected close first; won and lost:
    latest close first on ``opp_board_closed_idx``). ``stage_ids`` rebuilds only those columns
    (after a move, or a stale board). ``card_fields`` reads only those columns of the cards
    (the page: ``BOARD_CARD_FIELDS``; the API returns whole deals).
    """
    stages = stages_of(pipeline)
    if stage_ids is not None:
        stages = [stage for stage in stages if stage.pk in set(stage_ids)]
    visibility = deal_visibility(user)
    seen = Opportunity.objects.alive().seen_with(visibility)
    if (
        visibility is not None
        and not visibility.sees_nothing
        and (
            not isinstance(visibility.accounts, list)
            or len(visibility.accounts) > VISIBLE_ACCOUNTS_LIMIT
        )
    ):
        # Many visible accounts: the cards (a few rows of ``opp_board_idx`` per column) test
        # each deal's account owner instead of hashing every visible account id per column.
        seen = Opportunity.objects.alive().filter(visibility.row_condition())
    base, closed_since = _board_deals(seen, filters)
    closed_base = filters.model_copy(update={"pipeline": None}).apply(seen)
    totals = board_totals(visibility, stages, filters, closed_since)
    columns = []
    for stage in stages:
        stage_totals = totals.get(stage.pk, [])
        count = sum(total.count for total in stage_totals)
        cards: list[Opportunity] = []
        if count:
            cards = _column_cards(
                base, closed_base, stage, closed_since, card_fields=card_fields, limit=per_column
            )
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


def _column_cards(
    base: QuerySet[Opportunity],
    closed_base: QuerySet[Opportunity],
    stage: Stage,
    closed_since: dt.date | None,
    *,
    card_fields: tuple[str, ...] | None,
    limit: int,
    after: Q | None = None,
) -> list[Opportunity]:
    """The first ``limit`` cards of ``stage``'s column (after ``after``, a keyset condition)."""
    deals = base
    if stage.kind == StageKind.OPEN:
        order: list[Any] = [F("expected_close_date").asc(nulls_last=True), "pk"]
    else:
        # Won and lost deals always have a close day (the services set it): a plain range and
        # order, so PostgreSQL reads the first cards in ``opp_board_closed_idx`` order instead
        # of sorting the whole window.
        order = [F("closed_on").desc(), "-pk"]
        if closed_since is not None:
            deals = closed_base.filter(closed_on__gte=closed_since)
    deals = deals.filter(stage_id=stage.pk).select_related("owner", "account")
    if after is not None:
        deals = deals.filter(after)
    if card_fields is not None:
        deals = deals.only(*card_fields)
    cards = list(deals.order_by(*order)[:limit])
    now = timezone.now()
    for card in cards:
        card.stage = stage
        annotate_aging(card, now=now)
    return cards


def card_cursor(stage: Stage, card: Opportunity) -> str:
    """Where a column's next cards start: after ``card`` (its sort key, ``"<day>.<id>"``)."""
    day = card.expected_close_date if stage.kind == StageKind.OPEN else card.closed_on
    return f"{day.isoformat() if day else '-'}.{card.pk}"


def _after_cursor(stage: Stage, cursor: str) -> Q:
    """The keyset condition "after ``cursor``" in ``stage``'s card order."""
    text_day, _dot, text_pk = cursor.partition(".")
    invalid = InvalidInput(field_errors={"after": [str(_("This is not a board position."))]})
    try:
        pk = int(text_pk)
        day = None if text_day == "-" else dt.date.fromisoformat(text_day)
    except ValueError as exc:
        raise invalid from exc
    if stage.kind != StageKind.OPEN:
        if day is None:
            raise invalid
        return Q(closed_on__lt=day) | Q(closed_on=day, pk__lt=pk)
    if day is None:  # nulls last: only deals without a day remain
        return Q(expected_close_date__isnull=True, pk__gt=pk)
    return (
        Q(expected_close_date__gt=day)
        | Q(expected_close_date=day, pk__gt=pk)
        | Q(expected_close_date__isnull=True)
    )


@dataclass
class MoreCards:
    """The next cards of a board column ("Show more")."""

    stage: Stage
    cards: list[Opportunity]
    more_after: str | None
    closed_since: dt.date | None


def board_more(
    user: User,
    pipeline: Pipeline,
    filters: OpportunityFilters,
    stage_id: int,
    after: str,
    *,
    limit: int = BOARD_PAGE_CARDS,
) -> MoreCards:
    """The next ``limit`` cards of a column after ``after`` (``card_cursor``), for "Show more".

    With the cursor after them (``more_after``; ``None``: the column is complete). Queries:
    (scoped people: their visible accounts,) the stages, one ``LIMIT``ed read of ``limit + 1``
    deals on the column's index.
    """
    stage = next((s for s in stages_of(pipeline) if s.pk == stage_id), None)
    if stage is None:
        raise NotFound()
    seen = Opportunity.objects.alive().seen_with(deal_visibility(user))
    base, closed_since = _board_deals(seen, filters)
    closed_base = filters.model_copy(update={"pipeline": None}).apply(seen)
    cards = _column_cards(
        base,
        closed_base,
        stage,
        closed_since,
        card_fields=BOARD_CARD_FIELDS,
        limit=limit + 1,
        after=_after_cursor(stage, after),
    )
    shown_since = closed_since if stage.kind != StageKind.OPEN else None
    if len(cards) <= limit:
        return MoreCards(stage, cards, None, shown_since)
    cards = cards[:limit]
    return MoreCards(stage, cards, card_cursor(stage, cards[-1]), shown_since)


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
        self.won += other.won
        self.commit += other.commit
        self.best_case += other.best_case
        self.pipeline += other.pipeline
        self.weighted += other.weighted
        self.won_count += other.won_count
        self.commit_count += other.commit_count
        self.best_case_count += other.best_case_count
        self.pipeline_count += other.pipeline_count

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


def _forecast_narrowed(queryset: QuerySet[Any], filters: ForecastFilters) -> QuerySet[Any]:
    """Deals or totals-table rows narrowed by the forecast's filters (the same field names)."""
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
    return queryset


_FORECAST_SUMS: tuple[str, ...] = (
    "won",
    "won_count",
    "commit",
    "commit_count",
    "best_case",
    "best_case_count",
    "pipeline",
    "pipeline_count",
    "weighted",
)


def _forecast_sums(amount: Any, count: Any, weighted: Any) -> dict[str, Any]:
    """The forecast's sums (in ``_FORECAST_SUMS`` order) over deals or totals-table rows."""
    is_open = Q(status=StageKind.OPEN)
    commit = is_open & Q(forecast_category=ForecastCategory.COMMIT)
    best = is_open & Q(forecast_category__in=[ForecastCategory.COMMIT, ForecastCategory.BEST_CASE])
    won = Q(status=StageKind.WON)
    return {
        "won": Sum(amount, filter=won),
        "won_count": count(won),
        "commit": Sum(amount, filter=commit),
        "commit_count": count(commit),
        "best_case": Sum(amount, filter=best),
        "best_case_count": count(best),
        "pipeline": Sum(amount, filter=is_open),
        "pipeline_count": count(is_open),
        "weighted": Sum(weighted, filter=is_open),
    }


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def forecast(user: User, filters: ForecastFilters) -> Forecast:
    """The weighted forecast per group, period and currency (1 query; 2 for scoped people).

    - closed won: won deals by their close day;
    - commit / best case (includes commit) / pipeline (every open deal not omitted): open deals
      by expected close date, by forecast category;
    - weighted: Σ amount x probability of those open deals.
    Amounts in different currencies are separate rows, never added.

    Periods are whole months, so the figures come from the totals table (``OpportunityRollup``,
    months summed into quarters in SQL); for people whose view is scoped, its rows of the owners
    in their scope plus (``UNION ALL``) the deals they see only through an account they see.
    Sums stay integer cents until each cell is rounded once.
    """
    periods = filters.window()
    first, last = periods[0][0], periods[-1][1]
    visibility = deal_visibility(user)
    trunc = TruncQuarter if filters.period == "quarter" else TruncMonth
    key_field, label_field = _GROUP_FIELDS[filters.group]
    columns = (key_field, label_field, "period_start", "currency")
    parts: list[QuerySet[Any]] = []
    if visibility is None or not visibility.sees_nothing:
        table = _forecast_narrowed(
            OpportunityRollup.objects.filter(
                Q(status=StageKind.WON)
                | (Q(status=StageKind.OPEN) & ~Q(forecast_category=ForecastCategory.OMITTED)),
                month__gte=first,
                month__lte=last.replace(day=1),
            ),
            filters,
        )
        if visibility is not None:
            table = table.filter(owner_id__in=visibility.owners)
        parts.append(
            table.annotate(period_start=trunc("month", output_field=DateField()))
            .values(*columns)
            .annotate(
                **_forecast_sums("amount_cents", lambda q: Sum("deals", filter=q), "weighted")
            )
            .order_by()
        )
        others = visibility.through_accounts() if visibility is not None else None
        if others is not None:
            deals = _forecast_narrowed(
                Opportunity.objects.alive().filter(
                    others,
                    Q(status=StageKind.WON, closed_on__gte=first, closed_on__lte=last)
                    | (
                        Q(
                            status=StageKind.OPEN,
                            expected_close_date__gte=first,
                            expected_close_date__lte=last,
                        )
                        & ~Q(forecast_category=ForecastCategory.OMITTED)
                    ),
                ),
                filters,
            )
            day = Case(
                When(status=StageKind.WON, then=F("closed_on")),
                default=F("expected_close_date"),
                output_field=DateField(),
            )
            parts.append(
                deals.annotate(period_start=trunc(day, output_field=DateField()))
                .values(*columns)
                .annotate(
                    **_forecast_sums(
                        _CENTS, lambda q: Count("pk", filter=q), _CENTS * F("probability")
                    )
                )
                .order_by()
            )
    sums: dict[tuple[Any, str, dt.date, str], list[int]] = {}
    if parts:
        rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        for row in rows:
            period_start = _as_date(row["period_start"])
            if filters.period == "quarter":
                period_start = period_start.replace(month=(period_start.month - 1) // 3 * 3 + 1)
            group = (row[key_field], row[label_field] or "", period_start, row["currency"])
            found = sums.setdefault(group, [0] * len(_FORECAST_SUMS))
            for index, name in enumerate(_FORECAST_SUMS):
                found[index] += int(row[name] or 0)
    table_rows: dict[tuple[int | None, str], ForecastRow] = {}
    totals: dict[str, ForecastRow] = {}
    for (key, label, period_start, currency), values in sums.items():
        figures = dict(zip(_FORECAST_SUMS, values, strict=True))
        if not figures["won_count"] and not figures["pipeline_count"]:
            continue  # buckets emptied by later writes
        cell = ForecastCell(
            won=cents(figures["won"], currency),
            commit=cents(figures["commit"], currency),
            best_case=cents(figures["best_case"], currency),
            pipeline=cents(figures["pipeline"], currency),
            weighted=_weighted(figures["weighted"], currency),
            won_count=figures["won_count"],
            commit_count=figures["commit_count"],
            best_case_count=figures["best_case_count"],
            pipeline_count=figures["pipeline_count"],
        )
        forecast_row = table_rows.setdefault(
            (key, currency), ForecastRow(key=key, label=label, currency=currency)
        )
        forecast_row.cells.setdefault(period_start, ForecastCell()).add(cell)
        forecast_row.total.add(cell)
        total_row = totals.setdefault(currency, ForecastRow(key=None, label="", currency=currency))
        total_row.cells.setdefault(period_start, ForecastCell()).add(cell)
        total_row.total.add(cell)
    ordered = sorted(
        table_rows.values(), key=lambda r: (r.currency, r.label.casefold(), r.key or 0)
    )
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
