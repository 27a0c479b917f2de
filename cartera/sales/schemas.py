"""API shapes of deals, their contacts and products, pipelines, the board and the forecast.

Money is a decimal string (``"12000.00"``) with its ISO 4217 ``currency``, never a float.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from cartera.accounts.schemas import AccountRef
from cartera.contacts.schemas import ContactRef
from cartera.core.api import Id, InputSchema
from cartera.users.schemas import UserRef

from .models import ContactRole, ForecastCategory, Opportunity, OpportunityType, StageKind
from .selectors import BoardColumn, ForecastCell, ForecastRow, MoneyTotal, StageVisit
from .services import line_total

Money = Field(description="Decimal string, in the deal's `currency`")


def money_text(value: Decimal | None) -> str | None:
    """Exact decimal as text (no float rounding)."""
    return None if value is None else str(value)


# --- pipelines ---------------------------------------------------------------------------------


class StageRef(Schema):
    """A stage as deals point to it."""

    pk: int
    name: str
    kind: str


class PipelineRef(Schema):
    """A pipeline as deals point to it."""

    pk: int
    name: str


class StageOut(Schema):
    """One stage of a pipeline."""

    pk: int
    name: str
    position: int
    probability: int = Field(description="Percent; copied to deals that move here")
    kind: str = Field(description="open, won or lost")
    forecast_category: str
    usual_days: int | None = Field(description="Deals here longer than this are stuck")


class PipelineOut(Schema):
    """A pipeline with its stages in order."""

    pk: int
    name: str
    description: str
    position: int
    is_default: bool
    is_active: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj: Any) -> list[Any]:
        """Prefetched in order by ``get_pipeline``."""
        return list(obj.stages.all())


class StageFields(InputSchema):
    """A stage's settings (all optional here)."""

    probability: int | None = Field(None, ge=0, le=100)
    kind: StageKind | None = None
    forecast_category: ForecastCategory | None = None
    usual_days: int | None = Field(None, ge=1, le=3650)
    position: int | None = Field(None, ge=0, le=1000)


class StageIn(StageFields):
    """A new stage."""

    name: str = Field(max_length=80)


class StagePatch(StageFields):
    """Changes to a stage."""

    name: str | None = Field(None, max_length=80)


class PipelineFields(InputSchema):
    """A pipeline's settings (all optional here)."""

    description: str | None = Field(None, max_length=2000)
    position: int | None = Field(None, ge=0, le=1000)
    is_default: bool | None = None
    is_active: bool | None = None


class PipelineIn(PipelineFields):
    """A new pipeline; without ``stages`` it gets the standard ones."""

    name: str = Field(max_length=120)
    stages: list[StageIn] | None = Field(None, max_length=30)


class PipelinePatch(PipelineFields):
    """Changes to a pipeline."""

    name: str | None = Field(None, max_length=120)


class StageOrderIn(InputSchema):
    """Every stage id of the pipeline, in the new order."""

    stages: list[Id] = Field(max_length=30)
    expected: list[Id] | None = Field(
        None,
        max_length=30,
        description="The order you last read: if the stages are no longer in it, 412 and "
        "nothing changes",
    )


class LossReasonOut(Schema):
    """A reason deals are lost."""

    pk: int
    name: str
    position: int
    is_active: bool


class LossReasonIn(InputSchema):
    """A new loss reason."""

    name: str = Field(max_length=120)
    position: int | None = Field(None, ge=0, le=1000)
    is_active: bool | None = None


class LossReasonPatch(InputSchema):
    """Changes to a loss reason (retire it with ``is_active: false``)."""

    name: str | None = Field(None, max_length=120)
    position: int | None = Field(None, ge=0, le=1000)
    is_active: bool | None = None


class LossReasonRef(Schema):
    """A loss reason as deals point to it."""

    pk: int
    name: str


# --- deals -------------------------------------------------------------------------------------


