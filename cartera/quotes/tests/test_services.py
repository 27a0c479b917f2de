"""Quote services: building, approval paths, sending, the public answer, versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from cartera.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from cartera.core.testing import Book
from cartera.notifications.models import Notification
from cartera.quotes import services
from cartera.quotes.models import ApprovalStatus, Quote, QuoteSettings, QuoteStatus
from cartera.sales.models import StageKind

from .conftest import public_token

pytestmark = pytest.mark.django_db


def _quote(book: Book, deal: Any, **data: Any) -> Quote:
    return services.create_quote(actor=book.owner, opportunity=deal, data=data)


def _line(book: Book, quote: Quote, **data: Any) -> Any:
    quote.refresh_from_db()
    return services.add_line(
        actor=book.owner, quote=quote, data=data, expected_version=quote.version
    )


def test_create_quote_numbers_currency_and_price_list(book: Book, deal: Any, products) -> None:
    quote = _quote(book, deal)
    year = timezone.localdate().year
    assert quote.number == f"Q-{year}-{quote.pk:05d}"
    assert quote.revision == 1
    assert quote.currency == "EUR"
    assert quote.status == QuoteStatus.DRAFT
    # the account is tier A: the tier-A list is the default
    assert quote.price_list is not None and quote.price_list.segment == "a"
    line = _line(book, quote, product=products["licence"].pk, quantity="10")
    assert line.unit_price == Decimal("90.00")
    assert line.tax_rate == Decimal("21.00")
    assert line.description == "Tracking licence"
    setup = _line(book, quote, product=products["setup"].pk, quantity="2")
    assert setup.unit_price == Decimal("800.00")  # not on the tier list: the all-customers price
    quote.refresh_from_db()
    assert quote.subtotal == Decimal("2500.00")
    assert quote.tax_amount == Decimal("525.00")
    assert quote.total == Decimal("3025.00")


def test_free_text_line_and_bad_input(book: Book, deal: Any) -> None:
    quote = _quote(book, deal)
    line = _line(
        book, quote, description="Custom work", quantity="1.5", unit_price="200", tax_rate="10"
    )
    assert line.product is None
    quote.refresh_from_db()
    assert quote.total == Decimal("330.00")
    for bad in (
        {"description": "", "unit_price": "1"},
        {"description": "x", "quantity": "abc"},
        {"description": "x", "quantity": "0", "unit_price": "1"},
        {"description": "x", "unit_price": "-1"},
        {"description": "x", "unit_price": "1", "discount_percent": "101"},
        {"product": 999999},
    ):
        with pytest.raises(InvalidInput):
            _line(book, quote, **bad)


def test_unpriced_product_asks_for_a_price(book: Book, deal: Any) -> None:
    from cartera.catalog.models import Product

    product = Product.objects.create(sku="NP", name="No price")
    quote = _quote(book, deal)
    with pytest.raises(InvalidInput) as error:
        _line(book, quote, product=product.pk)
    assert "unit_price" in error.value.field_errors
    assert _line(book, quote, product=product.pk, unit_price="5").unit_price == Decimal("5")


def test_stale_version_is_conflict(book: Book, deal: Any) -> None:
    quote = _quote(book, deal)
    stale = quote.version
    _line(book, quote, description="A", unit_price="1")
    with pytest.raises(Conflict):
        services.add_line(
            actor=book.owner,
            quote=quote,
            data={"description": "B", "unit_price": "1"},
            expected_version=stale,
        )


@pytest.mark.parametrize(
    ("persona", "outcome"),
    [
        ("owner", None),
        ("teammate", None),
        ("manager", None),
        ("director", None),
        ("admin", None),
        ("read_only", Forbidden),
        ("outsider", NotFound),
    ],
)
def test_who_may_build_quotes(book: Book, deal: Any, persona: str, outcome: Any) -> None:
    actor = book.persona(persona)
    if outcome is None:
        assert services.create_quote(actor=actor, opportunity=deal).pk
    else:
        with pytest.raises(outcome):
            services.create_quote(actor=actor, opportunity=deal)


def test_visibility_follows_the_deal(book: Book, deal: Any) -> None:
    quote = _quote(book, deal)
    for persona in ("owner", "teammate", "manager", "director", "admin", "read_only"):
        assert Quote.objects.visible_to(book.persona(persona)).filter(pk=quote.pk).exists()
    assert not Quote.objects.visible_to(book.outsider).filter(pk=quote.pk).exists()


def _discounted(book: Book, deal: Any, discount: str = "20") -> Quote:
    quote = _quote(book, deal)
    _line(
        book,
        quote,
        description="Licences",
        quantity="10",
        unit_price="100",
        discount_percent=discount,
        tax_rate="21",
    )
    quote.refresh_from_db()
    return quote


def test_discount_within_threshold_sends_without_approval(
    book: Book, deal: Any, immediate_tasks: None, django_capture_on_commit_callbacks
) -> None:
    quote = _discounted(book, deal, "15")  # exactly the threshold: fine
    assert not services.needs_approval(quote)
    with pytest.raises(InvalidInput):
        services.request_approval(actor=book.owner, quote=quote, expected_version=quote.version)
    with django_capture_on_commit_callbacks(execute=True):
        quote, link = services.send_quote(
            actor=book.owner,
            quote=quote,
            recipient_email="buyer@munoz.example",
            recipient_name="José Pérez",
            expected_version=quote.version,
        )
    assert quote.status == QuoteStatus.SENT
    assert link.startswith("http") and "/quotes/public/" in link
    assert len(mail.outbox) == 1
    assert link in mail.outbox[0].body
    assert mail.outbox[0].to == ["buyer@munoz.example"]
    assert quote.token_hash == services.hash_token(public_token(link))
    assert public_token(link) not in quote.token_hash


def test_approval_path_approve(book: Book, deal: Any) -> None:
    quote = _discounted(book, deal, "20")
    assert services.needs_approval(quote)
    with pytest.raises(Conflict):
        services.send_quote(
            actor=book.owner,
            quote=quote,
            recipient_email="a@b.example",
            expected_version=quote.version,
        )
    approval = services.request_approval(
        actor=book.owner, quote=quote, note="Big fleet", expected_version=quote.version
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    assert approval.discount_percent == Decimal("20.00")
    # the requester's team manager is notified
    assert Notification.objects.filter(recipient=book.manager).count() == 1
    # lines are locked while pending
    with pytest.raises(Conflict):
        _line(book, quote, description="More", unit_price="1")
    # the requester, a teammate, readers and outsiders cannot decide
    for persona, error in (
        ("owner", Forbidden),
        ("teammate", Forbidden),
        ("read_only", Forbidden),
        ("outsider", NotFound),
    ):
        with pytest.raises(error):
            services.decide_approval(
                actor=book.persona(persona),
                quote=quote,
                approve=True,
                expected_version=quote.version,
            )
    services.decide_approval(
        actor=book.manager, quote=quote, approve=True, comment="OK", expected_version=quote.version
    )
    quote.refresh_from_db()
    approval.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert (approval.status, approval.approver, approval.comment) == (
        ApprovalStatus.APPROVED,
        book.manager,
        "OK",
    )
    assert approval.decided_at is not None
    assert Notification.objects.filter(recipient=book.owner).count() == 1
    # approved quotes are read-only; they can be sent
    with pytest.raises(Conflict):
        _line(book, quote, description="More", unit_price="1")
    quote, _link = services.send_quote(
        actor=book.owner, quote=quote, recipient_email="a@b.example", expected_version=quote.version
    )
    assert quote.status == QuoteStatus.SENT


def test_approval_path_reject_needs_a_comment_then_edit_again(book: Book, deal: Any) -> None:
    quote = _discounted(book, deal, "30")
    services.request_approval(actor=book.owner, quote=quote, expected_version=quote.version)
    quote.refresh_from_db()
    with pytest.raises(InvalidInput):
        services.decide_approval(
            actor=book.director, quote=quote, approve=False, expected_version=quote.version
        )
    services.decide_approval(
        actor=book.director,
        quote=quote,
        approve=False,
        comment="Too much",
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.REJECTED
    # the rep lowers the discount: back to draft, sendable
    line = quote.lines.get()
    services.update_line(
        actor=book.owner,
        quote=quote,
        line=line,
        changes={"discount_percent": "10"},
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    assert not services.needs_approval(quote)


def test_approvers_are_directors_without_team_manager(book: Book, deal: Any) -> None:
    from cartera.users.services import update_team

    update_team(actor=book.admin, team=book.team, changes={"manager": None})
    quote = _discounted(book, deal, "40")
    book.owner.refresh_from_db()
    services.request_approval(actor=book.owner, quote=quote, expected_version=quote.version)
    assert Notification.objects.filter(recipient=book.director).count() == 1
    assert not Notification.objects.filter(recipient=book.manager).exists()


def test_quote_level_discount_and_threshold_setting(book: Book, deal: Any) -> None:
    quote = _discounted(book, deal, "10")
    services.update_quote(
        actor=book.owner,
        quote=quote,
        changes={"discount_percent": "10"},
        expected_version=quote.version,
    )
    quote.refresh_from_db()
    assert quote.subtotal == Decimal("900.00")
    assert quote.discount_amount == Decimal("90.00")
    assert quote.total == Decimal("980.10")  # 810 + 21 %
    assert services.needs_approval(quote)  # 19 % overall
    with pytest.raises(Forbidden):
        services.update_settings(actor=book.manager, changes={"approval_threshold": "25"})
    services.update_settings(actor=book.director, changes={"approval_threshold": "25"})
    assert not services.needs_approval(quote)
    with pytest.raises(InvalidInput):
        services.update_settings(actor=book.admin, changes={"link_validity_days": 0})


def _sent(book: Book, deal: Any) -> tuple[Quote, str]:
    quote = _discounted(book, deal, "0")
    return services.send_quote(
        actor=book.owner,
        quote=quote,
        recipient_email="buyer@x.example",
        expected_version=quote.version,
    )


def test_accepting_records_and_wins_the_deal(book: Book, deal: Any) -> None:
    quote, link = _sent(book, deal)
    token = public_token(link)
    response = services.respond_to_quote(
        token=token,
        decision="accepted",
        name="José Pérez",
        ip_address="203.0.113.7",
        user_agent="Firefox",
    )
    quote.refresh_from_db()
    deal.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert (response.name, response.ip_address, response.user_agent) == (
        "José Pérez",
        "203.0.113.7",
        "Firefox",
    )
    assert response.responded_at is not None
    assert deal.status == StageKind.WON
    assert deal.stage.kind == StageKind.WON
    # the link now shows the answer and cannot be used again
    assert services.quote_for_token(token).pk == quote.pk
    with pytest.raises(Conflict):
        services.respond_to_quote(token=token, decision="declined", name="Someone")


def test_accepting_without_won_setting_leaves_the_deal(book: Book, deal: Any) -> None:
    services.update_settings(actor=book.admin, changes={"won_on_accept": False})
    _quote, link = _sent(book, deal)
    services.respond_to_quote(token=public_token(link), decision="accepted", name="J")
    deal.refresh_from_db()
    assert deal.status == StageKind.OPEN


def test_declining_and_bad_answers(book: Book, deal: Any) -> None:
    quote, link = _sent(book, deal)
    token = public_token(link)
    with pytest.raises(InvalidInput):
        services.respond_to_quote(token=token, decision="accepted", name="  ")
    with pytest.raises(InvalidInput):
        services.respond_to_quote(token=token, decision="maybe", name="J")
    services.respond_to_quote(token=token, decision="declined", name="J", comment="Too pricey")
    quote.refresh_from_db()
    deal.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED
    assert deal.status == StageKind.OPEN


def test_tampered_expired_and_superseded_links(book: Book, deal: Any) -> None:
    quote, link = _sent(book, deal)
    token = public_token(link)
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "", "x" * 500):
        with pytest.raises(services.LinkError) as error:
            services.quote_for_token(bad)
        assert error.value.reason == "invalid"
    Quote.objects.filter(pk=quote.pk).update(link_expires_at=timezone.now() - dt.timedelta(1))
    with pytest.raises(services.LinkError) as error:
        services.quote_for_token(token)
    assert error.value.reason == "expired"
    with pytest.raises(services.LinkError):
        services.respond_to_quote(token=token, decision="accepted", name="J")
    services.expire_quote(quote=Quote.objects.get(pk=quote.pk))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED
    new = services.revise_quote(actor=book.owner, quote=quote, expected_version=quote.version)
    with pytest.raises(services.LinkError) as error:
        services.quote_for_token(token)
    assert error.value.reason == "superseded"
    assert new.revision == 2


def test_link_validity_from_settings(book: Book, deal: Any) -> None:
    QuoteSettings.objects.update_or_create(pk=1, defaults={"link_validity_days": 3})
    quote, _link = _sent(book, deal)
    days = (quote.link_expires_at - timezone.now()).total_seconds() / 86400
    assert 2.9 < days <= 3


def test_revise_copies_lines_and_supersedes(book: Book, deal: Any) -> None:
    quote, _link = _sent(book, deal)
    _line_count = quote.lines.count()
    new = services.revise_quote(actor=book.owner, quote=quote, expected_version=quote.version)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SUPERSEDED
    assert (new.number, new.revision, new.status) == (quote.number, 2, QuoteStatus.DRAFT)
    assert new.lines.count() == _line_count
    assert new.total == quote.total
    with pytest.raises(Conflict):
        services.revise_quote(actor=book.owner, quote=quote, expected_version=quote.version)
    with pytest.raises(Conflict):
        _line(book, quote, description="x", unit_price="1")
    # drafts are edited, not revised
    with pytest.raises(Conflict):
        services.revise_quote(actor=book.owner, quote=new, expected_version=new.version)
    with pytest.raises(Forbidden):
        services.revise_quote(actor=book.read_only, quote=quote, expected_version=None)


def test_audit_trail_records_the_whole_story(book: Book, deal: Any) -> None:
    from cartera.quotes.selectors import quote_history

    quote = _discounted(book, deal, "20")
    services.request_approval(actor=book.owner, quote=quote, expected_version=quote.version)
    quote.refresh_from_db()
    services.decide_approval(
        actor=book.manager, quote=quote, approve=True, expected_version=quote.version
    )
    entries = list(quote_history(quote))
    models = {entry.content_type.model for entry in entries}
    assert {"quote", "quoteline", "quoteapproval"} <= models
    assert any(entry.actor == book.manager for entry in entries)
