"""Lead services: visibility, capture, assignment (rules, round robin), scoring, conversion."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.utils import timezone

from cartera.accounts.models import Account
from cartera.accounts.services import create_account
from cartera.contacts.models import Contact
from cartera.contacts.services import create_contact
from cartera.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from cartera.core.testing import Book, fresh, make_user
from cartera.leads import services
from cartera.leads.models import (
    AssignmentRule,
    Lead,
    LeadActivity,
    LeadForm,
    LeadStatus,
    ScoringRule,
)
from cartera.leads.selectors import get_lead_for_user, visible_leads
from cartera.notifications.models import Notification
from cartera.sales.models import Opportunity, OpportunityContact
from cartera.users.models import Role

from .conftest import LEAD_ACCESS, PERSONAS


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_sees_and_changes_an_owned_lead(book: Book, lead: Lead, persona: str) -> None:
    user = fresh(book.persona(persona))
    can_see, can_write = LEAD_ACCESS[persona]
    assert visible_leads(user).filter(pk=lead.pk).exists() is can_see
    if not can_see:
        with pytest.raises(NotFound):
            services.update_lead(actor=user, lead=lead, changes={"notes": "x"}, expected_version=1)
    elif not can_write:
        with pytest.raises(Forbidden):
            services.update_lead(actor=user, lead=lead, changes={"notes": "x"}, expected_version=1)
    else:
        services.update_lead(actor=user, lead=lead, changes={"notes": "x"}, expected_version=1)
        assert Lead.objects.get(pk=lead.pk).notes == "x"


def test_unassigned_leads_are_seen_by_managers_of_their_team_and_by_directors(book: Book) -> None:
    ours = services.create_lead(
        actor=book.admin, data={"company": "Ours", "team": book.team.pk, "owner": None}
    )
    theirs = services.create_lead(
        actor=book.admin, data={"company": "Theirs", "team": book.other_team.pk, "owner": None}
    )
    nobodys = services.create_lead(actor=book.admin, data={"company": "Nobody's", "owner": None})
    assert ours.owner is None and theirs.owner is None

    def seen(persona: str) -> set[str]:
        user = fresh(book.persona(persona))
        return set(visible_leads(user).values_list("company", flat=True))

    assert seen("manager") == {"Ours", "Nobody's"}
    assert seen("director") == {"Ours", "Theirs", "Nobody's"}
    assert seen("admin") == {"Ours", "Theirs", "Nobody's"}
    assert seen("owner") == set() and seen("outsider") == set() and seen("read_only") == set()
    assert nobodys.team is None


def test_a_rep_who_enters_a_lead_no_rule_matches_keeps_it(book: Book) -> None:
    lead = services.create_lead(actor=book.teammate, data={"company": "Mine"})
    assert lead.owner == book.teammate
    assert lead.source == "other"
    assert get_lead_for_user(fresh(book.teammate), lead.pk) == lead


def test_bad_input_is_a_field_error_and_saves_nothing(book: Book) -> None:
    with pytest.raises(InvalidInput) as error:
        services.create_lead(actor=book.owner, data={"email": "not-an-email"})
    assert set(error.value.field_errors) == {"company", "email"}
    with pytest.raises(InvalidInput) as error:
        services.create_lead(actor=book.owner, data={"company": "X", "status": "converted"})
    assert "status" in error.value.field_errors
    with pytest.raises(InvalidInput) as error:
        services.create_lead(actor=book.owner, data={"company": "X", "owner": book.outsider.pk})
    assert "owner" in error.value.field_errors
    with pytest.raises(Forbidden):
        services.create_lead(actor=book.read_only, data={"company": "X"})
    assert not Lead.objects.exists()


def test_stale_version_is_a_conflict_and_changes_nothing(book: Book, lead: Lead) -> None:
    services.update_lead(
        actor=book.owner, lead=lead, changes={"notes": "first"}, expected_version=1
    )
    stale = Lead.objects.get(pk=lead.pk)
    stale.version = 1
    with pytest.raises(Conflict):
        services.update_lead(
            actor=book.manager, lead=stale, changes={"notes": "second"}, expected_version=1
        )
    assert Lead.objects.get(pk=lead.pk).notes == "first"


# --- assignment ------------------------------------------------------------------------------


def test_rule_by_country_and_industry_assigns_audits_and_notifies(book: Book) -> None:
    book.manager.language = "es"
    book.manager.save(update_fields=["language"])
    services.save_assignment_rule(
        actor=book.admin,
        data={
            "name": "Spain software",
            "country": "ES",
            "industry": "software",
            "user": book.manager.pk,
        },
    )
    services.save_assignment_rule(
        actor=book.admin, data={"name": "Spain", "country": "ES", "user": book.owner.pk}
    )
    software = services.create_lead(
        actor=book.admin, data={"company": "Soft SL", "country": "ES", "industry": "software"}
    )
    retail = services.create_lead(
        actor=book.admin, data={"company": "Shop SL", "country": "ES", "industry": "retail"}
    )
    french = services.create_lead(actor=book.admin, data={"company": "Fr SA", "country": "FR"})
    assert software.owner == book.manager
    assert retail.owner == book.owner
    assert french.owner is None
    note = Notification.objects.get(recipient=book.manager)
    assert note.url == f"/leads/{software.pk}/"
    assert "Soft SL" in note.title
    assert note.actor == book.admin
    entry = LogEntry.objects.get_for_object(software).filter(changes__has_key="owner").first()
    assert entry is not None and entry.actor == book.admin


def test_round_robin_rule_takes_turns_among_active_writers_of_the_team(book: Book) -> None:
    rule = services.save_assignment_rule(
        actor=book.admin,
        data={"name": "Iberia turns", "action": "round_robin", "team": book.team.pk},
    )
    # The team: manager, owner, teammate and read_only (who never gets leads).
    expected = sorted([book.manager, book.owner, book.teammate], key=lambda user: user.pk)
    owners = [
        services.create_lead(actor=book.admin, data={"company": f"L{i}"}).owner for i in range(4)
    ]
    assert owners == [*expected, expected[0]]
    rule.refresh_from_db()
    assert rule.last_assigned == expected[0]
    assert Notification.objects.filter(recipient=book.read_only).count() == 0


def test_web_form_team_round_robin_when_no_rule_matches(book: Book) -> None:
    form = services.save_web_form(
        actor=book.manager, data={"name": "Contact us", "team": book.other_team.pk}
    )
    second = make_user(
        book.admin, "rep2@example.com", "Second Rep", Role.SALES_REP, book.other_team
    )
    leads = [
        services.submit_web_form(
            web_form=form, data={"company": f"W{i}", "email": f"w{i}@x.example"}
        )
        for i in range(3)
    ]
    assert [lead.owner for lead in leads] == [book.outsider, second, book.outsider]
    assert all(lead.source == "web_form" and lead.web_form == form for lead in leads)
    assert leads[0].created_by is None
    assert form.slug == "contact-us"


def test_inactive_form_refuses_submissions(book: Book) -> None:
    form = services.save_web_form(actor=book.admin, data={"name": "Old", "is_active": False})
    with pytest.raises(NotFound):
        services.submit_web_form(web_form=form, data={"company": "X"})


def test_manual_assignment_respects_scope_and_notifies(book: Book, lead: Lead) -> None:
    services.assign_lead(actor=book.manager, lead=lead, owner=book.teammate, expected_version=1)
    assert Lead.objects.get(pk=lead.pk).owner == book.teammate
    assert Notification.objects.filter(recipient=book.teammate, url=f"/leads/{lead.pk}/").exists()
    with pytest.raises(InvalidInput):
        services.assign_lead(actor=book.manager, lead=lead, owner=book.outsider, expected_version=2)
    with pytest.raises(Conflict):
        services.assign_lead(actor=book.manager, lead=lead, owner=book.owner, expected_version=1)


def test_reps_may_not_unassign_or_configure(book: Book, lead: Lead) -> None:
    with pytest.raises(Forbidden):
        services.assign_lead(actor=book.owner, lead=lead, owner=None, expected_version=1)
    with pytest.raises(Forbidden):
        services.save_assignment_rule(actor=book.owner, data={"name": "x", "user": book.owner.pk})
    with pytest.raises(Forbidden):
        services.save_scoring_rule(
            actor=book.owner, data={"kind": "size", "value": "1-10", "points": 1}
        )
    with pytest.raises(Forbidden):
        services.save_web_form(actor=book.owner, data={"name": "x"})


def test_rule_needs_its_target(book: Book) -> None:
    with pytest.raises(InvalidInput) as error:
        services.save_assignment_rule(actor=book.admin, data={"name": "x", "action": "user"})
    assert "user" in error.value.field_errors
    with pytest.raises(InvalidInput) as error:
        services.save_assignment_rule(actor=book.admin, data={"name": "x", "action": "round_robin"})
    assert "team" in error.value.field_errors
    with pytest.raises(InvalidInput) as error:
        services.save_assignment_rule(
            actor=book.manager, data={"name": "x", "user": book.outsider.pk}
        )
    assert "user" in error.value.field_errors


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_leads_get_different_people(book: Book) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; row locks are exercised on PostgreSQL")
    services.save_assignment_rule(
        actor=book.admin,
        data={"name": "Iberia turns", "action": "round_robin", "team": book.team.pk},
    )
    owners: list[int | None] = []
    barrier = threading.Barrier(2)

    def enter(index: int) -> None:
        barrier.wait()
        lead = services.create_lead(actor=book.admin, data={"company": f"C{index}"})
        owners.append(lead.owner_id)
        connection.close()

    threads = [threading.Thread(target=enter, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(owners)) == 2


# --- scoring ---------------------------------------------------------------------------------


def test_score_and_reasons_from_fit_and_engagement(book: Book, lead: Lead) -> None:
    services.save_scoring_rule(
        actor=book.admin, data={"kind": "industry", "value": "software", "points": 20}
    )
    services.save_scoring_rule(
        actor=book.admin, data={"kind": "country", "value": "es", "points": 5}
    )
    services.save_scoring_rule(
        actor=book.admin, data={"kind": "size", "value": "1-10", "points": 50}
    )
    services.save_scoring_rule(
        actor=book.admin, data={"kind": "activity_count", "threshold": 2, "points": 15}
    )
    services.save_scoring_rule(
        actor=book.admin, data={"kind": "recent_activity", "threshold": 7, "points": 10}
    )
    services.save_scoring_rule(
        actor=book.admin, data={"kind": "size", "value": "51-200", "points": -3}
    )
    lead.refresh_from_db()
    assert lead.score == 22  # rescored when the rules changed: 20 + 5 - 3
    assert services.describe_reasons(lead.score_reasons) == [
        "+5 Country is Spain",
        "+20 Industry is Software and SaaS",
        "-3 Size is 51-200 employees",
    ]
    services.log_lead_activity(
        actor=book.owner,
        lead=lead,
        data={"kind": "call", "occurred_at": timezone.now() - dt.timedelta(days=30)},
    )
    lead.refresh_from_db()
    assert lead.score == 22 and lead.status == LeadStatus.WORKING
    services.log_lead_activity(actor=book.owner, lead=lead, data={"kind": "email"})
    lead.refresh_from_db()
    assert lead.score == 47
    assert "+10 Activity in the last 7 days" in services.describe_reasons(lead.score_reasons)
    assert "+15 At least 2 activities" in services.describe_reasons(lead.score_reasons)


def test_update_rescores_and_rules_are_validated(book: Book, lead: Lead) -> None:
    services.save_scoring_rule(
        actor=book.manager, data={"kind": "industry", "value": "retail", "points": 30}
    )
    services.update_lead(
        actor=book.owner, lead=lead, changes={"industry": "retail"}, expected_version=1
    )
    assert Lead.objects.get(pk=lead.pk).score == 30
    for data in (
        {"kind": "industry", "value": "nope", "points": 1},
        {"kind": "country", "value": "XX", "points": 1},
        {"kind": "activity_count", "threshold": 0, "points": 1},
    ):
        with pytest.raises(InvalidInput):
            services.save_scoring_rule(actor=book.admin, data=data)
    rule = ScoringRule.objects.get()
    services.delete_scoring_rule(actor=book.admin, rule=rule)
    assert Lead.objects.get(pk=lead.pk).score == 0


def test_activities_in_the_future_or_of_unknown_kind_are_refused(book: Book, lead: Lead) -> None:
    with pytest.raises(InvalidInput):
        services.log_lead_activity(
            actor=book.owner,
            lead=lead,
            data={"kind": "call", "occurred_at": timezone.now() + dt.timedelta(days=2)},
        )
    with pytest.raises(InvalidInput):
        services.log_lead_activity(actor=book.owner, lead=lead, data={"kind": "fax"})
    with pytest.raises(NotFound):
        services.log_lead_activity(actor=book.outsider, lead=lead, data={"kind": "call"})
    assert not LeadActivity.objects.exists()


# --- conversion ------------------------------------------------------------------------------


def test_convert_creates_account_contact_and_opportunity(book: Book, lead: Lead) -> None:
    services.convert_lead(
        actor=book.owner,
        lead=lead,
        expected_version=1,
        opportunity={"amount": Decimal("1200.50"), "currency": "EUR"},
    )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED and lead.converted_at is not None
    account = lead.converted_account
    assert account is not None and account.name == "Acme Robotics"
    assert account.owner == book.owner and account.domain == "acme.example"
    assert str(account.country) == "ES" and account.industry == "software"
    contact = lead.converted_contact
    assert contact is not None and contact.email == "ana@acme.example"
    assert list(contact.accounts.all()) == [account]
    deal = lead.converted_opportunity
    assert deal is not None and deal.account == account and deal.amount == Decimal("1200.50")
    assert deal.name == "Acme Robotics" and deal.owner == book.owner
    # the person who asked is the deal's decision maker, not "Other"
    link = OpportunityContact.objects.get(opportunity=deal, contact=contact)
    assert link.role == "decision_maker"


def test_conversion_reuses_matching_account_and_contact(book: Book, lead: Lead) -> None:
    existing = create_account(
        actor=book.owner, data={"name": "ACME Robotics S.L.", "website": "https://acme.example/es/"}
    )
    person = create_contact(
        actor=book.owner,
        data={"first_name": "Ana", "email": "ANA@acme.example", "accounts": [book.account.pk]},
    )
    plan = services.plan_conversion(book.owner, lead)
    assert plan.account == existing and plan.account_match == "domain"
    assert plan.contact == person
    # The outsider would not be offered what they cannot see.
    outsider_plan = services.plan_conversion(fresh(book.outsider), lead)
    assert outsider_plan.account is None and outsider_plan.contact is None

    services.convert_lead(
        actor=book.owner, lead=lead, expected_version=1, account=existing, contact=person
    )
    assert Account.objects.count() == 3 and Contact.objects.count() == 2
    assert set(person.accounts.all()) == {book.account, existing}
    lead.refresh_from_db()
    assert lead.converted_account == existing and lead.converted_contact == person


def test_account_matches_by_tax_id_first_then_name(book: Book) -> None:
    by_tax = create_account(actor=book.owner, data={"name": "Other name", "tax_id": "ES-B12345678"})
    by_name = create_account(actor=book.owner, data={"name": "Múñoz  Foods"})
    lead = services.create_lead(
        actor=book.owner, data={"company": "munoz foods", "tax_id": "B 12.345.678"}
    )
    plan = services.plan_conversion(book.owner, lead)
    assert plan.account == by_tax and plan.account_match == "tax_id"
    services.update_lead(actor=book.owner, lead=lead, changes={"tax_id": ""}, expected_version=1)
    plan = services.plan_conversion(book.owner, lead)
    assert plan.account == by_name and plan.account_match == "name"


def test_converting_twice_is_a_conflict(book: Book, lead: Lead) -> None:
    services.convert_lead(actor=book.owner, lead=lead, expected_version=1)
    again = Lead.objects.get(pk=lead.pk)
    with pytest.raises(Conflict) as error:
        services.convert_lead(actor=book.owner, lead=again, expected_version=again.version)
    assert "already converted" in error.value.message
    assert Opportunity.objects.count() == 1
    with pytest.raises(InvalidInput):
        services.update_lead(
            actor=book.owner, lead=again, changes={"status": "new"}, expected_version=again.version
        )


def test_conversion_is_all_or_nothing(book: Book, lead: Lead) -> None:
    with pytest.raises(InvalidInput):
        services.convert_lead(
            actor=book.owner, lead=lead, expected_version=1, opportunity={"currency": "ZZZ"}
        )
    assert Account.objects.count() == 2 and Contact.objects.count() == 1
    assert Opportunity.objects.count() == 0
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


def test_conversion_cannot_reuse_an_unseen_account(book: Book, lead: Lead) -> None:
    with pytest.raises(InvalidInput) as error:
        services.convert_lead(
            actor=book.owner, lead=lead, expected_version=1, account=book.outsider_account.pk
        )
    assert "account" in error.value.field_errors
    with pytest.raises(NotFound):
        services.convert_lead(actor=book.outsider, lead=lead, expected_version=1)
    with pytest.raises(Forbidden):
        services.convert_lead(actor=book.read_only, lead=lead, expected_version=1)


def test_trash_hides_the_lead(book: Book, lead: Lead) -> None:
    services.trash_lead(actor=book.owner, lead=lead, expected_version=1)
    assert not visible_leads(book.owner).exists()


def test_web_form_settings_are_validated(book: Book) -> None:
    services.save_web_form(actor=book.admin, data={"name": "Demo", "slug": "demo"})
    with pytest.raises(InvalidInput) as error:
        services.save_web_form(actor=book.admin, data={"name": "Demo 2", "slug": "demo"})
    assert "slug" in error.value.field_errors
    with pytest.raises(InvalidInput):
        services.save_web_form(actor=book.admin, data={"name": "Bad", "language": "xx"})
    assert LeadForm.objects.count() == 1


def test_assignment_rule_criteria_combine(book: Book) -> None:
    rule = AssignmentRule(country="ES", size="1-10")
    assert rule.matches(Lead(country="ES", size="1-10", industry="retail"))
    assert not rule.matches(Lead(country="ES", size="11-50"))
    assert AssignmentRule().matches(Lead())


def test_only_configuring_roles_leave_leads_unassigned(book: Book, lead: Lead) -> None:
    with pytest.raises(Forbidden):
        services.create_lead(actor=book.owner, data={"company": "Orphan", "owner": None})
    with pytest.raises(Forbidden):
        services.update_lead(
            actor=book.owner, lead=lead, changes={"owner": None}, expected_version=1
        )
    assert Lead.objects.get(pk=lead.pk).owner == book.owner
    services.update_lead(actor=book.manager, lead=lead, changes={"owner": None}, expected_version=1)
    assert Lead.objects.get(pk=lead.pk).owner is None