class OpportunityOut(Schema):
    """A deal as lists and single reads show it."""

    pk: int
    name: str
    external_id: str
    account: AccountRef | None
    pipeline: PipelineRef
    stage: StageRef
    status: str = Field(description="open, won or lost (the stage's kind)")
    type: str
    amount: str = Money
    currency: str = Field(description="ISO 4217 code")
    probability: int
    weighted_amount: str = Field(description="amount x probability, rounded to the currency")
    forecast_category: str
    expected_close_date: dt.date | None
    closed_on: dt.date | None
    owner: UserRef
    loss_reason: LossReasonRef | None
    loss_note: str
    next_step: str
    description: str
    stage_entered_at: dt.datetime
    days_in_stage: int
    is_stuck: bool = Field(description="Longer in the stage than its usual days")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None

    @staticmethod
    def resolve_amount(obj: Opportunity) -> str:
        """Exact decimal."""
        return str(obj.amount)

    @staticmethod
    def resolve_weighted_amount(obj: Opportunity) -> str:
        """Rounded once, to the currency."""
        from cartera.core.money import round_money

        return str(round_money(obj.weighted_amount, obj.currency))

    @staticmethod
    def resolve_days_in_stage(obj: Opportunity) -> int:
        """Set by the selectors (``annotate_aging``)."""
        return int(getattr(obj, "days_in_stage", 0))

    @staticmethod
    def resolve_is_stuck(obj: Opportunity) -> bool:
        """Set by the selectors (``annotate_aging``)."""
        return bool(getattr(obj, "is_stuck", False))


class DealContactOut(Schema):
    """A contact on a deal and their role in it."""

    contact: ContactRef
    role: str


class LineOut(Schema):
    """A product on a deal."""

    pk: int
    product: ProductRef | None
    description: str
    quantity: str
    unit_price: str = Money
    discount_percent: str
    total: str = Field(description="quantity x unit price - discount, rounded to the currency")
    position: int

    @staticmethod
    def resolve_quantity(obj: Any) -> str:
        """Exact decimal."""
        return str(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj: Any) -> str:
        """Exact decimal."""
        return str(obj.unit_price)

    @staticmethod
    def resolve_discount_percent(obj: Any) -> str:
        """Exact decimal."""
        return str(obj.discount_percent)

    @staticmethod
    def resolve_total(obj: Any) -> str:
        """In the deal's currency."""
        return str(line_total(obj, obj.opportunity.currency))


class ProductRef(Schema):
    """A catalogue product as deal lines point to it."""

    pk: int
    sku: str
    name: str


LineOut.model_rebuild()


class OpportunityDetailOut(OpportunityOut):
    """A deal with its contacts (and roles) and products."""

    contacts: list[DealContactOut]
    lines: list[LineOut]

    @staticmethod
    def resolve_contacts(obj: Opportunity) -> list[Any]:
        """Prefetched by ``opportunity_detail``."""
        return list(obj.contact_roles.all())

    @staticmethod
    def resolve_lines(obj: Opportunity) -> list[Any]:
        """Prefetched by ``opportunity_detail``; each line knows its deal (no extra query)."""
        lines = list(obj.lines.all())
        for line in lines:
            line.opportunity = obj
        return lines


class OpportunityFields(InputSchema):
    """Fields shared by creating and changing a deal (all optional here)."""

    account: Id | None = Field(None, description="Account id")
    type: OpportunityType | None = None
    amount: Decimal | None = Field(
        None, ge=0, max_digits=16, decimal_places=2, description='Decimal string, "12000.00"'
    )
    currency: str | None = Field(None, min_length=3, max_length=3, description="ISO 4217 code")
    probability: int | None = Field(None, ge=0, le=100, description="Overrides the stage's")
    forecast_category: ForecastCategory | None = None
    expected_close_date: dt.date | None = None
    owner: Id | None = Field(None, description="User id; defaults to you")
    next_step: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=10000)
    external_id: str | None = Field(None, max_length=100)


class OpportunityIn(OpportunityFields):
    """A new deal (in the default pipeline's first open stage unless told otherwise)."""

    name: str = Field(max_length=200)
    pipeline: Id | None = Field(None, description="Pipeline id; defaults to the default one")
    stage: Id | None = Field(None, description="Stage id of that pipeline")


class OpportunityPatch(OpportunityFields):
    """Changes to a deal: only the fields sent change. Use ``/move`` to change the stage."""

    name: str | None = Field(None, max_length=200)
    pipeline: Id | None = Field(None, description="Moves the deal to that pipeline's first stage")
    loss_note: str | None = Field(None, max_length=2000)


class MoveIn(InputSchema):
    """Where a deal moves; a lost stage needs a ``loss_reason`` from the active list."""

    stage: Id
    loss_reason: Id | None = None
    loss_note: str = Field("", max_length=2000)


class ContactRoleIn(InputSchema):
    """A contact's role in a deal."""

    role: ContactRole


