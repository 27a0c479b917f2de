"""API shapes of accounts and their account teams."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal

from ninja import Schema
from phonenumber_field.phonenumber import to_python
from pydantic import Field, StringConstraints

from cartera.core.api import Id, InputSchema
from cartera.users.schemas import UserRef

from .models import Account, AccountStatus, CompanySize, Industry, TeamRole, Tier

Blank = Literal[""]
TagName = Annotated[str, StringConstraints(max_length=50)]


def e164(value: Any) -> str:
    """A phone number in E.164 (``+34911234567``), or "" when there is none or it is invalid."""
    if not value:
        return ""
    return str(value.as_e164) if getattr(value, "is_valid", lambda: False)() else str(value)


@lru_cache(maxsize=20_000)
def stored_phone_e164(text: str | None) -> str:
    """``e164`` of a phone number from its stored text, parsed as the field would, once per number.

    For lists read with ``values()``: parsing costs ~40 µs a number, 2 ms a page of 50.
    """
    return e164(to_python(text)) if text else ""


class AccountRef(Schema):
    """An account as other objects point to it."""

    pk: int
    name: str


class AccountOut(Schema):
    """An account as lists and single reads show it."""

    pk: int
    name: str
    legal_name: str
    tax_id: str
    industry: str
    size: str
    website: str
    phone: str = Field(description="E.164, e.g. +34911234567")
    email: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str = Field(description="ISO 3166-1 alpha-2 code")
    tier: str
    is_key_account: bool
    status: str
    annual_revenue: str | None = Field(description="Decimal string, in `currency`")
    currency: str = Field(description="ISO 4217 code")
    description: str
    owner: UserRef
    parent: AccountRef | None
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @staticmethod
    def resolve_phone(obj: Account) -> str:
        """E.164."""
        return e164(obj.phone)

    @staticmethod
    def resolve_country(obj: Account) -> str:
        """ISO code."""
        return str(obj.country.code or "")

    @staticmethod
    def resolve_annual_revenue(obj: Account) -> str | None:
        """Exact decimal as text (no float rounding)."""
        return None if obj.annual_revenue is None else str(obj.annual_revenue)

    @staticmethod
    def resolve_tags(obj: Account) -> list[str]:
        """Names, from the prefetched tags."""
        return [tag.name for tag in obj.tags.all()]


def account_out_item(row: dict[str, Any]) -> dict[str, Any]:
    """What ``AccountOut`` makes of an ``account_list_rows`` row, built directly.

    The API list renders these without validating each field again; a test keeps the two
    byte-identical (field order included).
    """
    revenue = row["annual_revenue"]
    parent_pk = row["parent_id"]
    return {
        "pk": row["pk"],
        "name": row["name"],
        "legal_name": row["legal_name"],
        "tax_id": row["tax_id"],
        "industry": row["industry"],
        "size": row["size"],
        "website": row["website"],
        "phone": stored_phone_e164(row["phone_e164"]),
        "email": row["email"],
        "street": row["street"],
        "city": row["city"],
        "region": row["region"],
        "postal_code": row["postal_code"],
        "country": row["country"] or "",
        "tier": row["tier"],
        "is_key_account": row["is_key_account"],
        "status": row["status"],
        "annual_revenue": None if revenue is None else str(revenue),
        "currency": row["currency"],
        "description": row["description"],
        "owner": {"pk": row["owner_id"], "full_name": row["owner__full_name"]},
        "parent": None if parent_pk is None else {"pk": parent_pk, "name": row["parent__name"]},
        "tags": row["tags"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "deleted_at": row["deleted_at"],
    }


class TeamMemberOut(Schema):
    """A person on an account's team and their role there."""

    user: UserRef
    role: str


class AccountDetailOut(AccountOut):
    """An account with its team and the child accounts the caller sees."""

    team: list[TeamMemberOut]
    children: list[AccountRef]

    @staticmethod
    def resolve_team(obj: Account) -> list[Any]:
        """Prefetched by ``account_detail``."""
        return list(obj.team_members.all())

    @staticmethod
    def resolve_children(obj: Account) -> list[Any]:
        """Only the children the caller may see."""
        return list(getattr(obj, "visible_children", []))


class AccountFields(InputSchema):
    """Fields shared by creating and changing an account (all optional here)."""

    legal_name: str | None = Field(None, max_length=200)
    tax_id: str | None = Field(None, max_length=40)
    industry: Industry | Blank | None = None
    size: CompanySize | Blank | None = None
    website: str | None = Field(None, max_length=300)
    phone: str | None = Field(None, max_length=40, description="International or national number")
    email: str | None = Field(None, max_length=254)
    street: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    country: str | None = Field(None, max_length=2, description="ISO 3166-1 alpha-2 code")
    tier: Tier | None = None
    is_key_account: bool | None = None
    status: AccountStatus | None = None
    annual_revenue: Decimal | None = Field(
        None, max_digits=16, decimal_places=2, description='Decimal string, e.g. "125000.00"'
    )
    currency: str | None = Field(None, max_length=3, description="ISO 4217 code")
    description: str | None = Field(None, max_length=10000)
    owner: Id | None = Field(None, description="User id; defaults to you")
    parent: Id | None = Field(None, description="Parent account id")
    tags: list[TagName] | None = Field(None, max_length=50, description="Tag names")


class AccountIn(AccountFields):
    """A new account."""

    name: str = Field(max_length=200)


class AccountPatch(AccountFields):
    """Changes to an account: only the fields sent are changed; ``tags`` replaces the set."""

    name: str | None = Field(None, max_length=200)


class TeamMemberIn(InputSchema):
    """A person's role on an account's team."""

    role: TeamRole
