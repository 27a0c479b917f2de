"""The leads API: the permission matrix, entity tags, assignment, activities and conversion."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cartera.core.testing import JSON, PROBLEM, Book, client_for
from cartera.leads.models import Lead, LeadStatus
from cartera.leads.services import create_lead, save_assignment_rule, save_scoring_rule
from cartera.notifications.models import Notification

from .conftest import PERSONAS, lead_read_status, lead_write_status


def url(lead: Lead, suffix: str = "") -> str:
    """The API address of ``lead``."""
    return f"/api/v1/leads/{lead.pk}{suffix}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_read_lead_by_persona(book: Book, lead: Lead, persona: str) -> None:
    response = client_for(book.persona(persona)).get(url(lead))
    assert response.status_code == lead_read_status(persona)
    if response.status_code == 200:
        body = response.json()
        assert body["company"] == "Acme Robotics" and body["owner"]["pk"] == book.owner.pk
        assert response["ETag"] == f'"{lead.pk}-1"'
    else:
        assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("persona", PERSONAS)
def test_patch_lead_by_persona(book: Book, lead: Lead, persona: str) -> None:
    response = client_for(book.persona(persona)).patch(
        url(lead),
        {"notes": "Met at the fair"},
        content_type=JSON,
        headers={"If-Match": f'"{lead.pk}-1"'},
    )
    assert response.status_code == lead_write_status(persona)
    expected = "Met at the fair" if response.status_code == 200 else ""
    assert Lead.objects.get(pk=lead.pk).notes == expected


def test_patch_needs_if_match_and_refuses_stale(book: Book, lead: Lead) -> None:
    client = client_for(book.owner)
    missing = client.patch(url(lead), {"notes": "x"}, content_type=JSON)
    assert missing.status_code == 428
    stale = client.patch(
        url(lead), {"notes": "x"}, content_type=JSON, headers={"If-Match": f'"{lead.pk}-9"'}
    )
    assert stale.status_code == 412 and stale["Content-Type"] == PROBLEM
    assert Lead.objects.get(pk=lead.pk).notes == ""


def test_create_from_the_api_runs_the_rules(book: Book) -> None:
    save_assignment_rule(
        actor=book.admin, data={"name": "Spain", "country": "ES", "user": book.owner.pk}
    )
    response = client_for(book.manager).post(
        "/api/v1/leads",
        {"company": "Api SL", "country": "ES", "email": "a@api.example"},
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == "api" and body["owner"]["pk"] == book.owner.pk
    assert response["Location"] == f"/api/v1/leads/{body['pk']}"
    assert Notification.objects.filter(recipient=book.owner).count() == 1


def test_create_refuses_bad_input_with_field_errors(book: Book) -> None:
    client = client_for(book.owner)
    response = client.post(
        "/api/v1/leads", {"email": "nope", "industry": "mining", "colour": "red"}, content_type=JSON
    )
    assert response.status_code == 422
    assert {"industry", "colour"} <= set(response.json()["errors"])
    response = client.post("/api/v1/leads", {"email": "nope"}, content_type=JSON)
    assert response.status_code == 422
    assert {"company", "email"} <= set(response.json()["errors"])
    assert (
        client_for(book.read_only)
        .post("/api/v1/leads", {"company": "X"}, content_type=JSON)
        .status_code
        == 403
    )
    assert not Lead.objects.exists()


def test_list_filters_and_query_count(book: Book, django_assert_num_queries: object) -> None:
    for index in range(5):
        create_lead(
            actor=book.owner,
            data={
                "company": f"Firm {index}",
                "country": "ES" if index % 2 else "FR",
                "owner": book.owner,
            },
        )
    create_lead(actor=book.outsider, data={"company": "Hidden"})
    client = client_for(book.manager)
    response = client.get("/api/v1/leads?country=ES&sort=name")
    assert [item["company"] for item in response.json()["items"]] == ["Firm 1", "Firm 3"]
    response = client.get("/api/v1/leads?q=firm%204")
    assert [item["company"] for item in response.json()["items"]] == ["Firm 4"]
    with CaptureQueriesContext(connection) as small:
        client.get("/api/v1/leads")
    for index in range(20):
        create_lead(actor=book.owner, data={"company": f"More {index}", "owner": book.owner})
    with CaptureQueriesContext(connection) as large:
        assert len(client.get("/api/v1/leads").json()["items"]) == 25
    # session + user + scope (team members) + the page with owner and team joined
    assert len(large.captured_queries) == len(small.captured_queries) <= 5


def test_assign_and_activities(book: Book, lead: Lead) -> None:
    client = client_for(book.manager)
    response = client.post(
        url(lead, "/assign"),
        {"owner": book.teammate.pk},
        content_type=JSON,
        headers={"If-Match": f'"{lead.pk}-1"'},
    )
    assert response.status_code == 200 and response.json()["owner"]["pk"] == book.teammate.pk
    assert Notification.objects.filter(recipient=book.teammate).exists()
    response = client.post(
        url(lead, "/activities"), {"kind": "meeting", "subject": "Demo"}, content_type=JSON
    )
    assert response.status_code == 201
    activities = client.get(url(lead, "/activities")).json()
    assert [a["subject"] for a in activities] == ["Demo"]
    bad = client.post(url(lead, "/activities"), {"kind": "fax"}, content_type=JSON)
    assert bad.status_code == 422
    outsider = client_for(book.outsider).get(url(lead, "/activities"))
    assert outsider.status_code == 404


def test_score_reasons_in_the_api(book: Book, lead: Lead) -> None:
    save_scoring_rule(
        actor=book.admin, data={"kind": "industry", "value": "software", "points": 20}
    )
    body = client_for(book.owner).get(url(lead)).json()
    assert body["score"] == 20
    assert body["score_reasons"] == [{"points": 20, "text": "Industry is Software and SaaS"}]


def test_preview_and_convert_then_refuse_a_second_time(book: Book, lead: Lead) -> None:
    client = client_for(book.owner)
    preview = client.get(url(lead, "/conversion")).json()
    assert preview == {
        "account": None,
        "account_match": "",
        "contact": None,
        "account_name": "Acme Robotics",
        "opportunity_name": "Acme Robotics",
    }
    response = client.post(
        url(lead, "/convert"),
        {"opportunity": {"amount": "5000.00", "currency": "USD"}},
        content_type=JSON,
        headers={"If-Match": f'"{lead.pk}-1"'},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == LeadStatus.CONVERTED
    assert body["converted_account"]["name"] == "Acme Robotics"
    assert body["converted_contact"]["full_name"] == "Ana García"
    assert body["converted_opportunity"]["pk"]
    again = client.post(
        url(lead, "/convert"), {}, content_type=JSON, headers={"If-Match": response["ETag"]}
    )
    assert again.status_code == 412
    assert "already converted" in again.json()["detail"]


def test_export_csv_only_what_the_user_sees(book: Book, lead: Lead) -> None:
    create_lead(actor=book.outsider, data={"company": "Hidden Co"})
    response = client_for(book.owner).get("/api/v1/leads/export?format=csv")
    text = b"".join(response.streaming_content).decode()
    assert "Acme Robotics" in text and "Hidden Co" not in text
    assert text.splitlines()[0].startswith("\ufeffCompany") or text.splitlines()[0].startswith(
        "Company"
    )
