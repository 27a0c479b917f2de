"""The timeline's filters, defined once for pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet
from pydantic import BaseModel, ConfigDict, Field

from cartera.core.filters import PositiveId

from .models import Interaction, InteractionKind

TIMELINE_ORDERING = ("-occurred_at", "-pk")


class InteractionFilters(BaseModel):
    """What the user filtered a timeline by."""

    model_config = ConfigDict(extra="forbid")

    kind: list[InteractionKind] = Field(default_factory=list)
    account: PositiveId | None = None
    contact: PositiveId | None = None

    def apply(self, queryset: QuerySet[Interaction]) -> QuerySet[Interaction]:
        """Narrow ``queryset`` (already scoped to the user) to these filters."""
        if self.kind:
            queryset = queryset.filter(kind__in=self.kind)
        if self.account is not None:
            queryset = queryset.filter(account_id=self.account)
        if self.contact is not None:
            queryset = queryset.filter(contact_id=self.contact)
        return queryset
