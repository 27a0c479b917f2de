"""Global search: a compact dropdown for the navbar (htmx) and a full results page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from cartera.core.views import render_page_or_partial

from .selectors import global_search

DROPDOWN_LIMIT = 6
PAGE_LIMIT = 25
MAX_QUERY_LENGTH = 200


@require_GET
@login_required
def search_results(request: HttpRequest) -> HttpResponse:
    """Accounts then contacts matching ``q``; accents, case and punctuation do not matter."""
    query = request.GET.get("q", "")[:MAX_QUERY_LENGTH]
    htmx = getattr(request, "htmx", None)
    dropdown = bool(htmx and not htmx.boosted)
    results = global_search(
        request.user,  # type: ignore[arg-type]
        query,
        limit=DROPDOWN_LIMIT if dropdown else PAGE_LIMIT,
    )
    context = {"results": results, "query": query, "limit": PAGE_LIMIT}
    return render_page_or_partial(
        request, "search/results.html", "search/partials/dropdown.html", context
    )
