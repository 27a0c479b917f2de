"""The board's own query parameters (``stages``, ``more``, ``shown``, ``total``) are numbers
only when written in ASCII digits: ``str.isdigit()`` also accepts "²", which ``int()``
refuses, so such a value must be ignored, never a 500."""

from __future__ import annotations

import pytest

from cartera.core.testing import Book, client_for
from cartera.sales.models import Pipeline

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "stages=%C2%B2",  # ²
        "more=%C2%B2&after=-.1",
        "more={first}&after=-.1&shown=%C2%B2",
        "more={first}&after=-.1&total=%C2%B2",
    ],
)
def test_non_ascii_digits_in_board_parameters_are_not_a_500(
    book: Book, pipeline: Pipeline, query: str
) -> None:
    first = pipeline.stages.order_by("position").first()
    assert first is not None
    client = client_for(book.owner)
    client.raise_request_exception = False
    response = client.get(
        "/deals/board/?" + query.format(first=first.pk), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
