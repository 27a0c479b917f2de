"""Helpers every app's HTML views use: htmx partials and domain errors on forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .errors import DomainError


def render_page_or_partial(
    request: HttpRequest, template: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """The full page, or only its partial when htmx asks for it (one view serves both)."""
    htmx = getattr(request, "htmx", None)
    chosen = partial if htmx and not htmx.boosted else template
    return render(request, chosen, context, status=status)


def add_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Show a service's refusal on the form: per field where it names one, else on top."""
    for field, messages in error.field_errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(
                target, f"{field}: {message}" if target is None and field != "__all__" else message
            )
    if not error.field_errors:
        form.add_error(None, error.message)
