"""A lead's score is the sum of its rules' points; each rule may give up to the largest 32-bit
integer, so two of them could add up past what the score column holds (PostgreSQL: "integer
out of range", a 500 on every write that rescores). The score stops at the column's bounds."""

from __future__ import annotations

import pytest

from cartera.core.testing import JSON, Book, client_for
from cartera.leads.models import Lead
from cartera.leads.services import log_lead_activity

pytestmark = pytest.mark.django_db

SCORING = "/api/v1/leads/scoring-rules"
LARGEST = 2_147_483_647


@pytest.mark.parametrize("sign", [1, -1])
def test_rules_adding_up_past_the_column_saturate_the_score(
    book: Book, lead: Lead, sign: int
) -> None:
    client = client_for(book.director)
    client.raise_request_exception = False
    for kind, value in [("industry", "software"), ("size", "51-200"), ("country", "ES")]:
        response = client.post(
            SCORING,
            {"kind": kind, "value": value, "points": sign * (LARGEST - 1)},
            content_type=JSON,
        )
        assert response.status_code == 201, response.content
    lead.refresh_from_db()
    assert lead.score == (LARGEST if sign > 0 else -LARGEST - 1)


@pytest.mark.parametrize("days", [999_999_999, LARGEST])
def test_activity_in_the_last_many_days_counts_every_activity(
    book: Book, lead: Lead, days: int
) -> None:
    """A rule "activity in the last D days" takes any D the column holds; D days before now may be
    before the first day a date can hold (Python: ``OverflowError``): every activity counts."""
    client = client_for(book.director)
    client.raise_request_exception = False
    response = client.post(
        SCORING,
        {"kind": "recent_activity", "threshold": days, "points": 7},
        content_type=JSON,
    )
    assert response.status_code == 201, response.content  # no activity yet: nothing to date
    # The next activity rescores the lead (and so does the daily rescore).
    log_lead_activity(actor=book.owner, lead=lead, data={"kind": "call", "subject": "Hello"})
    lead.refresh_from_db()
    assert lead.score == 7
    again = client.post(
        SCORING,
        {"kind": "recent_activity", "threshold": days, "points": 1},
        content_type=JSON,
    )
    assert again.status_code == 201, again.content  # with an activity to date
    lead.refresh_from_db()
    assert lead.score == 8
