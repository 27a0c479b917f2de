"""Every write to leads: capture, assignment, scoring, activities, conversion and their settings.

Atomic, access-checked, audited and concurrency-safe, like every service in Cartera.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cartera.accounts.models import Account, CompanySize, Industry
from cartera.core.audit import audited
from cartera.core.display import country_name
from cartera.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from cartera.core.services import apply_changes, claim_unchanged, claim_version, validate
from cartera.notifications.services import notify, override_for
from cartera.users.access import can_assign_owner
from cartera.users.models import Role, Team, User

from .models import (
    ActivityKind,
    AssignmentRule,
    Lead,
    LeadActivity,
    LeadForm,
    LeadSource,
    LeadStatus,
    RuleAction,
    ScoringKind,
    ScoringRule,
    TeamRotation,
)

EDITABLE_FIELDS = frozenset(
    {
        "company",
        "first_name",
        "last_name",
        "job_title",
        "email",
        "phone",
        "website",
        "tax_id",
        "country",
        "industry",
        "size",
        "source",
        "notes",
        "status",
        "external_id",
        "team",
    }
)
#: Fields a public web form may fill.
WEB_FORM_FIELDS = frozenset(
    {
        "company",
        "first_name",
        "last_name",
        "job_title",
        "email",
        "phone",
        "website",
        "country",
        "industry",
        "size",
        "notes",
    }
)
RULE_FIELDS = frozenset(
    {"name", "position", "is_active", "country", "industry", "size", "action", "user", "team"}
)
FORM_FIELDS = frozenset(
    {"name", "slug", "team", "is_active", "title", "thank_you_text", "language"}
)
SCORING_FIELDS = frozenset({"kind", "value", "threshold", "points", "is_active"})
#: What the score column (a 32-bit integer) holds; a sum of points beyond stops there.
SCORE_MIN, SCORE_MAX = -2_147_483_648, 2_147_483_647
ACTIVITY_FIELDS = frozenset({"kind", "occurred_at", "subject", "notes"})

#: Roles that configure web forms, assignment and scoring rules.
CONFIGURING_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.MANAGER})


# --- access -------------------------------------------------------------------------------


def ensure_can_write(actor: User) -> None:
    """Read-only and inactive users change nothing."""
    if not actor.can_write:
        raise Forbidden()


def ensure_can_write_lead(actor: User, lead: Lead) -> None:
    """``actor`` writes and sees ``lead``."""
    ensure_can_write(actor)
    if not Lead.objects.visible_to(actor).filter(pk=lead.pk).exists():
        raise NotFound()


def can_configure(user: User) -> bool:
    """Administrators, directors and managers set up web forms and lead rules."""
    return user.is_active and (user.role in CONFIGURING_ROLES or user.is_superuser)


def ensure_can_configure(actor: User) -> None:
    """Refuse anyone else."""
    if not can_configure(actor):
        raise Forbidden()


def _resolve_team(data: dict[str, Any]) -> None:
    if data.get("team") is None or isinstance(data["team"], Team):
        return
    team = Team.objects.filter(pk=data["team"]).first() if isinstance(data["team"], int) else None
    if team is None:
        raise InvalidInput(field_errors={"team": [_("Choose an existing team.")]})
    data["team"] = team


def _resolve_owner(actor: User, owner: Any) -> User:
    if not isinstance(owner, User):
        owner = User.objects.filter(pk=owner).first() if isinstance(owner, int) else None
    if owner is None or not can_assign_owner(actor, owner):
        raise InvalidInput(
            field_errors={"owner": [_("Choose an active person you may assign leads to.")]}
        )
    return owner


# --- scoring ------------------------------------------------------------------------------


def active_scoring_rules() -> list[ScoringRule]:
    """The rules every score is computed with."""
    return list(ScoringRule.objects.filter(is_active=True).order_by("kind", "id"))


def rule_reason(rule: ScoringRule) -> str:
    """The text of a reason, "Industry is Software and SaaS", in the active language."""
    if rule.kind == ScoringKind.INDUSTRY:
        return _("Industry is %(value)s") % {"value": Industry(rule.value).label}
    if rule.kind == ScoringKind.SIZE:
        return _("Size is %(value)s") % {"value": CompanySize(rule.value).label}
    if rule.kind == ScoringKind.COUNTRY:
        return _("Country is %(value)s") % {"value": country_name(rule.value) or rule.value}
    if rule.kind == ScoringKind.ACTIVITY_COUNT:
        return _("At least %(count)d activities") % {"count": rule.threshold}
    return _("Activity in the last %(days)d days") % {"days": rule.threshold}


def _days_before(now: dt.datetime, days: int) -> dt.datetime:
    """``now`` less ``days``; the earliest datetime when that is before any date (so a rule
    "activity in the last 2,147,483,647 days" counts every activity instead of failing)."""
    try:
        return now - dt.timedelta(days=days)
    except OverflowError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)


def compute_score(
    lead: Lead,
    rules: list[ScoringRule],
    *,
    activity_count: int,
    last_activity_at: dt.datetime | None,
    now: dt.datetime | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """The score of ``lead`` under ``rules`` and the reasons, one per rule that gave points."""
    now = now or timezone.now()
    total, reasons = 0, []
    for rule in rules:
        if rule.kind == ScoringKind.INDUSTRY:
            hit = bool(lead.industry) and lead.industry == rule.value
        elif rule.kind == ScoringKind.SIZE:
            hit = bool(lead.size) and lead.size == rule.value
        elif rule.kind == ScoringKind.COUNTRY:
            hit = bool(lead.country) and str(lead.country) == rule.value
        elif rule.kind == ScoringKind.ACTIVITY_COUNT:
            hit = activity_count >= rule.threshold
        else:
            hit = last_activity_at is not None and last_activity_at >= _days_before(
                now, rule.threshold
            )
        if hit:
            total += rule.points
            reasons.append({"points": rule.points, "rule": rule.pk, "kind": rule.kind})
    # Each rule may give up to the score column's bounds: their sum stops there (saturates).
    return max(SCORE_MIN, min(total, SCORE_MAX)), reasons


def describe_reasons(reasons: list[dict[str, Any]]) -> list[str]:
    """ "+20 Industry is Software and SaaS", in the active language, from stored reasons."""
    rules = {
        rule.pk: rule for rule in ScoringRule.objects.filter(pk__in=[r["rule"] for r in reasons])
    }
    texts = []
    for reason in reasons:
        rule = rules.get(reason["rule"])
        text = rule_reason(rule) if rule else reason.get("text", "")
        texts.append(f"{reason['points']:+d} {text}")
    return texts


def _engagement(lead: Lead) -> tuple[int, dt.datetime | None]:
    data = LeadActivity.objects.filter(lead=lead).aggregate(n=Count("pk"), last=Max("occurred_at"))
    return data["n"], data["last"]


def _store_score(lead: Lead, rules: list[ScoringRule] | None = None) -> bool:
    """Recompute the lead's score; save it when it changed. Returns whether it changed."""
    rules = active_scoring_rules() if rules is None else rules
    count, last = _engagement(lead) if lead.pk else (0, None)
    score, reasons = compute_score(lead, rules, activity_count=count, last_activity_at=last)
    for reason in reasons:  # kept for readers when the rule is later deleted
        rule = next(r for r in rules if r.pk == reason["rule"])
        with override_language_default():
            reason["text"] = rule_reason(rule)
    if score == lead.score and reasons == lead.score_reasons:
        return False
    lead.score, lead.score_reasons = score, reasons
    if lead.pk:
        Lead.objects.filter(pk=lead.pk).update(score=score, score_reasons=reasons)
    return True


