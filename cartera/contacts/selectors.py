"""Reads of contacts, always scoped to the accounts the user may see."""

from __future__ import annotations

from collections.abc import Iterator

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from cartera.accounts.selectors import visible_accounts
from cartera.core.audit import history_for
from cartera.core.errors import Forbidden, NotFound
from cartera.core.pagination import Page, keyset_page
from cartera.users.models import User

from .filters import ContactFilters
from .models import Contact, ContactAccount


def visible_contacts(user: User, *, trashed: bool = False) -> QuerySet[Contact]:
    """Contacts ``user`` may see (through their accounts), alive or in the trash."""
    queryset = Contact.objects.visible_to(user)
    return queryset.trashed() if trashed else queryset.alive()


def _with_accounts(user: User) -> Prefetch:
    links = (
        ContactAccount.objects.filter(account__in=visible_accounts(user).values("pk"))
        .select_related("account")
        .order_by("-is_primary", "account__name_key")
    )
    return Prefetch("account_links", queryset=links, to_attr="visible_links")


def get_contact_for_user(
    user: User, pk: int | str, *, write: bool = False, trashed: bool = False
) -> Contact:
    """The contact ``pk`` if ``user`` may see it (404 otherwise); ``write`` needs write access."""
    try:
        contact = visible_contacts(user, trashed=trashed).get(pk=int(pk))
    except (Contact.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc
    if write and not user.can_write:
        raise Forbidden()
    prefetch_related_objects([contact], _with_accounts(user))
    return contact


def contact_list(
    user: User,
    filters: ContactFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    trashed: bool = False,
) -> Page[Contact]:
    """One keyset page of the user's contacts with their visible accounts (2 queries)."""
    queryset = filters.apply(visible_contacts(user, trashed=trashed)).prefetch_related(
        _with_accounts(user)
    )
    return keyset_page(queryset, ordering=filters.ordering, cursor=cursor, limit=limit)


def contact_export_rows(user: User, filters: ContactFilters) -> Iterator[Contact]:
    """Every contact matching ``filters`` that ``user`` sees, streamed in chunks."""
    queryset = (
        filters.apply(visible_contacts(user))
        .prefetch_related(_with_accounts(user))
        .order_by(*filters.ordering)
    )
    return queryset.iterator(chunk_size=2000)


def contact_history(user: User, contact: Contact) -> QuerySet[LogEntry]:
    """Audit entries of a contact and of its links to accounts ``user`` sees, newest first."""
    link_type = ContentType.objects.get_for_model(ContactAccount)
    linked_account = Cast(KT("additional_data__account_id"), BigIntegerField())
    return (
        history_for(contact, related_key="contact_id")
        .alias(linked_account=linked_account)
        .filter(
            ~Q(content_type=link_type) | Q(linked_account__in=visible_accounts(user).values("pk"))
        )
    )
