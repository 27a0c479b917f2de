"""Quote background work: the daily expiry of overdue quotes and the email with the PDF."""

from __future__ import annotations

import datetime as dt
import io
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pypdf import PdfReader

from cartera.core.testing import Book
from cartera.quotes import services
from cartera.quotes.models import Quote, QuoteStatus
from cartera.quotes.tasks import expire_overdue_quotes, pdf_filename


def _quote(book: Book, deal: Any, language: str = "en") -> Quote:
    quote = services.create_quote(
        actor=book.owner, opportunity=deal, data={"language": language, "title": "Fleet"}
    )
    services.add_line(
        actor=book.owner,
        quote=quote,
        data={"description": "Licences", "quantity": "10", "unit_price": "100", "tax_rate": "21"},
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    return quote


def _send(book: Book, quote: Quote) -> Quote:
    quote, _link = services.send_quote(
        actor=book.owner,
        quote=quote,
        recipient_email="buyer@munoz.example",
        recipient_name="José Pérez",
        expected_version=quote.version,
    )
    return quote


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- expiry --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_expiry_task_expires_only_overdue_sent_quotes_and_audits_it(book: Book, deal: Any) -> None:
    link_ran_out, validity_passed, current, answered = (
        _send(book, _quote(book, deal)) for _ in range(4)
    )
    draft = _quote(book, deal)
    yesterday = timezone.now() - dt.timedelta(days=1)
    Quote.objects.filter(pk__in=[link_ran_out.pk, answered.pk]).update(link_expires_at=yesterday)
    Quote.objects.filter(pk__in=[validity_passed.pk, draft.pk]).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    Quote.objects.filter(pk=answered.pk).update(status=QuoteStatus.ACCEPTED)

    assert expire_overdue_quotes.call() == 2

    statuses = dict(Quote.objects.values_list("pk", "status"))
    assert statuses == {
        link_ran_out.pk: QuoteStatus.EXPIRED,
        validity_passed.pk: QuoteStatus.EXPIRED,
        current.pk: QuoteStatus.SENT,
        answered.pk: QuoteStatus.ACCEPTED,
        draft.pk: QuoteStatus.DRAFT,
    }
    for quote in (link_ran_out, validity_passed):
        entry = LogEntry.objects.get_for_object(quote).order_by("-pk").first()
        assert entry is not None and entry.actor is None
        assert entry.changes_dict["status"] == ["sent", "expired"]
    # running it again changes nothing (it is scheduled daily and may run twice)
    assert expire_overdue_quotes.call() == 0


@pytest.mark.django_db
def test_expiry_never_overwrites_an_answer_given_meanwhile(book: Book, deal: Any) -> None:
    quote = _send(book, _quote(book, deal))
    Quote.objects.filter(pk=quote.pk).update(
        link_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    stale = Quote.objects.get(pk=quote.pk)  # read by the task before the client answered
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.DECLINED)

    assert services.expire_quote(quote=stale).status == QuoteStatus.DECLINED
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DECLINED


# --- the email carries the PDF -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "filename_word", "words"),
    [("en", "Quote", ["Quote", "€1,210.00"]), ("es", "Presupuesto", ["Presupuesto", "1.210,00"])],
)
def test_sent_email_carries_the_pdf_in_the_quote_language(
    book: Book,
    deal: Any,
    immediate_tasks: None,
    django_capture_on_commit_callbacks: Any,
    language: str,
    filename_word: str,
    words: list[str],
) -> None:
    quote = _quote(book, deal, language)
    with django_capture_on_commit_callbacks(execute=True):
        quote = _send(book, quote)

    (message,) = mail.outbox
    assert message.to == ["buyer@munoz.example"]
    (attachment,) = message.attachments
    filename, content, mimetype = attachment
    assert filename == f"{filename_word}-{quote.number}-v1.pdf" == pdf_filename(quote)
    assert mimetype == "application/pdf"
    text = pdf_text(content)
    for word in [quote.number, *words]:
        assert word in text, (word, text)


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """The worker installs its own Ctrl-C handlers; put the test runner's back afterwards."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in handlers.items():
        signal.signal(number, handler)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("restore_signals")
def test_the_pdf_survives_the_database_queue(book: Book, deal: Any) -> None:
    quote = _quote(book, deal)
    quote = _send(book, quote)  # committed: the task is queued as a row of JSON
    queued = DBTaskResult.objects.get(task_path="cartera.quotes.tasks.send_quote_email")
    assert queued.args_kwargs["kwargs"]["quote_id"] == quote.pk
    assert not [m for m in mail.outbox if m.to == ["buyer@munoz.example"]]

    call_command("worker", batch=True, verbosity=0)

    (message,) = [m for m in mail.outbox if m.to == ["buyer@munoz.example"]]
    (attachment,) = message.attachments
    assert attachment[0] == f"Quote-{quote.number}-v1.pdf"
    text = pdf_text(attachment[1])
    assert quote.number in text and "€1,210.00" in text