def override_language_default() -> Any:
    """Stored reason texts are in the site's language (readers re-translate from the rule)."""
    from django.conf import settings
    from django.utils import translation

    return translation.override(settings.LANGUAGE_CODE)


def rescore_leads(*, batch_size: int = 500) -> int:
    """Recompute every open lead's score (after rules change, and daily for recency).

    One query per ``batch_size`` leads reads their activity counts; changed scores are written
    with one ``bulk_update`` per batch. Returns how many leads changed.
    """
    rules = active_scoring_rules()
    texts: dict[int, str] = {}
    with override_language_default():
        for rule in rules:
            texts[rule.pk] = rule_reason(rule)
    now, changed, last_pk = timezone.now(), 0, 0
    while True:
        batch = list(
            Lead.objects.alive()
            .exclude(status=LeadStatus.CONVERTED)
            .filter(pk__gt=last_pk)
            .order_by("pk")
            .annotate(
                activity_count=Count("activities"), last_activity=Max("activities__occurred_at")
            )
            .only("pk", "industry", "size", "country", "score", "score_reasons")[:batch_size]
        )
        if not batch:
            return changed
        last_pk = batch[-1].pk
        dirty = []
        for lead in batch:
            score, reasons = compute_score(
                lead,
                rules,
                activity_count=lead.activity_count,
                last_activity_at=lead.last_activity,
                now=now,
            )
            for reason in reasons:
                reason["text"] = texts[reason["rule"]]
            if score != lead.score or reasons != lead.score_reasons:
                lead.score, lead.score_reasons = score, reasons
                dirty.append(lead)
        Lead.objects.bulk_update(dirty, ["score", "score_reasons"])
        changed += len(dirty)


