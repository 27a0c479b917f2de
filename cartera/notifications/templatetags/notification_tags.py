"""The unread count for the navigation bar's bell."""

from __future__ import annotations

from typing import Any

from django import template

from cartera.notifications.selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context: dict[str, Any]) -> int:
    """The signed-in person's unread notifications, counted once per request."""
    request = context.get("request")
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    cached = getattr(request, "_cartera_unread_notifications", None)
    if cached is None:
        cached = unread_count(user)
        if request is not None:
            request._cartera_unread_notifications = cached
    return int(cached)
