"""Turn domain errors that escape a view into the right HTTP page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from .errors import Conflict, DomainError, Forbidden, NotFound


class DomainErrorMiddleware:
    """NotFound → 404 page, Forbidden → 403 page, Conflict → 412; other refusals → 400 page.

    Views handle form-level errors themselves; this is the safety net for reads and actions.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Render the page for a domain error; leave everything else to Django."""
        if isinstance(exception, NotFound):
            return defaults.page_not_found(request, exception)
        if isinstance(exception, Forbidden):
            return defaults.permission_denied(request, exception)
        if isinstance(exception, Conflict):
            return HttpResponse(
                exception.message, status=412, content_type="text/plain; charset=utf-8"
            )
        if isinstance(exception, DomainError):
            return defaults.bad_request(request, exception)
        return None