class LineFields(InputSchema):
    """A product line's fields."""

    product: Id | None = Field(None, description="Catalogue product id")
    description: str | None = Field(None, max_length=300)
    quantity: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=3)
    unit_price: Decimal | None = Field(
        None,
        ge=0,
        max_digits=16,
        decimal_places=2,
        description="Defaults to the catalogue price for the deal's currency and account tier",
    )
    discount_percent: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)


class StageVisitOut(Schema):
    """A stay of the deal in one stage."""

    from_stage: StageRef | None
    to_stage: StageRef
    changed_at: dt.datetime
    changed_by: UserRef | None
    left_at: dt.datetime | None
    days: int | None = Field(description="Whole days in the stage (null: a closed deal's rest)")

    @staticmethod
    def resolve_from_stage(obj: StageVisit) -> Any:
        """From the change row."""
        return obj.change.from_stage

    @staticmethod
    def resolve_to_stage(obj: StageVisit) -> Any:
        """From the change row."""
        return obj.change.to_stage

    @staticmethod
    def resolve_changed_at(obj: StageVisit) -> dt.datetime:
        """From the change row."""
        return obj.change.changed_at

    @staticmethod
    def resolve_changed_by(obj: StageVisit) -> Any:
        """From the change row."""
        return obj.change.changed_by


# --- board and forecast ------------------------------------------------------------------------


class MoneyTotalOut(Schema):
    """Count, amount and weighted amount of some deals in one currency."""

    currency: str
    count: int
    amount: str
    weighted: str

    @staticmethod
    def resolve_amount(obj: MoneyTotal) -> str:
        """Exact decimal."""
        return str(obj.amount)

    @staticmethod
    def resolve_weighted(obj: MoneyTotal) -> str:
        """Rounded to the currency."""
        return str(obj.weighted)


class BoardColumnOut(Schema):
    """A stage on the board: its first cards and totals over every matching deal."""

    stage: StageOut
    count: int
    has_more: bool
    closed_since: dt.date | None = Field(description="Won/lost columns: closed since this day")
    totals: list[MoneyTotalOut]
    cards: list[OpportunityOut]

    @staticmethod
    def resolve_has_more(obj: BoardColumn) -> bool:
        """More deals than cards."""
        return obj.has_more


class BoardOut(Schema):
    """A pipeline's board."""

    pipeline: PipelineRef
    columns: list[BoardColumnOut]


class ForecastCellOut(Schema):
    """The figures of one period (or the whole window)."""

    period_start: dt.date | None
    won: str
    commit: str
    best_case: str = Field(description="Includes commit")
    pipeline: str = Field(description="Every open deal not omitted")
    weighted: str = Field(description="Sum of amount x probability of the open deals")
    won_count: int
    commit_count: int
    best_case_count: int
    pipeline_count: int


def cell_out(cell: ForecastCell, period_start: dt.date | None, currency: str) -> dict[str, Any]:
    """A cell as ``ForecastCellOut`` data (amounts in the currency's precision)."""
    from cartera.core.money import round_money

    def text(value: Decimal) -> str:
        return str(round_money(value, currency))

    return {
        "period_start": period_start,
        "won": text(cell.won),
        "commit": text(cell.commit),
        "best_case": text(cell.best_case),
        "pipeline": text(cell.pipeline),
        "weighted": text(cell.weighted),
        "won_count": cell.won_count,
        "commit_count": cell.commit_count,
        "best_case_count": cell.best_case_count,
        "pipeline_count": cell.pipeline_count,
    }


class ForecastRowOut(Schema):
    """One rep, team or pipeline in one currency (``key`` null: the currency's total)."""

    key: int | None
    label: str
    currency: str
    cells: list[ForecastCellOut]
    total: ForecastCellOut


def row_out(row: ForecastRow, periods: list[tuple[dt.date, dt.date]]) -> dict[str, Any]:
    """A row as ``ForecastRowOut`` data, with a cell for every period (zeros where none)."""
    return {
        "key": row.key,
        "label": row.label,
        "currency": row.currency,
        "cells": [
            cell_out(row.cells.get(start, ForecastCell()), start, row.currency)
            for start, _ in periods
        ],
        "total": cell_out(row.total, None, row.currency),
    }


class PeriodOut(Schema):
    """A period of the forecast."""

    start: dt.date
    end: dt.date


class ForecastOut(Schema):
    """The forecast table: rows per group and currency, and a total row per currency."""

    group: str
    period: str
    periods: list[PeriodOut]
    rows: list[ForecastRowOut]
    totals: list[ForecastRowOut]
