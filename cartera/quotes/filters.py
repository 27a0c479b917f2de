"""The quote list's filters, defined once for the list page and the API."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q, QuerySet
from pydantic import BaseModel, ConfigDict, Field

from cartera.core.filters import PositiveId

from .models import Quote, QuoteStatus

QuoteSort = Literal["-updated_at", "updated_at"]

QUOTE_ORDERINGS: dict[str, tuple[str, ...]] = {
    "-updated_at": ("-updated_at", "-pk"),
    "updated_at": ("updated_at", "pk"),
}


class QuoteFilters(BaseModel):
    """What the user filtered the quote list by."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(None, max_length=200, description="Quote number or title")
    status: list[QuoteStatus] = Field(default_factory=list)
    opportunity: PositiveId | None = Field(None, description="Only this deal's quotes")
    owner: list[PositiveId] = Field(default_factory=list, description="Owner user ids")
    current: bool | None = Field(
        None, description="true: leave out superseded versions; false: only those"
    )
    sort: QuoteSort = "-updated_at"

    def apply(self, queryset: QuerySet[Quote]) -> QuerySet[Quote]:
        """Narrow ``queryset`` (already scoped to the user) to these filters."""
        conditions = Q()
        if self.status:
            conditions &= Q(status__in=self.status)
        if self.opportunity is not None:
            conditions &= Q(opportunity_id=self.opportunity)
        if self.owner:
            conditions &= Q(owner_id__in=self.owner)
        if self.current is True:
            conditions &= ~Q(status=QuoteStatus.SUPERSEDED)
        elif self.current is False:
            conditions &= Q(status=QuoteStatus.SUPERSEDED)
        if self.q and self.q.strip():
            text = self.q.strip()
            conditions &= Q(number__icontains=text) | Q(title__icontains=text)
        return queryset.filter(conditions)

    @property
    def ordering(self) -> tuple[str, ...]:
        """Keyset ordering for the chosen sort."""
        return QUOTE_ORDERINGS[self.sort]
