"""Helpers every app's HTML views use (htmx partials, domain errors on forms), and the home page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .errors import DomainError

HOME_LIST_LIMIT = 8


def render_page_or_partial(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """The full page, or only its partial when htmx asks for it (one view serves both)."""
    htmx = getattr(request, "htmx", None)
    chosen = partial if htmx and not htmx.boosted else template
    return render(request, chosen, context, status=status)


def add_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Show a service's refusal on the form: per field where it names one, else on top."""
    for field, messages in error.field_errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(
                target, f"{field}: {message}" if target is None and field != "__all__" else message
            )
    if not error.field_errors:
        form.add_error(None, error.message)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in person's landing page: their book at a glance and what happened lately."""
    from cartera.accounts.filters import AccountFilters
    from cartera.accounts.models import AccountStatus
    from cartera.accounts.selectors import account_list_page, visible_accounts
    from cartera.activities.filters import InteractionFilters
    from cartera.activities.selectors import interaction_list

    user = request.user
    counts: dict[str, int] = dict(
        visible_accounts(user)  # type: ignore[arg-type]
        .order_by()
        .values_list("status")
        .annotate(total=Count("pk"))
    )
    by_status = [
        {"value": value, "label": label, "total": counts.get(value, 0)}
        for value, label in AccountStatus.choices
    ]
    context = {
        "nav": "home",
        "by_status": by_status,
        "total_accounts": sum(counts.values()),
        # Names, statuses, owners and dates only: no tags, no other columns.
        "key_accounts": account_list_page(
            user,  # type: ignore[arg-type]
            AccountFilters.model_validate({"is_key_account": True}),
            limit=HOME_LIST_LIMIT,
            tags=False,
        ).items,
        "recent_accounts": account_list_page(
            user,  # type: ignore[arg-type]
            AccountFilters.model_validate({"sort": "-updated_at"}),
            limit=HOME_LIST_LIMIT,
            tags=False,
        ).items,
        "recent_interactions": interaction_list(
            user,  # type: ignore[arg-type]
            InteractionFilters(),
            limit=HOME_LIST_LIMIT,
        ).items,
    }
    return render(request, "core/home.html", context)
