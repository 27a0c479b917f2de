"""Reads of targets: who sees which, their attainment, the leaderboard and the trend.

Attainment counts every won deal (not in the trash) of the target's person, or of the team's
current members, closed within the period — in the target's currency for amount targets.
Whoever may read a target sees its true attainment; who may read it is ``visible_to``.
Won deals are aggregated in one ``GROUP BY`` query per kind of subject (owner or team, currency,
month of closing) over the whole span of the targets asked for; months add up to quarters and
years in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth

from cartera.core.errors import NotFound
from cartera.core.money import round_money
from cartera.sales.models import Opportunity, StageKind
from cartera.users.models import Team, User

from .models import PeriodKind, Target, TargetMetric, period_start_of, shift_period
from .services import may_set_target_for

PERCENT_STEP = Decimal("0.01")


def visible_targets(user: User) -> QuerySet[Target]:
    """Targets ``user`` may read, with their person and team loaded."""
    return Target.objects.visible_to(user).select_related("user", "team", "team__manager")


def get_target_for_user(user: User, pk: int, *, write: bool = False) -> Target:
    """The target ``pk`` if ``user`` sees it (and, with ``write``, may change it); else 404/403."""
    from cartera.core.errors import Forbidden

    target = visible_targets(user).filter(pk=pk).first()
    if target is None:
        raise NotFound()
    if write and not may_set_target_for(user, user=target.user, team=target.team):
        raise Forbidden()
    return target


@dataclass(slots=True)
class Attainment:
    """How far a target is met: what was won, the percentage and what is still missing."""

    target: Target
    achieved: Decimal
    percent: Decimal | None
    shortage: Decimal
    rank: int = 0


#: (subject id, currency, month) → (won amount, won deals)
Won = dict[tuple[int, str, dt.date], tuple[Decimal, int]]


def _won_by_month(field: str, ids: set[int], first: dt.date, last: dt.date) -> Won:
    if not ids:
        return {}
    rows = (
        Opportunity.objects.alive()
        .filter(status=StageKind.WON, closed_on__gte=first, closed_on__lte=last)
        .filter(**{f"{field}__in": ids})
        .order_by()
        .annotate(month=TruncMonth("closed_on"))
        .values(field, "currency", "month")
        .annotate(amount=Sum("amount"), deals=Count("pk"))
    )
    return {
        (row[field], row["currency"], row["month"]): (row["amount"] or Decimal(0), row["deals"])
        for row in rows
    }


def _months(target: Target) -> list[dt.date]:
    count = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[
        PeriodKind(target.period_kind)
    ]
    return [shift_period(PeriodKind.MONTH, target.period_start, n) for n in range(count)]


def _measure(target: Target, won: Won, subject: int) -> Decimal:
    months = _months(target)
    if target.metric == TargetMetric.DEAL_COUNT:
        return Decimal(
            sum(
                deals
                for (key, _currency, month), (_amount, deals) in won.items()
                if key == subject and month in months
            )
        )
    total = sum(
        (
            amount
            for (key, currency, month), (amount, _deals) in won.items()
            if key == subject and currency == target.currency and month in months
        ),
        Decimal(0),
    )
    return round_money(total, target.currency)


def attainment(targets: Sequence[Target]) -> list[Attainment]:
    """Each target's attainment, in two queries at most whatever their number."""
    if not targets:
        return []
    first = min(target.period_start for target in targets)
    last = max(target.period_end for target in targets)
    user_ids = {t.user_id for t in targets if t.user_id is not None}
    team_ids = {t.team_id for t in targets if t.team_id is not None}
    by_owner = _won_by_month("owner_id", user_ids, first, last)
    by_team = _won_by_month("owner__team_id", team_ids, first, last)
    results = []
    for target in targets:
        if target.user_id is not None:
            achieved = _measure(target, by_owner, target.user_id)
        else:
            achieved = _measure(target, by_team, target.team_id)  # type: ignore[arg-type]
        value = target.value
        percent = (achieved * 100 / value).quantize(PERCENT_STEP, ROUND_HALF_UP) if value else None
        results.append(
            Attainment(
                target=target,
                achieved=achieved,
                percent=percent,
                shortage=max(value - achieved, Decimal(0)),
            )
        )
    return results


