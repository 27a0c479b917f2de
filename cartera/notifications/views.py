"""The notifications page: unread first, mark one or all read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cartera.core.views import render_page_or_partial
from cartera.users.models import User

from .selectors import get_notification_for_user, notification_page
from .services import mark_read

UNREAD_LIMIT = 100


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """Unread notifications first (up to 100), then a keyset page of the read ones."""
    user: User = request.user  # type: ignore[assignment]
    unread = notification_page(user, unread=True, limit=UNREAD_LIMIT)
    read = notification_page(user, unread=False, cursor=request.GET.get("cursor") or None)
    context = {"nav": "notifications", "unread": unread.items, "page": read}
    return render_page_or_partial(
        request,
        "notifications/list.html",
        "notifications/partials/list_body.html",
        context,
    )


@require_GET
@login_required
def notification_bell(request: HttpRequest) -> HttpResponse:
    """The bell with the unread count: fetched by htmx after the page loaded, then every minute,
    so no page pays for the count."""
    return render(request, "notifications/partials/bell.html")


@require_POST
@login_required
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read, then follow its link when asked to (``?open=1``)."""
    user: User = request.user  # type: ignore[assignment]
    notification = get_notification_for_user(user, pk)
    mark_read(user=user, notification_ids=[notification.pk])
    target = notification.url
    if request.POST.get("open") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect(target)
    return redirect("notifications:list")


@require_POST
@login_required
def notification_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every notification read."""
    user: User = request.user  # type: ignore[assignment]
    mark_read(user=user)
    return redirect("notifications:list")
