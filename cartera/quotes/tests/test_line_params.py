"""A quote line's ``product`` written in non-ASCII digits ("²": ``str.isdigit()`` says yes,
``int()`` says no) is an unknown product, shown on the builder, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from cartera.core.testing import Book, client_for
from cartera.quotes import services

pytestmark = pytest.mark.django_db


def test_a_product_id_in_non_ascii_digits_is_refused_not_a_500(book: Book, deal: Any) -> None:
    quote = services.create_quote(actor=book.owner, opportunity=deal, data={"language": "en"})
    client = client_for(book.owner)
    client.raise_request_exception = False
    response = client.post(
        f"/quotes/{quote.pk}/lines/",
        {"product": "²", "quantity": "1", "version": quote.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200  # the builder answers 200 and shows the error
    assert not quote.lines.exists()
