"""Target pages: the period's leaderboard with a form to set targets, and one target's trend.

Views only parse input, call a selector or a service and render; the services decide.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cartera.core.errors import Conflict, DomainError, Forbidden
from cartera.core.views import add_domain_error
from cartera.users.models import User

from .forms import TargetForm, TargetValueForm
from .models import PeriodKind, TargetMetric, period_start_of
from .selectors import get_target_for_user, leaderboard, subjects_for, trend
from .services import can_set_targets, delete_target, may_set_target_for, set_target, update_target

TREND_PERIODS = 6


def _subject_choices(user: User) -> list[tuple[str, str]]:
    people, teams = subjects_for(user)
    return [(f"user:{person.pk}", str(person)) for person in people] + [
        (f"team:{team.pk}", _("Team: %(name)s") % {"name": team}) for team in teams
    ]


def _chosen_period(request: HttpRequest) -> tuple[str, dt.date]:
    kind = request.GET.get("period_kind") or PeriodKind.MONTH
    if kind not in PeriodKind.values:
        kind = PeriodKind.MONTH
    try:
        day = dt.date.fromisoformat(request.GET.get("period", ""))
    except ValueError:
        day = timezone.localdate()
    return kind, period_start_of(kind, day)


def _index_context(request: HttpRequest, form: TargetForm | None) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    kind, start = _chosen_period(request)
    metric = request.GET.get("metric") or None
    if metric not in (None, *TargetMetric.values):
        metric = None
    rows = leaderboard(user, period_kind=kind, period_start=start, metric=metric)
    can_set = can_set_targets(user)
    if can_set and form is None:
        form = TargetForm(
            subjects=_subject_choices(user),
            initial={"period_kind": kind, "period_start": start, "currency": "EUR"},
        )
    return {
        "nav": "targets",
        "rows": rows,
        "period_kind": kind,
        "period_start": start,
        "metric": metric or "",
        "kinds": PeriodKind.choices,
        "metrics": TargetMetric.choices,
        "form": form if can_set else None,
        "chart": {
            "type": "bar",
            "labels": [row.target.subject_name for row in rows],
            "datasets": [
                {
                    "label": _("Attainment (%)"),
                    "data": [None if row.percent is None else str(row.percent) for row in rows],
                }
            ],
            "y_label": _("Attainment (%)"),
            "suggested_max": 100,
        },
    }


@require_GET
@login_required
def target_index(request: HttpRequest) -> HttpResponse:
    """The period's leaderboard of the targets the reader sees; the form to set one."""
    return render(request, "targets/index.html", _index_context(request, None))


@require_POST
@login_required
def target_create(request: HttpRequest) -> HttpResponse:
    """Set a target from the index page's form."""
    user: User = request.user  # type: ignore[assignment]
    if not can_set_targets(user):
        raise Forbidden()
    form = TargetForm(request.POST, subjects=_subject_choices(user))
    if form.is_valid():
        try:
            target = set_target(actor=user, data=form.service_data())
        except DomainError as error:
            if error.status == 403:
                raise
            add_domain_error(form, error)
        else:
            messages.success(request, _("Target saved."))
            query = f"?period_kind={target.period_kind}&period={target.period_start.isoformat()}"
            return redirect(reverse("targets:index") + query)
    return render(request, "targets/index.html", _index_context(request, form), status=422)


def _detail_context(request: HttpRequest, pk: int, form: TargetValueForm | None) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    target = get_target_for_user(user, pk)
    points = trend(user, target, periods=TREND_PERIODS)
    current = points[-1]
    can_edit = may_set_target_for(user, user=target.user, team=target.team)
    if can_edit and form is None:
        form = TargetValueForm(
            initial={"value": target.value, "currency": target.currency, "version": target.version}
        )
    return {
        "nav": "targets",
        "target": target,
        "current": current,
        "shortage": max(target.value - current.achieved, 0),
        "points": points,
        "form": form if can_edit else None,
        "chart": {
            "type": "bar",
            "labels": [point.label for point in points],
            "datasets": [
                {
                    "label": _("Target"),
                    "data": [None if p.target is None else str(p.target) for p in points],
                },
                {"label": _("Achieved"), "data": [str(p.achieved) for p in points]},
            ],
            "y_label": target.get_metric_display(),
        },
    }


@require_GET
@login_required
def target_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One target: attainment, shortage and its trend over the last periods."""
    return render(request, "targets/detail.html", _detail_context(request, pk, None))


@require_POST
@login_required
def target_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a target's value, from the version the form was built from."""
    user: User = request.user  # type: ignore[assignment]
    target = get_target_for_user(user, pk, write=True)
    form = TargetValueForm(request.POST)
    status = 422
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            update_target(actor=user, target=target, changes=data, expected_version=version)
        except Conflict:
            status = 412
            form.add_error(
                None,
                _(
                    "Someone else changed this target meanwhile. Nothing was saved: "
                    "reload the page."
                ),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Target saved."))
            return redirect("targets:detail", pk=pk)
    return render(request, "targets/detail.html", _detail_context(request, pk, form), status=status)


@require_POST
@login_required
def target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a target."""
    user: User = request.user  # type: ignore[assignment]
    target = get_target_for_user(user, pk, write=True)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    delete_target(actor=user, target=target, expected_version=version)
    messages.success(request, _("Target removed."))
    return redirect("targets:index")