# --- assignment ---------------------------------------------------------------------------


def _eligible_members(team: Team) -> list[User]:
    """Active people of ``team`` who can own leads, in a stable order."""
    return list(
        User.objects.filter(team=team, is_active=True).exclude(role=Role.READ_ONLY).order_by("pk")
    )


def _next_in_turn(members: list[User], last_id: int | None) -> User | None:
    if not members:
        return None
    if last_id is None:
        return members[0]
    for member in members:
        if member.pk > last_id:
            return member
    return members[0]


def _round_robin_rule(rule: AssignmentRule) -> User | None:
    # Lock the rule row: two leads arriving together get different people.
    locked = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    person = _next_in_turn(_eligible_members(locked.team), locked.last_assigned_id)  # type: ignore[arg-type]
    if person is not None:
        AssignmentRule.objects.filter(pk=locked.pk).update(last_assigned=person)
    return person


def _round_robin_team(team: Team) -> User | None:
    try:
        with transaction.atomic():
            TeamRotation.objects.get_or_create(team=team)
    except IntegrityError:  # created by a concurrent assignment: it exists now
        pass
    rotation = TeamRotation.objects.select_for_update().get(team=team)
    person = _next_in_turn(_eligible_members(team), rotation.last_assigned_id)
    if person is not None:
        TeamRotation.objects.filter(pk=rotation.pk).update(last_assigned=person)
    return person


def choose_assignee(lead: Lead) -> tuple[User | None, AssignmentRule | None]:
    """Who the rules give ``lead`` to: the first matching rule, else the lead's team's turn."""
    for rule in AssignmentRule.objects.filter(is_active=True).select_related("user", "team"):
        if not rule.matches(lead):
            continue
        if rule.action == RuleAction.USER:
            if rule.user is not None and rule.user.is_active and rule.user.role != Role.READ_ONLY:
                return rule.user, rule
            continue
        person = _round_robin_rule(rule)
        if person is not None:
            return person, rule
    if lead.team_id is not None:
        return _round_robin_team(lead.team), None  # type: ignore[arg-type]
    return None, None


def _notify_assignee(lead: Lead, assignee: User, actor: User | None) -> None:
    with override_for(assignee):
        title = _("Lead assigned to you: %(lead)s") % {"lead": lead.display_name}
        details = [lead.company, lead.person_name, lead.email]
        body = " · ".join(part for part in details if part)
    notify(
        recipient=assignee,
        title=title,
        body=body,
        url=reverse("leads:detail", args=[lead.pk]),
        actor=actor,
    )


