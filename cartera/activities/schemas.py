"""API shapes of timeline interactions."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from cartera.accounts.schemas import AccountRef
from cartera.contacts.schemas import ContactRef
from cartera.core.api import Id, InputSchema
from cartera.users.schemas import UserRef

from .models import Direction, InteractionKind


class InteractionOut(Schema):
    """A call, email, meeting, note or status change on an account's timeline."""

    pk: int
    account: AccountRef
    contact: ContactRef | None
    kind: str
    direction: str
    subject: str
    body: str = Field(description="Sanitised HTML")
    occurred_at: datetime
    duration_minutes: int | None
    author: UserRef | None
    version: int
    created_at: datetime
    updated_at: datetime


class InteractionFields(InputSchema):
    """Fields shared by logging and correcting an interaction (all optional here)."""

    direction: Direction | None = None
    body: str | None = Field(None, max_length=50000, description="HTML; unsafe markup is removed")
    occurred_at: datetime | None = Field(None, description="Defaults to now")
    duration_minutes: int | None = Field(None, ge=0, le=100000)
    contact: Id | None = Field(None, description="Id of a contact of the account")


class InteractionIn(InteractionFields):
    """A new interaction on an account's timeline (status changes are logged automatically)."""

    account: Id = Field(description="Account id")
    kind: InteractionKind
    subject: str = Field(max_length=200)


class InteractionPatch(InteractionFields):
    """Corrections to an interaction: only the fields sent are changed."""

    kind: InteractionKind | None = None
    subject: str | None = Field(None, max_length=200)
