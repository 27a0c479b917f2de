"""The contact list's filters, defined once for the list page, the export and the API."""

from __future__ import annotations

from typing import Literal

from django.db.models import Exists, OuterRef, Q, QuerySet
from pydantic import BaseModel, ConfigDict, Field

from cartera.core.filters import PositiveId
from cartera.core.fulltext import apply_search

from .models import BuyingRole, Channel, Contact, ContactAccount

ContactSort = Literal["name", "-name", "updated_at", "-updated_at"]

CONTACT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": ("name_key", "pk"),
    "-name": ("-name_key", "-pk"),
    "updated_at": ("updated_at", "pk"),
    "-updated_at": ("-updated_at", "-pk"),
}


class ContactFilters(BaseModel):
    """What the user filtered the contact list by."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(None, max_length=200, description="Search name, email and phone")
    account: PositiveId | None = Field(None, description="Only contacts of this account")
    buying_role: list[BuyingRole] = Field(default_factory=list)
    preferred_channel: list[Channel] = Field(default_factory=list)
    do_not_contact: bool | None = None
    sort: ContactSort = "name"

    def apply(self, queryset: QuerySet[Contact]) -> QuerySet[Contact]:
        """Narrow ``queryset`` (already scoped to the user) to these filters."""
        conditions = Q()
        if self.buying_role:
            conditions &= Q(buying_role__in=self.buying_role)
        if self.preferred_channel:
            conditions &= Q(preferred_channel__in=self.preferred_channel)
        if self.do_not_contact is not None:
            conditions &= Q(do_not_contact=self.do_not_contact)
        if self.account is not None:
            links = ContactAccount.objects.filter(
                contact_id=OuterRef("pk"), account_id=self.account
            )
            conditions &= Q(Exists(links))
        # Last: when the full-text index finds nothing in this list, words are looked for
        # inside words instead (see cartera.core.fulltext).
        return apply_search(queryset.filter(conditions), self.q)

    @property
    def ordering(self) -> tuple[str, ...]:
        """Keyset ordering for the chosen sort."""
        return CONTACT_ORDERINGS[self.sort]
