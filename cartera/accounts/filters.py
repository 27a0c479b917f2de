"""The account list's filters, defined once for the list page, the export and the API."""

from __future__ import annotations

from typing import Literal

from django.db.models import Exists, OuterRef, Q, QuerySet
from pydantic import BaseModel, ConfigDict, Field

from cartera.core.filters import PositiveId
from cartera.core.fulltext import apply_search

from .models import Account, AccountStatus, CompanySize, Industry, Tier

AccountSort = Literal["name", "-name", "updated_at", "-updated_at", "created_at", "-created_at"]

ACCOUNT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": ("name_key", "pk"),
    "-name": ("-name_key", "-pk"),
    "updated_at": ("updated_at", "pk"),
    "-updated_at": ("-updated_at", "-pk"),
    "created_at": ("created_at", "pk"),
    "-created_at": ("-created_at", "-pk"),
}


class AccountFilters(BaseModel):
    """What the user filtered the account list by."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(
        None, max_length=200, description="Search name, legal name, tax id, domain, email, city"
    )
    status: list[AccountStatus] = Field(default_factory=list)
    tier: list[Tier] = Field(default_factory=list)
    industry: list[Industry] = Field(default_factory=list)
    size: list[CompanySize] = Field(default_factory=list)
    country: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2 codes")
    owner: list[PositiveId] = Field(default_factory=list, description="Owner user ids")
    tag: list[str] = Field(default_factory=list, description="Tag names")
    is_key_account: bool | None = None
    parent: PositiveId | None = Field(None, description="Only the children of this account")
    sort: AccountSort = "name"

    def apply(self, queryset: QuerySet[Account]) -> QuerySet[Account]:
        """Narrow ``queryset`` (already scoped to the user) to these filters."""
        conditions = Q()
        if self.status:
            conditions &= Q(status__in=self.status)
        if self.tier:
            conditions &= Q(tier__in=self.tier)
        if self.industry:
            conditions &= Q(industry__in=self.industry)
        if self.size:
            conditions &= Q(size__in=self.size)
        if self.country:
            conditions &= Q(country__in=[c.upper()[:2] for c in self.country])
        if self.owner:
            conditions &= Q(owner_id__in=self.owner)
        if self.is_key_account is not None:
            conditions &= Q(is_key_account=self.is_key_account)
        if self.parent is not None:
            conditions &= Q(parent_id=self.parent)
        queryset = queryset.filter(conditions)
        if self.tag:
            tagged = Account.tags.through.objects.filter(
                account_id=OuterRef("pk"), tag__name__in=self.tag
            )
            queryset = queryset.filter(Exists(tagged))
        # Last: when the full-text index finds nothing in this list, words are looked for
        # inside words instead (see cartera.core.fulltext).
        return apply_search(queryset, self.q)

    @property
    def ordering(self) -> tuple[str, ...]:
        """Keyset ordering for the chosen sort."""
        return ACCOUNT_ORDERINGS[self.sort]
