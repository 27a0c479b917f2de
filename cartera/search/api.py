"""REST global search across accounts and contacts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from cartera.core.api import Problem

from .schemas import SearchOut, SearchQuery
from .selectors import global_search

router = Router(tags=["search"])


@router.get("/search", response={200: SearchOut, 401: Problem, 422: Problem})
def search(request: HttpRequest, params: Query[SearchQuery]) -> Any:
    """Find accounts and contacts by name, email, phone, tax id, domain or city."""
    return global_search(request.auth, params.q, limit=params.limit)  # type: ignore[attr-defined]