def target_list(
    user: User,
    *,
    period_kind: str | None = None,
    period_start: dt.date | None = None,
    metric: str | None = None,
    person: int | None = None,
    team: int | None = None,
) -> list[Attainment]:
    """Visible targets (newest period first) with their attainment."""
    queryset = visible_targets(user)
    if period_kind:
        queryset = queryset.filter(period_kind=period_kind)
    if period_start:
        queryset = queryset.filter(period_start=period_start)
    if metric:
        queryset = queryset.filter(metric=metric)
    if person:
        queryset = queryset.filter(user_id=person)
    if team:
        queryset = queryset.filter(team_id=team)
    return attainment(list(queryset.order_by("-period_start", "period_kind", "pk")[:500]))


def leaderboard(
    user: User, *, period_kind: str, period_start: dt.date, metric: str | None = None
) -> list[Attainment]:
    """The period's visible targets ranked by attainment (best first; equal ranks share)."""
    start = period_start_of(period_kind, period_start)
    rows = target_list(user, period_kind=period_kind, period_start=start, metric=metric)
    rows.sort(
        key=lambda row: (
            row.percent is None,
            -(row.percent or 0),
            row.target.subject_name.casefold(),
        )
    )
    previous: Decimal | None = None
    for position, row in enumerate(rows, start=1):
        row.rank = position if row.percent != previous or position == 1 else rows[position - 2].rank
        previous = row.percent
    return rows


@dataclass(slots=True)
class TrendPoint:
    """One period of a subject's trend: the target (if one was set) and what was won."""

    period_start: dt.date
    label: str
    target: Decimal | None
    achieved: Decimal
    percent: Decimal | None


def trend(user: User, target: Target, *, periods: int = 6) -> list[TrendPoint]:
    """The last ``periods`` periods up to ``target``'s, for the same subject, kind and metric."""
    periods = max(1, min(periods, 36))
    starts = [
        shift_period(target.period_kind, target.period_start, -n)
        for n in range(periods - 1, -1, -1)
    ]
    subject: dict[str, Any] = (
        {"user_id": target.user_id} if target.user_id is not None else {"team_id": target.team_id}
    )
    same = visible_targets(user).filter(
        **subject,
        period_kind=target.period_kind,
        metric=target.metric,
        period_start__in=starts,
    )
    existing = {row.period_start: row for row in same}
    probes: list[Target] = []
    for start in starts:
        probes.append(
            existing.get(start)
            or Target(
                user_id=target.user_id,
                team_id=target.team_id,
                period_kind=target.period_kind,
                period_start=start,
                metric=target.metric,
                value=Decimal(0),
                currency=target.currency,
            )
        )
    results = attainment(probes)
    return [
        TrendPoint(
            period_start=row.target.period_start,
            label=row.target.period_label,
            target=row.target.value if row.target.period_start in existing else None,
            achieved=row.achieved,
            percent=row.percent if row.target.period_start in existing else None,
        )
        for row in results
    ]


def subjects_for(user: User) -> tuple[list[User], list[Team]]:
    """People and teams ``user`` may set targets for."""
    if user.sees_everything:
        people = list(User.objects.filter(is_active=True).order_by("full_name"))
        teams = list(Team.objects.order_by("name"))
        return people, teams
    managed = list(Team.objects.filter(manager_id=user.pk).order_by("name"))
    people = list(
        User.objects.filter(is_active=True, team__in=managed)
        .exclude(pk=user.pk)
        .order_by("full_name")
    )
    return people, list(managed)
