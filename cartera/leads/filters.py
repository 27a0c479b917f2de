"""The lead list's filters, defined once for the list page, the export and the API."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q, QuerySet
from pydantic import BaseModel, ConfigDict, Field

from cartera.accounts.models import CompanySize, Industry
from cartera.core.filters import PositiveId
from cartera.core.text import search_terms

from .models import Lead, LeadSource, LeadStatus

LeadSort = Literal["-created_at", "created_at", "name", "-name", "-score", "score"]

LEAD_ORDERINGS: dict[str, tuple[str, ...]] = {
    "-created_at": ("-created_at", "-pk"),
    "created_at": ("created_at", "pk"),
    "name": ("name_key", "pk"),
    "-name": ("-name_key", "-pk"),
    "-score": ("-score", "-pk"),
    "score": ("score", "pk"),
}


class LeadFilters(BaseModel):
    """What the user filtered the lead list by."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(None, max_length=200, description="Search company, person, email, domain")
    status: list[LeadStatus] = Field(default_factory=list)
    source: list[LeadSource] = Field(default_factory=list)
    industry: list[Industry] = Field(default_factory=list)
    size: list[CompanySize] = Field(default_factory=list)
    country: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2 codes")
    owner: list[PositiveId] = Field(default_factory=list, description="Owner user ids")
    team: list[PositiveId] = Field(default_factory=list, description="Team ids")
    unassigned: bool | None = Field(None, description="Only leads without an owner (or with one)")
    min_score: int | None = Field(None, ge=-1_000_000, le=1_000_000)
    sort: LeadSort = "-created_at"

    def apply(self, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        """Narrow ``queryset`` (already scoped to the user) to these filters."""
        conditions = Q()
        if self.status:
            conditions &= Q(status__in=self.status)
        if self.source:
            conditions &= Q(source__in=self.source)
        if self.industry:
            conditions &= Q(industry__in=self.industry)
        if self.size:
            conditions &= Q(size__in=self.size)
        if self.country:
            conditions &= Q(country__in=[c.upper()[:2] for c in self.country])
        if self.owner:
            conditions &= Q(owner_id__in=self.owner)
        if self.team:
            conditions &= Q(team_id__in=self.team)
        if self.unassigned is not None:
            conditions &= Q(owner__isnull=self.unassigned)
        if self.min_score is not None:
            conditions &= Q(score__gte=self.min_score)
        for term in search_terms(self.q):
            conditions &= Q(search_text__contains=term)
        return queryset.filter(conditions)

    @property
    def ordering(self) -> tuple[str, ...]:
        """Keyset ordering for the chosen sort."""
        return LEAD_ORDERINGS[self.sort]
