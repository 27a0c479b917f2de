"""The quote as a PDF, typeset by WeasyPrint from an HTML template in the quote's language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


def render_quote_html(quote: Any, lines: list[Any] | None = None) -> str:
    """The printable HTML of the quote, in its language (numbers and dates in its locale)."""
    rows = lines if lines is not None else list(quote.lines.all())
    with translation.override(quote.language):
        return render_to_string(
            "quotes/pdf.html",
            {
                "quote": quote,
                "lines": rows,
                "company": getattr(settings, "CARTERA_COMPANY_NAME", "Cartera"),
                "account": quote.opportunity.account,
            },
        )


def render_quote_pdf(quote: Any) -> bytes:
    """The PDF bytes of the quote."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    html = render_quote_html(quote)
    document: bytes = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    return document
