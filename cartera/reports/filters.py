"""The reports' filters, defined once for the report pages, their exports and the API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cartera.core.filters import PositiveId
from cartera.sales.models import Opportunity

#: What a breakdown groups by: the deal's owner, the owner's team, that team's manager, the
#: team's regional office, or the product on the deal's lines.
Dimension = Literal["owner", "team", "manager", "office", "product"]
#: How revenue is bucketed in time.
PeriodKind = Literal["month", "quarter"]


class ReportFilters(BaseModel):
    """What a report is narrowed to; ``by`` and ``period`` choose its breakdown."""

    model_config = ConfigDict(extra="forbid")

    date_from: dt.date | None = Field(
        None, description="First day (closed on, or created on for pipeline and conversion)"
    )
    date_to: dt.date | None = Field(None, description="Last day, inclusive")
    pipeline: list[PositiveId] = Field(default_factory=list, description="Pipeline ids")
    owner: list[PositiveId] = Field(default_factory=list, description="Owner user ids")
    team: list[PositiveId] = Field(default_factory=list, description="Owner's team ids")
    manager: list[PositiveId] = Field(
        default_factory=list, description="User ids of the managers of the owners' teams"
    )
    office: list[str] = Field(default_factory=list, description="Regional offices of the teams")
    currency: list[str] = Field(default_factory=list, description="ISO 4217 codes")
    by: Dimension = Field("owner", description="Breakdown: owner, team, manager, office, product")
    period: PeriodKind = Field("month", description="Revenue per month or quarter")

    @field_validator("currency")
    @classmethod
    def _upper_currency(cls, value: list[str]) -> list[str]:
        return [code.strip().upper()[:3] for code in value if code.strip()]

    @field_validator("office")
    @classmethod
    def _strip_office(cls, value: list[str]) -> list[str]:
        return [office.strip()[:120] for office in value if office.strip()]

    @model_validator(mode="after")
    def _ordered_dates(self) -> ReportFilters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise PydanticCustomError(
                "date_order", str(_("The first day must be on or before the last day."))
            )
        return self

    def apply(self, queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        """Narrow deals (already scoped to the reader) by everything but the dates."""
        conditions = Q()
        if self.pipeline:
            conditions &= Q(pipeline_id__in=self.pipeline)
        if self.owner:
            conditions &= Q(owner_id__in=self.owner)
        if self.team:
            conditions &= Q(owner__team_id__in=self.team)
        if self.manager:
            conditions &= Q(owner__team__manager_id__in=self.manager)
        if self.office:
            conditions &= Q(owner__team__office__in=self.office)
        if self.currency:
            conditions &= Q(currency__in=self.currency)
        return queryset.filter(conditions)

    def in_period(self, queryset: QuerySet[Opportunity], field: str) -> QuerySet[Opportunity]:
        """Deals whose date ``field`` falls within the chosen days."""
        if self.date_from:
            queryset = queryset.filter(**{f"{field}__gte": self.date_from})
        if self.date_to:
            queryset = queryset.filter(**{f"{field}__lte": self.date_to})
        return queryset
