"""The account autocomplete's ``exclude`` in non-ASCII digits ("²") is ignored, not a 500."""

from __future__ import annotations

import pytest

from cartera.core.testing import Book, client_for

pytestmark = pytest.mark.django_db


def test_exclude_in_non_ascii_digits_is_ignored(book: Book) -> None:
    client = client_for(book.owner)
    client.raise_request_exception = False
    response = client.get("/accounts/autocomplete/", {"q": book.account.name[:4], "exclude": "²"})
    assert response.status_code == 200
    assert book.account.name in response.content.decode()
