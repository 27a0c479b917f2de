"""Background work of the quotes app (run by ``cartera worker``)."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from .models import Quote, QuoteStatus
from .pdf import render_quote_pdf
from .services import expire_quote

logger = logging.getLogger(__name__)


def overdue_quotes() -> list[Quote]:
    """Sent quotes whose link expiry or validity date has passed."""
    overdue = Q(link_expires_at__lte=timezone.now()) | Q(valid_until__lt=timezone.localdate())
    return list(Quote.objects.filter(overdue, status=QuoteStatus.SENT).order_by("pk"))


@task()
def expire_overdue_quotes() -> int:
    """Mark every overdue sent quote as expired (audited); scheduled daily. Returns how many.

    Without it a quote only expired when its client opened the link; now the quote list and the
    deal show it as soon as its time is up.
    """
    expired = 0
    for quote in overdue_quotes():
        if expire_quote(quote=quote).status == QuoteStatus.EXPIRED:
            expired += 1
    return expired


def pdf_filename(quote: Quote) -> str:
    """``Quote-Q-2026-00012-v2.pdf``, the first word in the quote's language."""
    with translation.override(quote.language):
        return f"{_('Quote')}-{quote.number}-v{quote.revision}.pdf"


@task()
def send_quote_email(quote_id: int, subject: str, body: str, to: list[str]) -> int:
    """Email the client the quote's message with the quote as a PDF attachment.

    The PDF is typeset here, in the worker, from the quote as sent (a sent quote's lines no longer
    change): bytes do not travel through the JSON of the queue and the page that sent it does not
    wait for WeasyPrint. Running it again sends the email again (its only side effect).
    """
    quote = (
        Quote.objects.select_related("opportunity__account", "owner").filter(pk=quote_id).first()
    )
    if quote is None:
        logger.warning("quote %s is gone; its email was not sent", quote_id)
        return 0
    message = EmailMessage(subject=subject, body=body, to=to)
    message.attach(pdf_filename(quote), render_quote_pdf(quote), "application/pdf")
    return message.send()
