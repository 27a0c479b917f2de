"""API shapes of notifications."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from cartera.core.api import Id, InputSchema
from cartera.users.schemas import UserRef


class NotificationOut(Schema):
    """One notification."""

    pk: int
    title: str
    body: str
    url: str = Field(description="Path inside Cartera")
    actor: UserRef | None
    created_at: datetime
    read_at: datetime | None


class UnreadCountOut(Schema):
    """How many notifications are unread."""

    unread: int


class MarkReadIn(InputSchema):
    """Which notifications to mark read (omit ``ids`` for all)."""

    ids: list[Id] | None = Field(None, max_length=500)


class MarkReadOut(Schema):
    """How many were marked read."""

    marked: int
