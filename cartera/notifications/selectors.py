"""Reads of notifications: only ever the signed-in person's own."""

from __future__ import annotations

from django.db.models import QuerySet

from cartera.core.errors import NotFound
from cartera.core.pagination import Page, keyset_page
from cartera.users.models import User

from .models import Notification

#: Newest first (the ``notification_list_idx`` index).
ORDERING = ("-created_at", "-pk")


def my_notifications(user: User) -> QuerySet[Notification]:
    """``user``'s notifications."""
    return Notification.objects.filter(recipient=user)


def notification_page(
    user: User, *, unread: bool | None = None, cursor: str | None = None, limit: int | None = None
) -> Page[Notification]:
    """One keyset page of ``user``'s notifications, newest first (1 query)."""
    queryset = my_notifications(user).select_related("actor")
    if unread is not None:
        queryset = queryset.filter(read_at__isnull=unread)
    return keyset_page(queryset, ordering=ORDERING, cursor=cursor, limit=limit)


def unread_count(user: User) -> int:
    """How many notifications ``user`` has not read (the ``notification_unread_idx`` index)."""
    if not user.is_authenticated:
        return 0
    return my_notifications(user).filter(read_at__isnull=True).count()


def get_notification_for_user(user: User, pk: int) -> Notification:
    """One of ``user``'s notifications (404 for anyone else's)."""
    notification = my_notifications(user).filter(pk=pk).first()
    if notification is None:
        raise NotFound()
    return notification
