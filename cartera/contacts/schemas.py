"""API shapes of contacts and their links to accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from cartera.accounts.schemas import AccountRef, e164, stored_phone_e164
from cartera.core.api import Id, InputSchema

from .models import BuyingRole, Channel, Contact, ReportPreference


class ContactRef(Schema):
    """A contact as other objects point to them."""

    pk: int
    full_name: str


class ContactAccountOut(Schema):
    """One of a contact's accounts (only those the caller sees)."""

    account: AccountRef
    is_primary: bool


class ContactOut(Schema):
    """A contact as lists and single reads show them."""

    pk: int
    first_name: str
    last_name: str
    full_name: str
    email: str
    secondary_email: str
    phone: str = Field(description="E.164")
    mobile: str = Field(description="E.164")
    job_title: str
    buying_role: str
    preferred_channel: str
    report_preference: str
    language: str
    special_requests: str
    do_not_contact: bool
    accounts: list[ContactAccountOut]
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @staticmethod
    def resolve_phone(obj: Contact) -> str:
        """E.164."""
        return e164(obj.phone)

    @staticmethod
    def resolve_mobile(obj: Contact) -> str:
        """E.164."""
        return e164(obj.mobile)

    @staticmethod
    def resolve_accounts(obj: Contact) -> list[Any]:
        """The links the selector prefetched for the caller."""
        return list(getattr(obj, "visible_links", []))


def contact_out_item(row: dict[str, Any]) -> dict[str, Any]:
    """What ``ContactOut`` makes of a ``contact_list_rows`` row, built directly.

    The API list renders these without validating each field again; a test keeps the two
    byte-identical (field order included).
    """
    return {
        "pk": row["pk"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "full_name": f"{row['first_name']} {row['last_name']}".strip(),
        "email": row["email"],
        "secondary_email": row["secondary_email"],
        "phone": stored_phone_e164(row["phone_e164"]),
        "mobile": stored_phone_e164(row["mobile_e164"]),
        "job_title": row["job_title"],
        "buying_role": row["buying_role"],
        "preferred_channel": row["preferred_channel"],
        "report_preference": row["report_preference"],
        "language": row["language"],
        "special_requests": row["special_requests"],
        "do_not_contact": row["do_not_contact"],
        "accounts": row["accounts"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "deleted_at": row["deleted_at"],
    }


class ContactFields(InputSchema):
    """Fields shared by creating and changing a contact (all optional here)."""

    last_name: str | None = Field(None, max_length=150)
    email: str | None = Field(None, max_length=254)
    secondary_email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    mobile: str | None = Field(None, max_length=40)
    job_title: str | None = Field(None, max_length=150)
    buying_role: BuyingRole | Literal[""] | None = None
    preferred_channel: Channel | None = None
    report_preference: ReportPreference | None = None
    language: str | None = Field(None, max_length=8, description="e.g. es, en, pt-BR")
    special_requests: str | None = Field(None, max_length=5000)
    do_not_contact: bool | None = None


class ContactIn(ContactFields):
    """A new contact at one or more accounts the caller may change."""

    first_name: str = Field(max_length=100)
    accounts: list[Id] = Field(
        min_length=1, max_length=50, description="Account ids; the first is the primary account"
    )


class ContactPatch(ContactFields):
    """Changes to a contact; ``accounts`` replaces their links among the accounts you see."""

    first_name: str | None = Field(None, max_length=100)
    accounts: list[Id] | None = Field(
        None, min_length=1, max_length=50, description="Account ids you see"
    )
