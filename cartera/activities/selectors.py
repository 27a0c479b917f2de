"""Reads of the timeline, scoped to the accounts the user may see."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from cartera.accounts.models import Account
from cartera.contacts.models import Contact
from cartera.core.errors import Forbidden, NotFound
from cartera.core.export import CHUNK_SIZE, Row
from cartera.core.pagination import Page, keyset_page
from cartera.users.models import User

from .exports import INTERACTION_EXPORT
from .filters import TIMELINE_ORDERING, InteractionFilters
from .models import Interaction


def visible_interactions(user: User) -> QuerySet[Interaction]:
    """Interactions on accounts ``user`` may see (accounts in the trash hide theirs)."""
    return Interaction.objects.visible_to(user).filter(account__deleted_at__isnull=True)


def get_interaction_for_user(user: User, pk: int | str, *, write: bool = False) -> Interaction:
    """The interaction ``pk`` if ``user`` may see it (404 otherwise)."""
    try:
        interaction = (
            visible_interactions(user)
            .select_related("account", "contact", "author")
            .get(pk=int(pk))
        )
    except (Interaction.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc
    if write and not user.can_write:
        raise Forbidden()
    return interaction


#: Columns of the joined account and contact that no timeline (page or API) shows.
_UNSHOWN = (
    "account__phone",
    "account__description",
    "account__search_text",
    "contact__phone",
    "contact__mobile",
    "contact__special_requests",
    "contact__search_text",
)


def _timeline(
    queryset: QuerySet[Interaction], cursor: str | None, limit: int | None
) -> Page[Interaction]:
    # The rows show the account's name and the contact's; their phones (parsed on load, ~0.1 ms
    # each) and long text columns stay in the database.
    queryset = queryset.select_related("author", "contact", "account").defer(*_UNSHOWN)
    return keyset_page(queryset, ordering=TIMELINE_ORDERING, cursor=cursor, limit=limit)


def interaction_list(
    user: User, filters: InteractionFilters, *, cursor: str | None = None, limit: int | None = None
) -> Page[Interaction]:
    """A page of every interaction ``user`` may see, newest first (1 query)."""
    return _timeline(filters.apply(visible_interactions(user)), cursor, limit)


def account_timeline(
    account: Account,
    filters: InteractionFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Interaction]:
    """A page of an account's timeline, newest first; the caller already checked access."""
    queryset = filters.apply(Interaction.objects.filter(account=account))
    return _timeline(queryset, cursor, limit)


def contact_timeline(
    user: User,
    contact: Contact,
    filters: InteractionFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Interaction]:
    """A page of a contact's timeline on the accounts ``user`` sees, newest first."""
    queryset = filters.apply(visible_interactions(user).filter(contact=contact))
    return _timeline(queryset, cursor, limit)


def interaction_export_rows(user: User, filters: InteractionFilters) -> Iterator[Row]:
    """Every interaction matching ``filters`` that ``user`` sees, newest first, as export rows.

    ``values()`` dicts with the lookups the columns read (``INTERACTION_EXPORT``): the account,
    contact and author names are joined in, so it is one query however many rows, read
    ``CHUNK_SIZE`` at a time.
    """
    queryset = (
        filters.apply(visible_interactions(user))
        .order_by(*TIMELINE_ORDERING)
        .values(*INTERACTION_EXPORT.fields())
    )
    return queryset.iterator(chunk_size=CHUNK_SIZE)
