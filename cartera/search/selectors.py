"""Global search across accounts and contacts, accent-insensitive, exact matches first."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from cartera.accounts.models import Account
from cartera.accounts.selectors import visible_accounts
from cartera.contacts.models import Contact
from cartera.contacts.selectors import visible_contacts
from cartera.core.text import normalize, search_terms
from cartera.users.models import User


@dataclass(frozen=True)
class SearchResults:
    """What a search found, best first in each group."""

    query: str
    accounts: list[Account]
    contacts: list[Contact]


def _matching(queryset: QuerySet, terms: list[str]) -> QuerySet:
    for term in terms:
        queryset = queryset.filter(search_text__contains=term)
    return queryset


def global_search(user: User, query: str, *, limit: int = 8) -> SearchResults:
    """Accounts and contacts ``user`` sees that contain every word of ``query`` (2 queries).

    Ranking: exact name (or email) first, then names starting with the query, then the rest
    alphabetically.
    """
    terms = search_terms(query)
    if not terms:
        return SearchResults(query=query, accounts=[], contacts=[])
    phrase = normalize(query)[:200]
    limit = max(1, min(limit, 50))
    account_rank = Case(
        When(name_key=phrase, then=Value(0)),
        When(name_key__startswith=phrase, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    accounts = list(
        _matching(visible_accounts(user), terms)
        .annotate(rank=account_rank)
        .select_related("owner")
        .order_by("rank", "name_key", "pk")[:limit]
    )
    contact_rank = Case(
        When(Q(email__iexact=query.strip()) | Q(search_text__startswith=phrase), then=Value(0)),
        When(name_key__startswith=phrase, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    contacts = list(
        _matching(visible_contacts(user), terms)
        .annotate(rank=contact_rank)
        .order_by("rank", "name_key", "pk")[:limit]
    )
    return SearchResults(query=query, accounts=accounts, contacts=contacts)
