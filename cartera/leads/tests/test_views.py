"""Lead pages: list, detail, forms, conversion, the public web form and the settings pages."""

from __future__ import annotations

import pytest
from django.test import Client

from cartera.accounts.models import Account
from cartera.core.testing import Book, client_for
from cartera.leads.models import AssignmentRule, Lead, LeadForm, ScoringRule
from cartera.leads.services import (
    create_lead,
    log_lead_activity,
    save_assignment_rule,
    save_scoring_rule,
    save_web_form,
)
from cartera.leads.views import WEB_FORM_RATE
from cartera.notifications.models import Notification

from .conftest import PERSONAS, lead_read_status, lead_write_status


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_shows_only_visible_leads(book: Book, lead: Lead, persona: str) -> None:
    response = client_for(book.persona(persona)).get("/leads/")
    assert response.status_code == 200
    assert ("Acme Robotics" in response.content.decode()) is (lead_read_status(persona) == 200)


def test_list_filters_and_htmx_partial(book: Book, lead: Lead) -> None:
    create_lead(actor=book.owner, data={"company": "Beta Foods", "industry": "food"})
    client = client_for(book.owner)
    page = client.get("/leads/?industry=food").content.decode()
    assert "Beta Foods" in page and "Acme Robotics" not in page
    partial = client.get("/leads/?q=acme", headers={"HX-Request": "true"}).content.decode()
    assert "Acme Robotics" in partial and "<html" not in partial
    bad = client.get("/leads/?status=bogus")
    assert bad.status_code == 422 and "not valid" in bad.content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_detail_by_persona(book: Book, lead: Lead, persona: str) -> None:
    response = client_for(book.persona(persona)).get(f"/leads/{lead.pk}/")
    assert response.status_code == lead_read_status(persona)


@pytest.mark.parametrize("persona", PERSONAS)
def test_edit_page_by_persona(book: Book, lead: Lead, persona: str) -> None:
    response = client_for(book.persona(persona)).get(f"/leads/{lead.pk}/edit/")
    assert response.status_code == lead_write_status(persona)


def test_detail_shows_score_reasons_and_activities(book: Book, lead: Lead) -> None:
    save_scoring_rule(
        actor=book.admin, data={"kind": "industry", "value": "software", "points": 20}
    )
    save_scoring_rule(
        actor=book.admin, data={"kind": "recent_activity", "threshold": 7, "points": 10}
    )
    log_lead_activity(actor=book.owner, lead=lead, data={"kind": "call", "subject": "Intro call"})
    page = client_for(book.owner).get(f"/leads/{lead.pk}/").content.decode()
    assert "+20 Industry is Software and SaaS" in page
    assert "+10 Activity in the last 7 days" in page
    assert "Intro call" in page


def test_create_edit_and_stale_edit(book: Book) -> None:
    client = client_for(book.owner)
    response = client.post(
        "/leads/new/",
        {"company": "Gamma", "first_name": "Gil", "source": "event", "status": "new"},
    )
    lead = Lead.objects.get(company="Gamma")
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert lead.owner == book.owner
    data = {
        "company": "Gamma 2",
        "source": "event",
        "status": "working",
        "version": 1,
        "owner": book.owner.pk,
    }
    assert client.post(f"/leads/{lead.pk}/edit/", data).status_code == 302
    stale = client.post(f"/leads/{lead.pk}/edit/", data | {"company": "Gamma 3"})
    assert stale.status_code == 412
    assert "Someone else changed this lead" in stale.content.decode()
    assert Lead.objects.get(pk=lead.pk).company == "Gamma 2"
    invalid = client.post("/leads/new/", {"email": "bad", "source": "event", "status": "new"})
    assert invalid.status_code == 422
    assert client_for(book.read_only).get("/leads/new/").status_code == 403


def test_assign_page_action_notifies(book: Book, lead: Lead) -> None:
    client = client_for(book.manager)
    response = client.post(f"/leads/{lead.pk}/assign/", {"owner": book.teammate.pk, "version": 1})
    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).owner == book.teammate
    assert Notification.objects.filter(recipient=book.teammate).exists()
    history = client.get(f"/leads/{lead.pk}/").content.decode()
    history = history[history.index('id="history"') :]
    assert "Manu Manager" in history and "Tomás Teammate" in history and "Olga Owner" in history
    assert (
        client_for(book.outsider)
        .post(f"/leads/{lead.pk}/assign/", {"owner": book.outsider.pk, "version": 2})
        .status_code
        == 404
    )


