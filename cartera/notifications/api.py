"""REST operations of the notifications app: the caller's own notifications only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from cartera.core.api import READ_ERRORS, PageOut, PageQuery, page_out, request_actor

from . import selectors
from .schemas import MarkReadIn, MarkReadOut, NotificationOut, UnreadCountOut
from .services import mark_read

router = Router(tags=["notifications"])


class NotificationFilters(Schema):
    """Only unread (``true``) or read (``false``) ones."""

    unread: bool | None = None


@router.get("/notifications", response={200: PageOut[NotificationOut], **READ_ERRORS})
def list_notifications(
    request: HttpRequest, filters: Query[NotificationFilters], page: Query[PageQuery]
) -> Any:
    """The caller's notifications, newest first."""
    return page_out(
        selectors.notification_page(
            request_actor(request), unread=filters.unread, cursor=page.cursor, limit=page.limit
        )
    )


@router.get("/notifications/unread-count", response={200: UnreadCountOut, **READ_ERRORS})
def count_unread_notifications(request: HttpRequest) -> Any:
    """How many of the caller's notifications are unread."""
    return {"unread": selectors.unread_count(request_actor(request))}


@router.post("/notifications/read", response={200: MarkReadOut, **READ_ERRORS})
def read_notifications(request: HttpRequest, payload: MarkReadIn) -> Any:
    """Mark the given notifications read (all unread ones without ``ids``)."""
    ids = None if payload.ids is None else list(payload.ids)
    return {"marked": mark_read(user=request_actor(request), notification_ids=ids)}