def _ensure_may_unassign(actor: User) -> None:
    """Only those who see unassigned leads may leave one without an owner."""
    if not can_configure(actor):
        raise Forbidden(
            _("Only managers, directors and administrators may leave a lead unassigned.")
        )


def _set_owner(lead: Lead, owner: User | None, actor: User | None) -> None:
    """Save the new owner (audited by the caller's block) and tell them."""
    lead.owner = owner
    lead.save(update_fields=["owner", "version"])
    if owner is not None and owner != actor:
        _notify_assignee(lead, owner, actor)


def _auto_assign(lead: Lead, actor: User | None) -> None:
    assignee, _rule = choose_assignee(lead)
    if assignee is not None:
        _set_owner(lead, assignee, actor)


@transaction.atomic
def assign_lead(
    *, actor: User, lead: Lead, owner: User | int | None, expected_version: int | None
) -> Lead:
    """Give ``lead`` to ``owner`` (someone the actor may assign to), or unassign it."""
    ensure_can_write_lead(actor, lead)
    person = None if owner is None else _resolve_owner(actor, owner)
    if person is None:
        _ensure_may_unassign(actor)
    claim_version(lead, expected_version)
    with audited(actor):
        _set_owner(lead, person, actor)
    return lead


@transaction.atomic
def auto_assign_lead(*, actor: User, lead: Lead, expected_version: int | None) -> Lead:
    """Run the assignment rules on ``lead`` again (for leads left unassigned)."""
    ensure_can_write_lead(actor, lead)
    claim_version(lead, expected_version)
    with audited(actor):
        _auto_assign(lead, actor)
    return lead


# --- leads --------------------------------------------------------------------------------


def _save_new_lead(actor: User | None, lead: Lead, *, assign: bool) -> Lead:
    validate(lead)
    _store_score(lead)
    with audited(actor):
        lead.save()
        if assign and lead.owner_id is None:
            _auto_assign(lead, actor)
        elif lead.owner_id is not None and lead.owner != actor:
            _notify_assignee(lead, lead.owner, actor)  # type: ignore[arg-type]
    return lead


@transaction.atomic
def create_lead(*, actor: User, data: Mapping[str, Any]) -> Lead:
    """Create a lead; without an ``owner`` the assignment rules choose one (``owner=None``: no one).

    ``data['owner']`` may be a person the actor may assign to. Leads entered by a rep without an
    owner and unmatched by the rules are theirs, so they never lose sight of what they typed.
    """
    ensure_can_write(actor)
    values = dict(data)
    owner_given = "owner" in values
    owner = values.pop("owner", None)
    values.setdefault("source", LeadSource.OTHER)
    _resolve_team(values)
    lead = Lead(created_by=actor)
    apply_changes(lead, values, allowed=EDITABLE_FIELDS)
    if lead.status == LeadStatus.CONVERTED:
        raise InvalidInput(field_errors={"status": [_("Convert a lead with the Convert action.")]})
    if owner is not None:
        lead.owner = _resolve_owner(actor, owner)
    elif owner_given:
        _ensure_may_unassign(actor)
    _save_new_lead(actor, lead, assign=not owner_given)
    if lead.owner_id is None and not owner_given and scope_is_own(actor):
        with audited(actor):
            _set_owner(lead, actor, actor)
    return lead


def scope_is_own(user: User) -> bool:
    """People who only see their own leads (reps, account managers, coordinators)."""
    return user.role not in CONFIGURING_ROLES and not user.is_superuser


