"""The lead settings API: web forms, assignment and scoring rules (access, checks, effect)."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cartera.core.testing import JSON, PROBLEM, Book, client_for
from cartera.leads.models import AssignmentRule, Lead, LeadForm, ScoringRule
from cartera.leads.services import save_assignment_rule, save_scoring_rule, save_web_form

from .conftest import PERSONAS

pytestmark = pytest.mark.django_db

#: Personas who configure lead settings; everyone else gets 403.
CONFIGURERS = {"admin", "director", "manager"}

FORMS = "/api/v1/leads/forms"
ASSIGNMENT = "/api/v1/leads/assignment-rules"
SCORING = "/api/v1/leads/scoring-rules"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    document: dict[str, Any] = response.json()
    return document


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_configurers_read_and_create_settings(book: Book, persona: str) -> None:
    client = client_for(book.persona(persona))
    allowed = persona in CONFIGURERS
    bodies = {
        FORMS: {"name": f"Contact {persona}"},
        ASSIGNMENT: {"name": "Spain", "country": "ES", "user": book.owner.pk},
        SCORING: {"kind": "industry", "value": "software", "points": 10},
    }
    for address, body in bodies.items():
        listed = client.get(address)
        created = client.post(address, body, content_type=JSON)
        if allowed:
            assert listed.status_code == 200, (address, listed.content)
            assert created.status_code == 201, (address, created.content)
        else:
            _problem(listed, 403)
            _problem(created, 403)
    counts = (LeadForm.objects.count(), AssignmentRule.objects.count(), ScoringRule.objects.count())
    assert counts == ((1, 1, 1) if allowed else (0, 0, 0))


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_configurers_change_and_delete_settings(book: Book, persona: str) -> None:
    web_form = save_web_form(actor=book.admin, data={"name": "Website"})
    client = client_for(book.persona(persona))
    current = client_for(book.admin).get(f"{FORMS}/{web_form.pk}")["ETag"]
    changed = client.patch(
        f"{FORMS}/{web_form.pk}", {"title": "Hi"}, content_type=JSON, headers={"If-Match": current}
    )
    if persona in CONFIGURERS:
        assert changed.status_code == 200, changed.content
        current = changed["ETag"]
    else:
        _problem(changed, 403)
    deleted = client.delete(f"{FORMS}/{web_form.pk}", headers={"If-Match": current})
    if persona in CONFIGURERS:
        assert deleted.status_code == 204
        assert not LeadForm.objects.exists()
    else:
        _problem(deleted, 403)
        assert LeadForm.objects.get().title == ""


# --- web forms --------------------------------------------------------------------------------


def test_web_form_round_trip_with_etags(book: Book) -> None:
    client = client_for(book.manager)
    created = client.post(
        FORMS,
        {"name": "Trade fair 2026", "team": book.team.pk, "language": "es"},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["slug"] == "trade-fair-2026"
    assert body["public_url"].endswith("/trade-fair-2026/")
    assert body["team"] == {"pk": book.team.pk, "name": "Iberia"}
    assert created["Location"] == f"{FORMS}/{body['pk']}"
    assert created["ETag"] == body["etag"]
    address = f"{FORMS}/{body['pk']}"

    read = client.get(address)
    assert read.status_code == 200 and read["ETag"] == body["etag"]
    assert client.get(address, headers={"If-None-Match": body["etag"]}).status_code == 304

    missing = client.patch(address, {"title": "Hola"}, content_type=JSON)
    assert _problem(missing, 428)["status"] == 428
    changed = client.patch(
        address,
        {"title": "Hola", "slug": ""},
        content_type=JSON,
        headers={"If-Match": body["etag"]},
    )
    assert changed.status_code == 200, changed.content
    # an empty address keeps the one the public already uses
    assert changed.json()["title"] == "Hola" and changed.json()["slug"] == "trade-fair-2026"
    assert changed["ETag"] != body["etag"]
    stale = client.patch(
        address, {"title": "Lost"}, content_type=JSON, headers={"If-Match": body["etag"]}
    )
    _problem(stale, 412)
    stale_delete = client.delete(address, headers={"If-Match": body["etag"]})
    _problem(stale_delete, 412)
    assert LeadForm.objects.get().title == "Hola"
    assert client.delete(address, headers={"If-Match": changed["ETag"]}).status_code == 204
    assert not LeadForm.objects.exists()
    actions = list(
        LogEntry.objects.filter(content_type__model="leadform")
        .order_by("pk")
        .values_list("action", "actor_id")
    )
    assert actions == [
        (LogEntry.Action.CREATE, book.manager.pk),
        (LogEntry.Action.UPDATE, book.manager.pk),
        (LogEntry.Action.DELETE, book.manager.pk),
    ]


def test_web_form_validation(book: Book) -> None:
    client = client_for(book.admin)
    save_web_form(actor=book.admin, data={"name": "Website", "slug": "website"})
    duplicate = client.post(FORMS, {"name": "Other", "slug": "website"}, content_type=JSON)
    assert "slug" in _problem(duplicate, 422)["errors"]
    bad = client.post(
        FORMS,
        {"name": "Other", "slug": "not a slug!", "language": "fr", "team": 999_999},
        content_type=JSON,
    )
    assert "team" in _problem(bad, 422)["errors"]
    bad = client.post(
        FORMS, {"name": "Other", "slug": "not a slug!", "language": "fr"}, content_type=JSON
    )
    assert {"slug", "language"} <= set(_problem(bad, 422)["errors"])
    nameless = client.post(FORMS, {"title": "No name"}, content_type=JSON)
    assert "name" in _problem(nameless, 422)["errors"]
    unknown = client.post(FORMS, {"name": "X", "colour": "red"}, content_type=JSON)
    assert "colour" in _problem(unknown, 422)["errors"]
    assert LeadForm.objects.count() == 1


def test_settings_lists_do_not_grow_queries_with_rows(book: Book) -> None:
    client = client_for(book.admin)

    def add(index: int) -> None:
        save_web_form(actor=book.admin, data={"name": f"Form {index}", "team": book.team.pk})
        save_assignment_rule(
            actor=book.admin,
            data={"name": f"R{index}", "action": "round_robin", "team": book.team.pk},
        )
        save_assignment_rule(actor=book.admin, data={"name": f"U{index}", "user": book.owner.pk})
        save_scoring_rule(
            actor=book.admin, data={"kind": "activity_count", "threshold": index + 1, "points": 1}
        )

    add(0)
    small = {}
    for address in (FORMS, ASSIGNMENT, SCORING):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(address).status_code == 200
        small[address] = len(queries.captured_queries)
    for index in range(1, 6):
        add(index)
    for address in (FORMS, ASSIGNMENT, SCORING):
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(address).json()) > 5
        # session + user + the rows (teams and people joined)
        assert len(queries.captured_queries) == small[address] <= 3, address


# --- assignment rules ----------------------------------------------------------------------------


def test_assignment_rule_made_by_api_routes_new_leads(book: Book) -> None:
    client = client_for(book.manager)
    created = client.post(
        ASSIGNMENT, {"name": "Spain", "country": "ES", "user": book.owner.pk}, content_type=JSON
    )
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["user"]["pk"] == book.owner.pk and rule["team"] is None
    assert rule["action"] == "user" and rule["position"] == 10

    lead = client.post(
        "/api/v1/leads", {"company": "Madrid SL", "country": "ES"}, content_type=JSON
    ).json()
    assert lead["owner"]["pk"] == book.owner.pk

    # moved to round robin in the team: the lead goes to the first member in turn
    changed = client.patch(
        f"{ASSIGNMENT}/{rule['pk']}",
        {"action": "round_robin", "team": book.team.pk},
        content_type=JSON,
        headers={"If-Match": created["ETag"]},
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["user"] is None and changed.json()["team"]["pk"] == book.team.pk
    second = client.post(
        "/api/v1/leads", {"company": "Sevilla SL", "country": "ES"}, content_type=JSON
    ).json()
    members = {book.manager.pk, book.owner.pk, book.teammate.pk}
    assert second["owner"]["pk"] in members

    deleted = client.delete(f"{ASSIGNMENT}/{rule['pk']}", headers={"If-Match": changed["ETag"]})
    assert deleted.status_code == 204
    third = client.post(
        "/api/v1/leads", {"company": "Bilbao SL", "country": "ES"}, content_type=JSON
    ).json()
    assert third["owner"] is None  # a manager's unmatched lead stays unassigned


def test_assignment_rule_validation(book: Book) -> None:
    client = client_for(book.manager)
    no_person = client.post(ASSIGNMENT, {"name": "Nobody", "action": "user"}, content_type=JSON)
    assert "user" in _problem(no_person, 422)["errors"]
    no_team = client.post(ASSIGNMENT, {"name": "Turns", "action": "round_robin"}, content_type=JSON)
    assert "team" in _problem(no_team, 422)["errors"]
    # the manager may not route leads to someone outside their team
    outsider = client.post(ASSIGNMENT, {"name": "Far", "user": book.outsider.pk}, content_type=JSON)
    assert "user" in _problem(outsider, 422)["errors"]
    bad = client.post(
        ASSIGNMENT,
        {"name": "Bad", "user": book.owner.pk, "country": "XX", "industry": "mining"},
        content_type=JSON,
    )
    assert "industry" in _problem(bad, 422)["errors"]
    bad = client.post(
        ASSIGNMENT, {"name": "Bad", "user": book.owner.pk, "country": "XX"}, content_type=JSON
    )
    assert "country" in _problem(bad, 422)["errors"]
    negative = client.post(
        ASSIGNMENT, {"name": "Bad", "user": book.owner.pk, "position": -1}, content_type=JSON
    )
    assert "position" in _problem(negative, 422)["errors"]
    assert not AssignmentRule.objects.exists()


# --- scoring rules -------------------------------------------------------------------------------


def test_scoring_rule_made_by_api_rescores_leads(book: Book, lead: Lead) -> None:
    client = client_for(book.director)
    created = client.post(
        SCORING, {"kind": "industry", "value": "software", "points": 20}, content_type=JSON
    )
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["reason"] == "Industry is Software and SaaS"
    lead.refresh_from_db()
    assert lead.score == 20

    changed = client.patch(
        f"{SCORING}/{rule['pk']}",
        {"points": -5},
        content_type=JSON,
        headers={"If-Match": created["ETag"]},
    )
    assert changed.status_code == 200, changed.content
    lead.refresh_from_db()
    assert lead.score == -5

    deleted = client.delete(f"{SCORING}/{rule['pk']}", headers={"If-Match": changed["ETag"]})
    assert deleted.status_code == 204
    lead.refresh_from_db()
    assert lead.score == 0


def test_scoring_rule_validation(book: Book, lead: Lead) -> None:
    client = client_for(book.admin)
    wrong_value = client.post(
        SCORING, {"kind": "industry", "value": "mining", "points": 5}, content_type=JSON
    )
    assert "value" in _problem(wrong_value, 422)["errors"]
    wrong_country = client.post(
        SCORING, {"kind": "country", "value": "XX", "points": 5}, content_type=JSON
    )
    assert "value" in _problem(wrong_country, 422)["errors"]
    zero = client.post(
        SCORING, {"kind": "activity_count", "threshold": 0, "points": 5}, content_type=JSON
    )
    assert "threshold" in _problem(zero, 422)["errors"]
    no_points = client.post(SCORING, {"kind": "size", "value": "1-10"}, content_type=JSON)
    assert "points" in _problem(no_points, 422)["errors"]
    kind = client.post(SCORING, {"kind": "mood", "points": 5}, content_type=JSON)
    assert "kind" in _problem(kind, 422)["errors"]
    assert not ScoringRule.objects.exists()
    lead.refresh_from_db()
    assert lead.score == 0
    # a country code is compared in capitals, whatever was typed
    lower = client.post(SCORING, {"kind": "country", "value": "es", "points": 5}, content_type=JSON)
    assert lower.status_code == 201 and lower.json()["value"] == "ES"
    lead.refresh_from_db()
    assert lead.score == 5


def test_two_edits_from_one_read_the_second_is_refused(book: Book) -> None:
    rule = save_scoring_rule(
        actor=book.admin, data={"kind": "recent_activity", "threshold": 7, "points": 10}
    )
    first, second = client_for(book.admin), client_for(book.director)
    etag = first.get(f"{SCORING}/{rule.pk}")["ETag"]
    assert second.get(f"{SCORING}/{rule.pk}")["ETag"] == etag
    won = first.patch(
        f"{SCORING}/{rule.pk}", {"points": 15}, content_type=JSON, headers={"If-Match": etag}
    )
    assert won.status_code == 200
    lost = second.patch(
        f"{SCORING}/{rule.pk}", {"points": 1}, content_type=JSON, headers={"If-Match": etag}
    )
    _problem(lost, 412)
    rule.refresh_from_db()
    assert rule.points == 15
    # an ETag of another row, or a number too large for a time, is a mismatch too
    for tag in (f'"{rule.pk + 1}-1"', f'"{rule.pk}-{10**30}"'):
        response = first.delete(f"{SCORING}/{rule.pk}", headers={"If-Match": tag})
        _problem(response, 412)
    assert ScoringRule.objects.filter(pk=rule.pk).exists()


def test_missing_settings_rows_are_404(book: Book) -> None:
    client = client_for(book.admin)
    for address in (FORMS, ASSIGNMENT, SCORING):
        _problem(client.get(f"{address}/999999"), 404)
        _problem(client.delete(f"{address}/999999", headers={"If-Match": "*"}), 404)
