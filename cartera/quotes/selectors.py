"""Reads of quotes: lists, one quote with its lines and history, its versions."""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.db.models import Prefetch, QuerySet

from cartera.core.audit import history_for
from cartera.core.errors import Forbidden, NotFound
from cartera.core.pagination import Page, keyset_page
from cartera.users.models import User

from .filters import QuoteFilters
from .models import Quote, QuoteApproval, QuoteLine

RELATED = ("opportunity__account", "opportunity__stage", "owner", "price_list")


def visible_quotes(user: User) -> QuerySet[Quote]:
    """Quotes of deals ``user`` may see."""
    return Quote.objects.visible_to(user)


def get_quote_for_user(user: User, pk: Any, *, write: bool = False) -> Quote:
    """The quote ``pk`` if ``user`` sees its deal (404 otherwise); ``write``: 403 for readers."""
    try:
        quote = visible_quotes(user).select_related(*RELATED).get(pk=int(pk))
    except (Quote.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc
    if write and not user.can_write:
        raise Forbidden()
    return quote


def quote_detail(user: User, pk: Any) -> Quote:
    """A quote with its lines (and their products), approvals and the client's answer."""
    quote = get_quote_for_user(user, pk)
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(
        [quote],
        Prefetch(
            "lines",
            queryset=QuoteLine.objects.select_related("product").order_by("position", "pk"),
        ),
        Prefetch(
            "approvals",
            queryset=QuoteApproval.objects.select_related("requested_by", "approver").order_by(
                "-created_at", "-pk"
            ),
        ),
    )
    return quote


def quote_versions(quote: Quote) -> list[Quote]:
    """Every version of the quote's family, newest first."""
    return list(
        Quote.objects.filter(number=quote.number)
        .select_related("owner")
        .order_by("-revision")
        .only("pk", "number", "revision", "status", "total", "currency", "updated_at", "owner")
    )


def quote_list(
    user: User, filters: QuoteFilters, *, cursor: str | None = None, limit: int | None = None
) -> Page[Quote]:
    """One keyset page of the quotes the user sees (1 query)."""
    queryset = filters.apply(visible_quotes(user)).select_related("opportunity__account", "owner")
    return keyset_page(queryset, ordering=filters.ordering, cursor=cursor, limit=limit)


def opportunity_quotes(user: User, opportunity: Any) -> list[Quote]:
    """The deal's quotes, newest first (for the deal page)."""
    return list(
        visible_quotes(user)
        .filter(opportunity=opportunity)
        .select_related("owner")
        .order_by("-created_at", "-pk")
    )


def quote_history(quote: Quote) -> QuerySet[LogEntry]:
    """Audit entries of the quote and of its lines, approvals and answer."""
    return history_for(quote, related_key="quote_id")


def public_quote_lines(quote: Quote) -> list[QuoteLine]:
    """The lines the client sees."""
    return list(quote.lines.select_related("product").order_by("position", "pk"))
