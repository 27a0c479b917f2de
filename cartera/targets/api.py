"""REST operations of the targets app: targets with attainment, leaderboard, trend."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from cartera.core.api import (
    READ_ERRORS,
    VERSIONED_WRITE_ERRORS,
    WRITE_ERRORS,
    expected_version,
    request_actor,
    with_etag,
)

from . import selectors, services
from .schemas import (
    LeaderboardQuery,
    TargetIn,
    TargetOut,
    TargetPatch,
    TargetQuery,
    TrendPointOut,
    TrendQuery,
)
from .selectors import Attainment

router = Router(tags=["targets"])


def _out(row: Attainment) -> dict[str, Any]:
    target = row.target
    return {
        "id": target.pk,
        "user": target.user_id,
        "user_name": str(target.user) if target.user_id else None,
        "team": target.team_id,
        "team_name": str(target.team) if target.team_id else None,
        "period_kind": target.period_kind,
        "period_start": target.period_start,
        "period_end": target.period_end,
        "metric": target.metric,
        "value": target.value,
        "currency": target.currency,
        "achieved": row.achieved,
        "attainment": row.percent,
        "shortage": row.shortage,
        "rank": row.rank,
        "version": target.version,
    }


def _one(actor: Any, pk: int) -> dict[str, Any]:
    target = selectors.get_target_for_user(actor, pk)
    return _out(selectors.attainment([target])[0])


@router.get("/targets", response={200: list[TargetOut], **READ_ERRORS})
def list_targets(request: HttpRequest, filters: Query[TargetQuery]) -> Any:
    """Targets the caller may read (newest period first, at most 500), with attainment."""
    rows = selectors.target_list(
        request_actor(request),
        period_kind=filters.period_kind,
        period_start=filters.period_start,
        metric=filters.metric,
        person=filters.user,
        team=filters.team,
    )
    return [_out(row) for row in rows]


@router.get("/targets/leaderboard", response={200: list[TargetOut], **READ_ERRORS})
def get_leaderboard(request: HttpRequest, query: Query[LeaderboardQuery]) -> Any:
    """The period's visible targets ranked by attainment."""
    rows = selectors.leaderboard(
        request_actor(request),
        period_kind=query.period_kind,
        period_start=query.period or timezone.localdate(),
        metric=query.metric,
    )
    return [_out(row) for row in rows]


@router.post("/targets", response={201: TargetOut, **WRITE_ERRORS})
def create_target(request: HttpRequest, response: HttpResponse, payload: TargetIn) -> Any:
    """Set a target (managers: their teams and members; directors and admins: anyone)."""
    actor = request_actor(request)
    target = services.set_target(actor=actor, data=payload.model_dump())
    with_etag(response, target)
    return Status(201, _one(actor, target.pk))


@router.get("/targets/{pk}", response={200: TargetOut, **READ_ERRORS})
def get_target(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One target with its attainment."""
    actor = request_actor(request)
    target = selectors.get_target_for_user(actor, pk)
    with_etag(response, target)
    return _out(selectors.attainment([target])[0])


@router.patch("/targets/{pk}", response={200: TargetOut, **VERSIONED_WRITE_ERRORS})
def update_target(
    request: HttpRequest, response: HttpResponse, pk: int, payload: TargetPatch
) -> Any:
    """Change a target; needs ``If-Match`` with the ETag last read (412 if it moved on)."""
    actor = request_actor(request)
    target = selectors.get_target_for_user(actor, pk, write=True)
    version = expected_version(request, target)
    services.update_target(
        actor=actor,
        target=target,
        changes=payload.model_dump(exclude_unset=True),
        expected_version=version,
    )
    with_etag(response, target)
    return _one(actor, pk)


@router.delete("/targets/{pk}", response={204: None, **VERSIONED_WRITE_ERRORS})
def delete_target(request: HttpRequest, pk: int) -> Any:
    """Remove a target; needs ``If-Match``."""
    actor = request_actor(request)
    target = selectors.get_target_for_user(actor, pk, write=True)
    version = expected_version(request, target)
    services.delete_target(actor=actor, target=target, expected_version=version)
    return Status(204, None)


@router.get("/targets/{pk}/trend", response={200: list[TrendPointOut], **READ_ERRORS})
def get_trend(request: HttpRequest, pk: int, query: Query[TrendQuery]) -> Any:
    """The target's subject, kind and metric over the last ``periods`` periods."""
    actor = request_actor(request)
    target = selectors.get_target_for_user(actor, pk)
    return [
        {
            "period_start": point.period_start,
            "label": point.label,
            "target": point.target,
            "achieved": point.achieved,
            "attainment": point.percent,
        }
        for point in selectors.trend(actor, target, periods=query.periods)
    ]
