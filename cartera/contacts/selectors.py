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
from cartera.core.export import CHUNK_SIZE, Row, chunked, phone_text
from cartera.core.pagination import Page, keyset_page
from cartera.users.models import User

from .exports import CONTACT_EXPORT
from .filters import ContactFilters
from .models import Contact, ContactAccount


def visible_contacts(user: User, *, trashed: bool = False) -> QuerySet[Contact]:
    """Contacts ``user`` may see (through their accounts), alive or in the trash."""
    queryset = Contact.objects.visible_to(user)
    return queryset.trashed() if trashed else queryset.alive()


def contacts_of_visible_account(account_id: int) -> QuerySet[Contact]:
    """The live contacts linked to an account the caller has already checked the user sees.

    They are all visible to that user by the contacts rule (a contact is visible when linked to
    an account the user sees), so no per-contact visibility test is added: read from the link
    table's account index, not by testing every contact (on SQLite that test, nested in the
    name-ordered scan, took minutes for a rep at 100,000 contacts).
    """
    linked = ContactAccount.objects.filter(account_id=account_id).values("contact_id")
    return Contact.objects.alive().filter(pk__in=linked)


def _with_accounts(user: User) -> Prefetch:
    links = (
        ContactAccount.objects.filter(account__in=visible_accounts(user).values("pk"))
        .select_related("account")
        # Links show the account's name: its phone (parsed on load) and long texts stay behind.
        .defer("account__phone", "account__description", "account__search_text")
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


def contact_list_page(
    user: User,
    filters: ContactFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Contact]:
    """``contact_list`` for the HTML pages, lighter to load (2 queries).

    Phones come as their stored text (``phone_e164``, ``mobile_e164``; the ``phone`` and
    ``mobile`` fields are deferred: parsing a number on load costs ~0.1 ms), long text columns
    stay in the database, and ``visible_links`` carry only each account's id and name.
    """
    links = (
        ContactAccount.objects.filter(account__in=visible_accounts(user).values("pk"))
        .select_related("account")
        .only("contact", "account", "is_primary", "account__name")
        .order_by("-is_primary", "account__name_key")
    )
    queryset = (
        filters.apply(visible_contacts(user))
        .defer("phone", "mobile", "special_requests", "search_text")
        .annotate(phone_e164=phone_text("phone"), mobile_e164=phone_text("mobile"))
        .prefetch_related(Prefetch("account_links", queryset=links, to_attr="visible_links"))
    )
    return keyset_page(queryset, ordering=filters.ordering, cursor=cursor, limit=limit)


#: What ``contact_list_rows`` reads: ``ContactOut``'s columns, phones as their stored text.
API_LIST_FIELDS = (
    "pk",
    "first_name",
    "last_name",
    "email",
    "secondary_email",
    "phone_e164",
    "mobile_e164",
    "job_title",
    "buying_role",
    "preferred_channel",
    "report_preference",
    "language",
    "special_requests",
    "do_not_contact",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
)


def contact_list_rows(
    user: User,
    filters: ContactFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    trashed: bool = False,
) -> Page[Row]:
    """``contact_list`` as ``values()`` dicts for the API list (2 queries; 1 when empty).

    The same visible, filtered queryset and keyset page, only ``API_LIST_FIELDS`` (plus the
    ordering's keys; phones as stored text), and ``accounts``: each row's links to the accounts
    ``user`` sees, as ``ContactAccountOut`` dumps them, in ``contact_list``'s order.
    """
    keys = tuple(f.lstrip("-") for f in filters.ordering if f.lstrip("-") not in API_LIST_FIELDS)
    queryset = (
        filters.apply(visible_contacts(user, trashed=trashed))
        .annotate(phone_e164=phone_text("phone"), mobile_e164=phone_text("mobile"))
        .values(*API_LIST_FIELDS, *keys)
    )
    page = keyset_page(queryset, ordering=filters.ordering, cursor=cursor, limit=limit)
    if page.items:
        accounts: dict[int, list[Row]] = {}
        links = (
            ContactAccount.objects.filter(
                contact_id__in=[row["pk"] for row in page.items],
                account__in=visible_accounts(user).values("pk"),
            )
            .order_by("-is_primary", "account__name_key")
            .values_list("contact_id", "account_id", "account__name", "is_primary")
        )
        for contact_id, account_id, name, is_primary in links:
            accounts.setdefault(contact_id, []).append(
                {"account": {"pk": account_id, "name": name}, "is_primary": is_primary}
            )
        for row in page.items:
            row["accounts"] = accounts.get(row["pk"], [])
    return page


def contact_export_rows(user: User, filters: ContactFilters) -> Iterator[Row]:
    """Every contact matching ``filters`` that ``user`` sees, in list order, as export rows.

    ``values()`` dicts with the lookups the columns read (``CONTACT_EXPORT``; phones as their
    stored text), read ``CHUNK_SIZE`` at a time; each chunk costs one more query for the names
    of the accounts ``user`` sees the contacts at (primary first).
    """
    queryset = (
        filters.apply(visible_contacts(user))
        .annotate(phone_e164=phone_text("phone"), mobile_e164=phone_text("mobile"))
        .order_by(*filters.ordering)
        .values("id", *CONTACT_EXPORT.fields())
    )
    seen = visible_accounts(user).values("pk")

    def add_accounts(chunk: list[Row]) -> None:
        names: dict[int, list[str]] = {}
        links = (
            ContactAccount.objects.filter(
                contact_id__in=[row["id"] for row in chunk], account__in=seen
            )
            .order_by("-is_primary", "account__name_key", "account_id")
            .values_list("contact_id", "account__name")
        )
        for contact_id, name in links:
            names.setdefault(contact_id, []).append(name)
        for row in chunk:
            row["accounts"] = "; ".join(names.get(row["id"], ()))

    return chunked(queryset.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE, add_accounts)


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
