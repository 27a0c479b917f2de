"""Reads of accounts, always scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Iterator

from auditlog.models import LogEntry
from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from cartera.core.audit import history_for
from cartera.core.errors import Forbidden, NotFound
from cartera.core.export import CHUNK_SIZE, Row, chunked, phone_text
from cartera.core.pagination import Page, keyset_page
from cartera.users.models import User

from .exports import ACCOUNT_EXPORT
from .filters import AccountFilters
from .models import Account, AccountTeamMember


def visible_accounts(user: User, *, trashed: bool = False) -> QuerySet[Account]:
    """Accounts ``user`` may see, alive or in the trash."""
    queryset = Account.objects.visible_to(user)
    return queryset.trashed() if trashed else queryset.alive()


def get_account_for_user(
    user: User, pk: int | str, *, write: bool = False, trashed: bool = False
) -> Account:
    """The account ``pk`` if ``user`` may see it (404 otherwise, missing or forbidden alike).

    With ``write``, a user who may only read gets 403.
    """
    try:
        account = (
            visible_accounts(user, trashed=trashed)
            .select_related("owner", "parent", "created_by")
            .get(pk=int(pk))
        )
    except (Account.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc
    if write and not user.can_write:
        raise Forbidden()
    return account


def account_list(
    user: User,
    filters: AccountFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    trashed: bool = False,
) -> Page[Account]:
    """One keyset page of the user's accounts, filtered, with owner and tags loaded (3 queries)."""
    queryset = (
        filters.apply(visible_accounts(user, trashed=trashed))
        .select_related("owner", "parent")
        .prefetch_related("tags")
    )
    return keyset_page(queryset, ordering=filters.ordering, cursor=cursor, limit=limit)


#: The columns a list page shows (``account_rows``) and pages by; the rest stay in the database.
LIST_PAGE_FIELDS = (
    "name",
    "name_key",
    "status",
    "tier",
    "is_key_account",
    "industry",
    "country",
    "city",
    "updated_at",
    "created_at",
    "deleted_at",
    "owner__full_name",
    "owner__email",
)


def account_list_page(
    user: User,
    filters: AccountFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    trashed: bool = False,
    tags: bool = True,
) -> Page[Account]:
    """``account_list`` for the HTML pages: only the shown columns (2 queries; 1 without tags).

    Each account carries ``tag_names`` (sorted) from one query for the whole page instead of
    a prefetched ``tags`` manager per row; ``tags`` itself is not loaded. ``tags=False`` skips
    that query (``tag_names`` stays empty) for pages that show no tags.
    """
    queryset = (
        filters.apply(visible_accounts(user, trashed=trashed))
        .select_related("owner")
        .only(*LIST_PAGE_FIELDS)
    )
    page = keyset_page(queryset, ordering=filters.ordering, cursor=cursor, limit=limit)
    names: dict[int, list[str]] = {}
    if page.items and tags:
        links = (
            Account.tags.through.objects.filter(account_id__in=[a.pk for a in page.items])
            .order_by("tag__name")
            .values_list("account_id", "tag__name")
        )
        for account_id, name in links:
            names.setdefault(account_id, []).append(name)
    for account in page.items:
        account.tag_names = names.get(account.pk, [])  # type: ignore[attr-defined]
    return page


#: What ``account_list_rows`` reads: ``AccountOut``'s columns, the phone as its stored text.
API_LIST_FIELDS = (
    "pk",
    "name",
    "legal_name",
    "tax_id",
    "industry",
    "size",
    "website",
    "phone_e164",
    "email",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "tier",
    "is_key_account",
    "status",
    "annual_revenue",
    "currency",
    "description",
    "owner_id",
    "owner__full_name",
    "parent_id",
    "parent__name",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
)


def account_list_rows(
    user: User,
    filters: AccountFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    trashed: bool = False,
) -> Page[Row]:
    """``account_list`` as ``values()`` dicts for the API list (2 queries; 1 when empty).

    The same visible, filtered queryset and keyset page, but only ``API_LIST_FIELDS`` (plus the
    ordering's keys), owner and parent joined, the phone as stored text (no parsing on load),
    and ``tags``: the sorted tag names of the page's rows, from one query.
    """
    keys = tuple(f.lstrip("-") for f in filters.ordering if f.lstrip("-") not in API_LIST_FIELDS)
    queryset = (
        filters.apply(visible_accounts(user, trashed=trashed))
        .annotate(phone_e164=phone_text("phone"))
        .values(*API_LIST_FIELDS, *keys)
    )
    page = keyset_page(queryset, ordering=filters.ordering, cursor=cursor, limit=limit)
    if page.items:
        names: dict[int, list[str]] = {}
        links = (
            Account.tags.through.objects.filter(account_id__in=[r["pk"] for r in page.items])
            .order_by("tag__name")
            .values_list("account_id", "tag__name")
        )
        for account_id, name in links:
            names.setdefault(account_id, []).append(name)
        for row in page.items:
            row["tags"] = names.get(row["pk"], [])
    return page


def account_export_rows(user: User, filters: AccountFilters) -> Iterator[Row]:
    """Every account matching ``filters`` that ``user`` sees, in list order, as export rows.

    ``values()`` dicts with the lookups the columns read (``ACCOUNT_EXPORT``; owner and parent
    joined, the phone as its stored text), read ``CHUNK_SIZE`` at a time; each chunk's tag
    names come with one more query. Memory and queries per row stay flat at any size.
    """
    queryset = (
        filters.apply(visible_accounts(user))
        .annotate(phone_e164=phone_text("phone"))
        .order_by(*filters.ordering)
        .values("id", *ACCOUNT_EXPORT.fields())
    )

    def add_tags(chunk: list[Row]) -> None:
        names: dict[int, list[str]] = {}
        links = (
            Account.tags.through.objects.filter(account_id__in=[row["id"] for row in chunk])
            .order_by("tag__name")
            .values_list("account_id", "tag__name")
        )
        for account_id, name in links:
            names.setdefault(account_id, []).append(name)
        for row in chunk:
            row["tags"] = ", ".join(names.get(row["id"], ()))

    return chunked(queryset.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE, add_tags)


def account_detail(user: User, pk: int | str) -> Account:
    """An account with what its detail page shows: team, children, parent, tags."""
    account = get_account_for_user(user, pk)
    team = AccountTeamMember.objects.select_related("user").order_by("role", "user__full_name")
    children = visible_accounts(user).only("pk", "name", "status", "parent_id").order_by("name_key")
    prefetch_related_objects(
        [account],
        Prefetch("team_members", queryset=team),
        Prefetch("children", queryset=children, to_attr="visible_children"),
        "tags",
    )
    return account


def account_history(user: User, account: Account) -> QuerySet[LogEntry]:
    """Audit entries of an account and of its team and contact links, newest first."""
    return history_for(account, related_key="account_id")


def parent_choices(user: User, *, exclude: Account | None = None) -> QuerySet[Account]:
    """Accounts ``user`` may pick as a parent."""
    queryset = visible_accounts(user).only("pk", "name").order_by("name_key")
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk)
    return queryset
