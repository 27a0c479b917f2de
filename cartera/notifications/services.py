"""Telling people: one call makes the in-app notification and queues its email copy."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from cartera.users.models import User

from .models import Notification


def notify(
    *, recipient: User, title: str, body: str = "", url: str = "", actor: User | None = None
) -> Notification:
    """Notify ``recipient`` in the app and, once the transaction commits, by email.

    ``title`` and ``body`` should already be in the recipient's language: callers build them
    inside ``translation.override(language_of(recipient))``. ``url`` is a path inside Cartera.
    """
    notification = Notification.objects.create(
        recipient=recipient, actor=actor, title=title[:200], body=body[:5000], url=url[:500]
    )
    if recipient.email and recipient.is_active:
        from cartera.core.tasks import send_email

        link = f"{settings.CARTERA_BASE_URL.rstrip('/')}{url}" if url else ""
        text = "\n\n".join(part for part in (body, link) if part)
        transaction.on_commit(
            lambda: send_email.enqueue(subject=title, body=text, to=[recipient.email])
        )
    return notification


def language_of(user: User) -> str:
    """The language ``user`` reads Cartera in (their choice, else the site's default)."""
    return user.language or settings.LANGUAGE_CODE


def override_for(user: User) -> translation.override:
    """``with override_for(user):`` builds texts in the recipient's language."""
    return translation.override(language_of(user))


def mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark ``user``'s notifications read (all unread ones when no ids are given)."""
    queryset = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=notification_ids)
    return queryset.update(read_at=timezone.now())