@transaction.atomic
def update_lead(
    *, actor: User, lead: Lead, changes: Mapping[str, Any], expected_version: int | None
) -> Lead:
    """Apply ``changes`` if nobody changed the lead since ``expected_version``; rescore it."""
    ensure_can_write_lead(actor, lead)
    values = dict(changes)
    owner_given = "owner" in values
    owner = values.pop("owner", None)
    _resolve_team(values)
    was_converted = lead.is_converted
    changed = apply_changes(lead, values, allowed=EDITABLE_FIELDS)
    if "status" in changed and (was_converted or lead.status == LeadStatus.CONVERTED):
        raise InvalidInput(
            field_errors={
                "status": [_("Convert a lead with the Convert action; it cannot be undone.")]
            }
        )
    validate(lead)
    claim_version(lead, expected_version)
    _store_score(lead)
    with audited(actor):
        if changed:
            lead.save(update_fields=[*changed, "version", "score", "score_reasons"])
        if owner_given:
            person = None if owner is None else _resolve_owner(actor, owner)
            if person is None:
                _ensure_may_unassign(actor)
            if person != lead.owner:
                _set_owner(lead, person, actor)
    return lead


@transaction.atomic
def trash_lead(*, actor: User, lead: Lead, expected_version: int | None) -> Lead:
    """Move a lead to the trash."""
    ensure_can_write_lead(actor, lead)
    claim_version(lead, expected_version)
    lead.deleted_at = timezone.now()
    with audited(actor):
        lead.save(update_fields=["deleted_at", "version"])
    return lead


@transaction.atomic
def log_lead_activity(*, actor: User, lead: Lead, data: Mapping[str, Any]) -> LeadActivity:
    """Record a call, email, meeting or note with the lead; its score is recomputed."""
    ensure_can_write_lead(actor, lead)
    values = dict(data)
    values.setdefault("occurred_at", timezone.now())
    if values.get("kind") not in ActivityKind.values:
        raise InvalidInput(field_errors={"kind": [_("Select a valid choice.")]})
    activity = LeadActivity(lead=lead, author=actor)
    apply_changes(activity, values, allowed=ACTIVITY_FIELDS)
    validate(activity, exclude=["lead", "author"])
    if activity.occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise InvalidInput(
            field_errors={"occurred_at": [_("An activity cannot be in the future.")]}
        )
    with audited(actor):
        activity.save()
        if lead.status == LeadStatus.NEW:
            lead.status = LeadStatus.WORKING
            lead.save(update_fields=["status"])
    _store_score(lead)
    return activity


# --- web forms ----------------------------------------------------------------------------


@transaction.atomic
def submit_web_form(*, web_form: LeadForm, data: Mapping[str, Any]) -> Lead:
    """A visitor sent the public form: make the lead and route it (no signed-in actor)."""
    if not web_form.is_active:
        raise NotFound()
    values = {key: value for key, value in data.items() if key in WEB_FORM_FIELDS}
    lead = Lead(source=LeadSource.WEB_FORM, web_form=web_form, team=web_form.team)
    apply_changes(lead, values, allowed=WEB_FORM_FIELDS)
    return _save_new_lead(None, lead, assign=True)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "form"
    slug, n = base, 2
    while LeadForm.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def save_web_form(
    *,
    actor: User,
    data: Mapping[str, Any],
    web_form: LeadForm | None = None,
    expected_stamp: int | None = None,
) -> LeadForm:
    """Create or change a web form's settings.

    An empty or missing address is made from the name for a new form and left as it is for an
    existing one (its public address keeps working). ``expected_stamp``: the change stamp the
    caller read (the API's ``If-Match``); a form changed since is a ``Conflict``.
    """
    ensure_can_configure(actor)
    values = dict(data)
    _resolve_team(values)
    target = web_form or LeadForm(created_by=actor)
    if not values.get("slug"):
        values.pop("slug", None)
        if not target.slug:
            values["slug"] = _unique_slug(str(values.get("name") or ""))
    apply_changes(target, values, allowed=FORM_FIELDS)
    validate(target)
    if web_form is not None:
        claim_unchanged(target, expected_stamp)
    with audited(actor):
        target.save()
    return target


@transaction.atomic
def delete_web_form(*, actor: User, web_form: LeadForm, expected_stamp: int | None = None) -> None:
    """Delete a web form (its leads stay)."""
    ensure_can_configure(actor)
    claim_unchanged(web_form, expected_stamp)
    with audited(actor):
        web_form.delete()


# --- assignment and scoring rules -----------------------------------------------------------


