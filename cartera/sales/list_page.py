"""The deal list page's read: which deals, shaped for a walk of the sort index, and which columns.

``Opportunity.objects.visible_to`` (``deal_visibility``) reads the accounts a scoped person sees
first and, up to ``VISIBLE_ACCOUNTS_LIMIT`` of them, filters by that list of ids, which the
database combines with the owner and account indexes: right for people who see few deals. A
person who owns more accounts than that (a rep with 14,000 of 100,000 accounts) sees a good
share of all deals, and a list page needs only the first 51 in its sort order: walking the sort
index and testing each deal's owner, its account's owner (the account row the page joins
anyway) and the account team is then cheapest. The subquery form made PostgreSQL read every
account the person sees (a scan of the whole table, or 14,000 heap rows) before the first deal.

The deals are the same either way: owned by someone in scope, or on an account owned by, or with
on the account team, someone in scope (``cartera/sales/tests/test_list_page.py``).

``opportunity_list_page`` reads only the columns the page shows: 50 deals with their account,
owner, stage and pipeline are 250 model instances, and each unshown timestamp is a parse.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from cartera.accounts.models import Account, AccountTeamMember
from cartera.core.pagination import Page, keyset_page
from cartera.users.access import scope_user_ids
from cartera.users.models import User

from .filters import OpportunityFilters
from .models import VISIBLE_ACCOUNTS_LIMIT, Opportunity

#: What a row of the deal list shows (``{% deal_table_rows %}``), and the sort keys.
LIST_PAGE_FIELDS = (
    "name",
    "next_step",
    "account",
    "account__name",
    "status",
    "stage",
    "stage__name",
    "stage__usual_days",
    "pipeline",
    "pipeline__name",
    "amount",
    "currency",
    "probability",
    "expected_close_date",
    "closed_on",
    "owner",
    "owner__full_name",
    "owner__email",
    "stage_entered_at",
    "name_key",
    "updated_at",
    "created_at",
)


def owns_many_accounts(scope: frozenset[int]) -> bool:
    """Whether the people in ``scope`` own more than ``VISIBLE_ACCOUNTS_LIMIT`` live accounts.

    One index-only read of at most that many entries of ``account_owner_name_idx`` (the order
    is the index's, so the planner walks it rather than scanning the table).
    """
    owned = (
        Account.objects.alive().filter(owner_id__in=scope).order_by("owner_id", "name_key", "id")
    )
    # Not ``exists()``: it drops the ordering.
    return bool(
        owned.values_list("pk", flat=True)[VISIBLE_ACCOUNTS_LIMIT : VISIBLE_ACCOUNTS_LIMIT + 1]
    )


def list_visible_opportunities(user: User, *, trashed: bool = False) -> QuerySet[Opportunity]:
    """The deals ``user`` sees, alive or in the trash, for a page of a list.

    Same rows as ``selectors.visible_opportunities``; for people who own many accounts the
    condition is written as a per-row test (see the module's docstring).
    """
    scope = scope_user_ids(user)
    if scope and owns_many_accounts(scope):
        on_team = AccountTeamMember.objects.filter(user_id__in=scope).values("account_id")
        queryset = Opportunity.objects.filter(
            Q(owner_id__in=scope) | Q(account__owner_id__in=scope) | Q(account_id__in=on_team)
        )
    else:
        queryset = Opportunity.objects.visible_to(user)
    return queryset.trashed() if trashed else queryset.alive()


def opportunity_list_page(
    user: User,
    filters: OpportunityFilters,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Opportunity]:
    """``selectors.opportunity_list`` for the HTML page: only the shown columns.

    1 query (2 for people whose view is scoped: see ``list_visible_opportunities``).
    """
    from .selectors import annotate_aging

    queryset = (
        filters.apply(list_visible_opportunities(user))
        .select_related("pipeline", "stage", "owner", "account")
        .only(*LIST_PAGE_FIELDS)
    )
    page = keyset_page(queryset, ordering=filters.ordering, cursor=cursor, limit=limit)
    now = timezone.now()
    for item in page.items:
        annotate_aging(item, now=now)
    return page