def test_convert_page_previews_reuse_and_converts(book: Book, lead: Lead) -> None:
    client = client_for(book.owner)
    existing = book.account
    Lead.objects.filter(pk=lead.pk).update(company="Muñoz Logística")
    page = client.get(f"/leads/{lead.pk}/convert/").content.decode()
    assert "Use the existing account" in page and "Muñoz Logística" in page and "Same name" in page
    response = client.post(
        f"/leads/{lead.pk}/convert/",
        {
            "account_choice": "existing",
            "contact_choice": "new",
            "create_opportunity": "on",
            "opportunity_name": "Muñoz — robots",
            "amount": "999.99",
            "currency": "eur",
            "version": 1,
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.converted_account == existing and Account.objects.count() == 2
    assert lead.converted_opportunity is not None
    assert lead.converted_opportunity.name == "Muñoz — robots"
    assert response["Location"].endswith(f"/{lead.converted_opportunity.pk}/")
    detail = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Converted on" in detail and f"/accounts/{existing.pk}/" in detail
    again = client.get(f"/leads/{lead.pk}/convert/")
    assert again.status_code == 302


def test_convert_page_stale_version_is_refused(book: Book, lead: Lead) -> None:
    response = client_for(book.owner).post(
        f"/leads/{lead.pk}/convert/",
        {"account_choice": "new", "contact_choice": "new", "version": 7},
    )
    assert response.status_code == 412
    assert Lead.objects.get(pk=lead.pk).converted_at is None


# --- public web form ---------------------------------------------------------------------------


@pytest.fixture
def web_form(book: Book) -> LeadForm:
    return save_web_form(
        actor=book.manager,
        data={
            "name": "Contact",
            "slug": "contact",
            "team": book.team.pk,
            "thank_you_text": "Gracias majo",
        },
    )


def test_public_form_creates_and_routes_a_lead_without_login(
    book: Book, web_form: LeadForm
) -> None:
    save_assignment_rule(
        actor=book.admin, data={"name": "ES", "country": "ES", "user": book.owner.pk}
    )
    client = Client(enforce_csrf_checks=True)
    assert client.get("/leads/form/contact/").status_code == 200
    response = client.post(
        "/leads/form/contact/",
        {"company": "Web SL", "email": "w@web.example", "country": "ES", "first_name": "Wen"},
    )
    assert response.status_code == 200 and "Gracias majo" in response.content.decode()
    lead = Lead.objects.get()
    assert lead.owner == book.owner and lead.source == "web_form" and lead.team == book.team
    assert Notification.objects.filter(recipient=book.owner, url=f"/leads/{lead.pk}/").exists()


def test_honeypot_is_accepted_silently_and_discarded(web_form: LeadForm) -> None:
    response = Client().post(
        "/leads/form/contact/",
        {"company": "Bot", "email": "bot@spam.example", "fax_number": "123"},
    )
    assert response.status_code == 200 and "Gracias majo" in response.content.decode()
    assert not Lead.objects.exists()


def test_rate_limit_per_address_gives_a_clear_429(web_form: LeadForm) -> None:
    limit = int(WEB_FORM_RATE.split("/")[0])
    client = Client()
    for index in range(limit):
        client.post(
            "/leads/form/contact/", {"company": f"C{index}", "email": f"c{index}@x.example"}
        )
    response = client.post("/leads/form/contact/", {"company": "One more", "email": "m@x.example"})
    assert response.status_code == 429
    assert "Too many submissions" in response.content.decode()
    assert Lead.objects.count() == limit
    other = Client(REMOTE_ADDR="10.0.0.9").post(
        "/leads/form/contact/", {"company": "Other", "email": "o@x.example"}
    )
    assert other.status_code == 200


def test_errors_are_shown_in_the_form_language(book: Book) -> None:
    save_web_form(actor=book.admin, data={"name": "Contacto", "slug": "contacto", "language": "es"})
    response = Client().post("/leads/form/contacto/", {"company": "", "email": "nope"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Este campo es obligatorio." in page
    assert 'lang="es"' in page
    assert not Lead.objects.exists()


def test_embed_variant_may_be_framed_and_inactive_forms_are_gone(
    book: Book, web_form: LeadForm
) -> None:
    embed = Client().get("/leads/form/contact/embed/")
    assert embed.status_code == 200 and "X-Frame-Options" not in embed
    assert Client().get("/leads/form/contact/").headers.get("X-Frame-Options") == "DENY"
    assert Client().get("/leads/form/missing/").status_code == 404
    LeadForm.objects.filter(pk=web_form.pk).update(is_active=False)
    assert Client().get("/leads/form/contact/").status_code == 404


# --- settings pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("admin", 200), ("director", 200), ("manager", 200), ("owner", 403), ("read_only", 403)],
)
def test_settings_pages_for_configuring_roles_only(book: Book, persona: str, status: int) -> None:
    client = client_for(book.persona(persona))
    for address in (
        "/leads/settings/forms/",
        "/leads/settings/assignment/",
        "/leads/settings/scoring/",
    ):
        assert client.get(address).status_code == status


def test_web_form_settings_show_the_embed_snippet(book: Book) -> None:
    client = client_for(book.admin)
    response = client.post(
        "/leads/settings/forms/new/",
        {"name": "Demo request", "language": "en", "is_active": "on", "team": book.team.pk},
    )
    form = LeadForm.objects.get()
    assert response.status_code == 302 and form.slug == "demo-request"
    page = client.get(f"/leads/settings/forms/{form.pk}/").content.decode()
    assert "&lt;iframe src=&quot;" in page or '&lt;iframe src="' in page
    assert "/leads/form/demo-request/embed/" in page


def test_rules_are_configured_in_the_ui(book: Book) -> None:
    client = client_for(book.manager)
    response = client.post(
        "/leads/settings/assignment/",
        {
            "name": "Software",
            "industry": "software",
            "action": "user",
            "user": book.owner.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = AssignmentRule.objects.get()
    assert rule.user == book.owner and rule.position == 10
    invalid = client.post(
        "/leads/settings/assignment/", {"name": "No target", "action": "round_robin"}
    )
    assert invalid.status_code == 422
    response = client.post(
        "/leads/settings/scoring/",
        {
            "kind": "industry",
            "industry": "software",
            "threshold": 1,
            "points": -5,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert ScoringRule.objects.get().value == "software"
    page = client.get("/leads/settings/scoring/").content.decode()
    assert "-5 Industry is Software and SaaS" in page
    client.post(f"/leads/settings/scoring/{ScoringRule.objects.get().pk}/delete/")
    assert not ScoringRule.objects.exists()


def test_export_xlsx(book: Book, lead: Lead) -> None:
    response = client_for(book.owner).get("/leads/export/?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_list_page_query_count_does_not_grow_with_rows(book: Book) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(book.manager)
    create_lead(actor=book.owner, data={"company": "First", "team": book.team.pk})
    with CaptureQueriesContext(connection) as few:
        client.get("/leads/", headers={"HX-Request": "true"})
    for index in range(30):
        create_lead(actor=book.owner, data={"company": f"Lead {index}", "team": book.team.pk})
    with CaptureQueriesContext(connection) as many:
        response = client.get("/leads/", headers={"HX-Request": "true"})
    assert response.content.decode().count("/leads/") >= 31
    # session, user, scope (team members), the page (owner and team joined)
    assert len(many.captured_queries) == len(few.captured_queries) <= 5


@pytest.mark.parametrize("persona", PERSONAS)
def test_convert_page_by_persona(book: Book, lead: Lead, persona: str) -> None:
    client = client_for(book.persona(persona))
    assert client.get(f"/leads/{lead.pk}/convert/").status_code == lead_write_status(persona)
    response = client.post(
        f"/leads/{lead.pk}/convert/",
        {"account_choice": "new", "contact_choice": "new", "version": 1},
    )
    assert response.status_code == lead_write_status(persona, 302)
    converted = Lead.objects.get(pk=lead.pk).converted_at is not None
    assert converted is (response.status_code == 302)