def _resolve_rule_user(actor: User, data: dict[str, Any]) -> None:
    if data.get("user") is not None:
        data["user"] = _resolve_owner(actor, data["user"])


@transaction.atomic
def save_assignment_rule(
    *,
    actor: User,
    data: Mapping[str, Any],
    rule: AssignmentRule | None = None,
    expected_stamp: int | None = None,
) -> AssignmentRule:
    """Create or change an assignment rule (``expected_stamp`` as in ``save_web_form``)."""
    ensure_can_configure(actor)
    values = dict(data)
    _resolve_team(values)
    try:
        _resolve_rule_user(actor, values)
    except InvalidInput as error:
        raise InvalidInput(field_errors={"user": error.field_errors["owner"]}) from error
    target = rule or AssignmentRule()
    if rule is None and "position" not in values:
        last = AssignmentRule.objects.aggregate(top=Max("position"))["top"]
        values["position"] = (last or 0) + 10
    apply_changes(target, values, allowed=RULE_FIELDS)
    if target.action == RuleAction.USER:
        target.team = None
    else:
        target.user = None
    validate(target)
    if rule is not None:
        claim_unchanged(target, expected_stamp)
    with audited(actor):
        target.save()
    return target


@transaction.atomic
def delete_assignment_rule(
    *, actor: User, rule: AssignmentRule, expected_stamp: int | None = None
) -> None:
    """Delete an assignment rule."""
    ensure_can_configure(actor)
    claim_unchanged(rule, expected_stamp)
    with audited(actor):
        rule.delete()


@transaction.atomic
def save_scoring_rule(
    *,
    actor: User,
    data: Mapping[str, Any],
    rule: ScoringRule | None = None,
    expected_stamp: int | None = None,
) -> ScoringRule:
    """Create or change a scoring rule; every open lead is rescored (``expected_stamp`` as in
    ``save_web_form``)."""
    ensure_can_configure(actor)
    target = rule or ScoringRule()
    apply_changes(target, dict(data), allowed=SCORING_FIELDS)
    validate(target)
    if rule is not None:
        claim_unchanged(target, expected_stamp)
    with audited(actor):
        target.save()
    rescore_leads()
    return target


@transaction.atomic
def delete_scoring_rule(
    *, actor: User, rule: ScoringRule, expected_stamp: int | None = None
) -> None:
    """Delete a scoring rule; every open lead is rescored."""
    ensure_can_configure(actor)
    claim_unchanged(rule, expected_stamp)
    with audited(actor):
        rule.delete()
    rescore_leads()


# --- conversion ---------------------------------------------------------------------------


@dataclass
class ConversionPlan:
    """What converting a lead will reuse or create."""

    lead: Lead
    account: Account | None  # an existing account to reuse, else a new one is made
    account_match: str  # "tax_id", "domain", "name" or ""
    contact: Any  # an existing Contact to reuse, or None
    account_name: str
    opportunity_name: str


def plan_conversion(user: User, lead: Lead) -> ConversionPlan:
    """The accounts and contact that converting ``lead`` would reuse, among those ``user`` sees."""
    from cartera.contacts.models import Contact

    visible = Account.objects.visible_to(user).alive()
    account, match = None, ""
    candidates = [
        ("tax_id", {"tax_id_key": lead.tax_id_key} if lead.tax_id_key else None),
        ("domain", {"domain": lead.domain} if lead.domain else None),
    ]
    from cartera.core.text import normalize

    name_key = normalize(lead.company)[:200]
    candidates.append(("name", {"name_key": name_key} if name_key else None))
    for kind, lookup in candidates:
        if lookup is None:
            continue
        account = visible.filter(**lookup).order_by("pk").first()
        if account is not None:
            match = kind
            break
    contact = None
    if lead.email:
        contact = (
            Contact.objects.visible_to(user)
            .alive()
            .filter(email__iexact=lead.email)
            .order_by("pk")
            .first()
        )
    account_name = lead.company or lead.person_name
    return ConversionPlan(
        lead=lead,
        account=account,
        account_match=match,
        contact=contact,
        account_name=account_name,
        opportunity_name=account_name,
    )


