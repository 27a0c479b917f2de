"""API shapes of quotes, their lines, approvals and the client's answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, StringConstraints

from cartera.core.api import Id, InputSchema
from cartera.users.schemas import UserRef

from .models import QuoteLanguage, QuoteStatus

Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Money = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3)]


class QuoteLineOut(Schema):
    """One line with its stated figures (decimal strings)."""

    pk: int
    product: int | None = Field(description="Product id, null for free text")
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount_percent: str
    tax_rate: str
    net_amount: str
    allocated_discount: str
    tax_amount: str
    position: int

    @staticmethod
    def resolve_product(obj: Any) -> int | None:
        return obj.product_id

    @staticmethod
    def resolve_quantity(obj: Any) -> str:
        return str(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj: Any) -> str:
        return str(obj.unit_price)

    @staticmethod
    def resolve_discount_percent(obj: Any) -> str:
        return str(obj.discount_percent)

    @staticmethod
    def resolve_tax_rate(obj: Any) -> str:
        return str(obj.tax_rate)

    @staticmethod
    def resolve_net_amount(obj: Any) -> str:
        return str(obj.net_amount)

    @staticmethod
    def resolve_allocated_discount(obj: Any) -> str:
        return str(obj.allocated_discount)

    @staticmethod
    def resolve_tax_amount(obj: Any) -> str:
        return str(obj.tax_amount)


class QuoteOut(Schema):
    """A quote (one version) as lists show it."""

    pk: int
    number: str
    revision: int = Field(description="Version number within the quote family (1, 2, …)")
    title: str
    status: QuoteStatus
    opportunity: int
    currency: str
    language: QuoteLanguage
    valid_until: dt.date | None
    discount_percent: str
    subtotal: str
    discount_amount: str
    tax_amount: str
    total: str
    owner: UserRef
    recipient_name: str
    recipient_email: str
    sent_at: dt.datetime | None
    version: int = Field(description="Concurrency version (also the ETag)")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_opportunity(obj: Any) -> int:
        return obj.opportunity_id

    @staticmethod
    def resolve_discount_percent(obj: Any) -> str:
        return str(obj.discount_percent)

    @staticmethod
    def resolve_subtotal(obj: Any) -> str:
        return str(obj.subtotal)

    @staticmethod
    def resolve_discount_amount(obj: Any) -> str:
        return str(obj.discount_amount)

    @staticmethod
    def resolve_tax_amount(obj: Any) -> str:
        return str(obj.tax_amount)

    @staticmethod
    def resolve_total(obj: Any) -> str:
        return str(obj.total)


class ApprovalOut(Schema):
    """An approval request and its decision."""

    pk: int
    status: str
    requested_by: UserRef
    request_note: str
    discount_percent: str
    approver: UserRef | None
    comment: str
    created_at: dt.datetime
    decided_at: dt.datetime | None

    @staticmethod
    def resolve_discount_percent(obj: Any) -> str:
        return str(obj.discount_percent)


class QuoteDetailOut(QuoteOut):
    """A quote with its lines and approvals."""

    notes: str
    terms: str
    price_list: int | None
    effective_discount: str
    needs_approval: bool
    lines: list[QuoteLineOut]
    approvals: list[ApprovalOut]

    @staticmethod
    def resolve_price_list(obj: Any) -> int | None:
        return obj.price_list_id

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_approvals(obj: Any) -> list[Any]:
        return list(obj.approvals.all())


class QuoteIn(InputSchema):
    """A new quote for a deal."""

    opportunity: Id
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    language: QuoteLanguage | None = None
    valid_until: dt.date | None = None
    price_list: Id | None = None
    discount_percent: Percent = Decimal("0")
    notes: Annotated[str, StringConstraints(max_length=5000)] = ""
    terms: Annotated[str, StringConstraints(max_length=10000)] = ""


class QuotePatch(InputSchema):
    """Quote fields to change (drafts only)."""

    title: Annotated[str, StringConstraints(max_length=200)] | None = None
    language: QuoteLanguage | None = None
    valid_until: dt.date | None = None
    price_list: Id | None = None
    discount_percent: Percent | None = None
    notes: Annotated[str, StringConstraints(max_length=5000)] | None = None
    terms: Annotated[str, StringConstraints(max_length=10000)] | None = None
    recipient_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    recipient_email: Annotated[str, StringConstraints(max_length=254)] | None = None


class QuoteLineIn(InputSchema):
    """A new line: a product (price from the quote's price list unless given) or free text."""

    product: Id | None = None
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    quantity: Quantity = Decimal("1")
    unit: str | None = None
    unit_price: Money | None = None
    discount_percent: Percent = Decimal("0")
    tax_rate: Percent | None = None


class QuoteLinePatch(InputSchema):
    """Line fields to change."""

    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    quantity: Quantity | None = None
    unit: str | None = None
    unit_price: Money | None = None
    discount_percent: Percent | None = None
    tax_rate: Percent | None = None


class ApprovalRequestIn(InputSchema):
    """Ask for approval."""

    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class DecisionIn(InputSchema):
    """Approve or reject."""

    approve: bool
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""


class SendIn(InputSchema):
    """Send the quote to the client."""

    recipient_email: Annotated[str, StringConstraints(max_length=254)] | None = None
    recipient_name: Annotated[str, StringConstraints(max_length=200)] | None = None
    message: Annotated[str, StringConstraints(max_length=5000)] = ""


class SentOut(Schema):
    """The sent quote and its public link (also emailed to the client)."""

    quote: QuoteDetailOut
    public_url: str


class SettingsOut(Schema):
    """The quote settings."""

    approval_threshold: str
    won_on_accept: bool
    link_validity_days: int

    @staticmethod
    def resolve_approval_threshold(obj: Any) -> str:
        return str(Decimal(obj.approval_threshold).quantize(Decimal("0.01")))


class SettingsPatch(InputSchema):
    """Quote settings to change."""

    approval_threshold: Percent | None = None
    won_on_accept: bool | None = None
    link_validity_days: Annotated[int, Field(ge=1, le=365)] | None = None
