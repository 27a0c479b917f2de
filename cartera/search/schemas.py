"""API shapes of global search results."""

from __future__ import annotations

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

from cartera.accounts.models import Account
from cartera.users.schemas import UserRef


class SearchQuery(BaseModel):
    """What to search for."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field("", max_length=200, description="Words to find (accents and case ignored)")
    limit: int = Field(8, ge=1, le=50, description="Results per group")


class AccountHit(Schema):
    """An account that matched."""

    pk: int
    name: str
    city: str
    country: str
    status: str
    owner: UserRef

    @staticmethod
    def resolve_country(obj: Account) -> str:
        """ISO code."""
        return str(obj.country.code or "")


class ContactHit(Schema):
    """A contact that matched."""

    pk: int
    full_name: str
    email: str
    job_title: str


class SearchOut(Schema):
    """Accounts and contacts the caller sees that contain every word searched, best first."""

    query: str
    accounts: list[AccountHit]
    contacts: list[ContactHit]