@transaction.atomic
def convert_lead(
    *,
    actor: User,
    lead: Lead,
    expected_version: int | None,
    account: Account | int | None = None,
    contact: Any = None,
    create_opportunity: bool = True,
    opportunity: Mapping[str, Any] | None = None,
) -> Lead:
    """Turn ``lead`` into an account, a contact and an opportunity in one go.

    ``account`` / ``contact``: an existing one (or its id) to reuse, ``None`` to create new ones
    from the lead's data. ``opportunity``: extra data for the new deal (name, amount, currency,
    expected_close_date, pipeline, stage, type). Everything or nothing is saved; converting a
    lead twice is a ``Conflict``.
    """
    from cartera.accounts.services import create_account
    from cartera.contacts.models import Contact, ContactAccount
    from cartera.contacts.services import create_contact

    ensure_can_write_lead(actor, lead)
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if locked.is_converted:
        raise Conflict(_("This lead was already converted."))
    claim_version(lead, expected_version)

    if account is not None:
        account_pk = account.pk if isinstance(account, Account) else account
        found = Account.objects.visible_to(actor).alive().filter(pk=account_pk).first()
        if found is None:
            raise InvalidInput(field_errors={"account": [_("Choose an account you can see.")]})
        target_account = found
    else:
        target_account = create_account(
            actor=actor,
            data={
                "name": lead.company or lead.person_name,
                "website": lead.website,
                "tax_id": lead.tax_id,
                "phone": lead.phone,
                "country": str(lead.country or ""),
                "industry": lead.industry,
                "size": lead.size,
                "description": lead.notes,
            },
        )

    target_contact = None
    if contact is not None:
        contact_pk = contact.pk if isinstance(contact, Contact) else contact
        target_contact = Contact.objects.visible_to(actor).alive().filter(pk=contact_pk).first()
        if target_contact is None:
            raise InvalidInput(field_errors={"contact": [_("Choose a contact you can see.")]})
        if not ContactAccount.objects.filter(
            contact=target_contact, account=target_account
        ).exists():
            with audited(actor):
                ContactAccount.objects.create(
                    contact=target_contact, account=target_account, is_primary=False
                )
    elif lead.first_name or lead.last_name:
        target_contact = create_contact(
            actor=actor,
            data={
                "first_name": lead.first_name or lead.last_name,
                "last_name": lead.last_name if lead.first_name else "",
                "email": lead.email,
                "phone": lead.phone,
                "job_title": lead.job_title,
                "accounts": [target_account.pk],
            },
        )

    target_opportunity = None
    if create_opportunity:
        from cartera.sales.services import create_opportunity as make_opportunity

        deal = {"name": lead.company or lead.person_name, **dict(opportunity or {})}
        deal["account"] = target_account
        target_opportunity = make_opportunity(actor=actor, data=deal)
        if target_contact is not None:
            _link_deal_contact(actor, target_opportunity, target_contact)

    lead.status = LeadStatus.CONVERTED
    lead.converted_account = target_account
    lead.converted_contact = target_contact
    lead.converted_opportunity = target_opportunity
    lead.converted_at = timezone.now()
    if lead.owner_id is None:
        lead.owner = actor
    with audited(actor):
        lead.save(
            update_fields=[
                "status",
                "converted_account",
                "converted_contact",
                "converted_opportunity",
                "converted_at",
                "owner",
                "version",
            ]
        )
    return lead


def _link_deal_contact(actor: User, opportunity: Any, contact: Any) -> None:
    """Put the lead's person on the new deal as its decision maker: the person who asked is the
    one the rep deals with (the role can be changed on the deal)."""
    from cartera.sales.models import ContactRole
    from cartera.sales.services import set_opportunity_contact

    set_opportunity_contact(
        actor=actor, opportunity=opportunity, contact=contact, role=ContactRole.DECISION_MAKER
    )
