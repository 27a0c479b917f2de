"""API shapes of leads, their activities and their conversion, and of the lead settings: web
forms, assignment rules and scoring rules."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.urls import reverse
from ninja import Schema
from pydantic import Field

from cartera.accounts.models import CompanySize, Industry
from cartera.accounts.schemas import AccountRef, e164
from cartera.core.api import Id, InputSchema, etag_of
from cartera.users.schemas import TeamRef, UserRef

from .models import (
    ActivityKind,
    AssignmentRule,
    Lead,
    LeadForm,
    LeadSource,
    LeadStatus,
    RuleAction,
    ScoringKind,
    ScoringRule,
)

Blank = Literal[""]


class ContactRef(Schema):
    """A contact as a lead points to it."""

    pk: int
    full_name: str


class OpportunityRef(Schema):
    """A deal as a lead points to it."""

    pk: int
    name: str


class ScoreReason(Schema):
    """One rule that gave the lead points."""

    points: int
    text: str


class LeadOut(Schema):
    """A lead as lists and single reads show it."""

    pk: int
    company: str
    first_name: str
    last_name: str
    job_title: str
    email: str
    phone: str = Field(description="E.164, e.g. +34911234567")
    website: str
    tax_id: str
    country: str = Field(description="ISO 3166-1 alpha-2 code")
    industry: str
    size: str
    source: str
    notes: str
    status: str
    owner: UserRef | None
    team: TeamRef | None
    score: int
    score_reasons: list[ScoreReason]
    converted_account: AccountRef | None
    converted_contact: ContactRef | None
    converted_opportunity: OpportunityRef | None
    converted_at: datetime | None
    external_id: str
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_phone(obj: Lead) -> str:
        """E.164."""
        return e164(obj.phone)

    @staticmethod
    def resolve_country(obj: Lead) -> str:
        """ISO code."""
        return str(obj.country.code or "")

    @staticmethod
    def resolve_score_reasons(obj: Lead) -> list[dict[str, Any]]:
        """Points and the reason's text as stored with the score."""
        return [
            {"points": reason["points"], "text": reason.get("text", "")}
            for reason in obj.score_reasons
        ]

    @staticmethod
    def resolve_converted_contact(obj: Lead) -> Any:
        """Only once converted."""
        contact = obj.converted_contact
        return None if contact is None else {"pk": contact.pk, "full_name": contact.full_name}


class LeadFields(InputSchema):
    """Fields shared by creating and changing a lead (all optional here)."""

    company: str | None = Field(None, max_length=200)
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=150)
    job_title: str | None = Field(None, max_length=150)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    website: str | None = Field(None, max_length=300)
    tax_id: str | None = Field(None, max_length=40)
    country: str | None = Field(None, max_length=2, description="ISO 3166-1 alpha-2 code")
    industry: Industry | Blank | None = None
    size: CompanySize | Blank | None = None
    notes: str | None = Field(None, max_length=10000)
    status: LeadStatus | None = None
    external_id: str | None = Field(None, max_length=100)
    team: Id | None = Field(None, description="Team the lead is routed to")
    owner: Id | None = Field(
        None, description="User id; omit to let the assignment rules choose, null for nobody"
    )


class LeadIn(LeadFields):
    """A new lead (from the API the source defaults to "api")."""

    source: LeadSource = LeadSource.API


class LeadPatch(LeadFields):
    """Changes to a lead: only the fields sent are changed."""

    source: LeadSource | None = None


class AssignIn(InputSchema):
    """Who gets the lead: a person, ``null`` for nobody, or ``auto`` to run the rules."""

    owner: Id | None = None
    auto: bool = Field(False, description="Run the assignment rules instead")


class ActivityIn(InputSchema):
    """A call, email, meeting or note with the lead."""

    kind: ActivityKind
    occurred_at: datetime | None = None
    subject: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=5000)


class ActivityOut(Schema):
    """One activity with a lead."""

    pk: int
    kind: str
    occurred_at: datetime
    author: UserRef | None
    subject: str
    notes: str


class OpportunityIn(InputSchema):
    """The deal a conversion creates (all optional: defaults come from the lead)."""

    name: str | None = Field(None, max_length=200)
    amount: Decimal | None = Field(None, max_digits=16, decimal_places=2, ge=0)
    currency: str | None = Field(None, max_length=3)
    expected_close_date: date | None = None


class ConvertIn(InputSchema):
    """Reuse an existing account / contact (ids) or create new ones (null)."""

    account: Id | None = None
    contact: Id | None = None
    create_opportunity: bool = True
    opportunity: OpportunityIn | None = None


class ConversionPreviewOut(Schema):
    """What converting will reuse (matches among what you see) or create."""

    account: AccountRef | None
    account_match: str = Field(description='"tax_id", "domain", "name" or "" (none: new one)')
    contact: ContactRef | None
    account_name: str
    opportunity_name: str


# --- settings: web forms, assignment and scoring rules ------------------------------------------


class SettingsRowOut(Schema):
    """What every settings row carries: its id, entity tag and change times."""

    pk: int
    etag: str = Field(description="Send it back in If-Match to change or delete the row")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_etag(obj: Any) -> str:
        """The row's entity tag (its last change)."""
        return etag_of(obj)


class LeadFormOut(SettingsRowOut):
    """A public web form that captures leads."""

    name: str
    slug: str = Field(description="The form's public address: /leads/form/<slug>/")
    public_url: str
    team: TeamRef | None = Field(description="Team whose members take turns on unmatched leads")
    is_active: bool
    title: str
    thank_you_text: str
    language: str

    @staticmethod
    def resolve_public_url(obj: LeadForm) -> str:
        """The full address visitors open."""
        base = settings.CARTERA_BASE_URL.rstrip("/")
        return base + reverse("leads:public_form", args=[obj.slug])


class LeadFormPatch(InputSchema):
    """Changes to a web form: only the fields sent are changed."""

    name: str | None = Field(None, max_length=120)
    slug: str | None = Field(
        None, max_length=60, description="Letters, digits, - and _; empty: made from the name"
    )
    team: Id | None = Field(None, description="Team id, null for none")
    is_active: bool | None = None
    title: str | None = Field(None, max_length=200)
    thank_you_text: str | None = Field(None, max_length=2000)
    language: str | None = Field(None, max_length=8, description='"en" or "es"')


class LeadFormIn(LeadFormPatch):
    """A new web form."""

    name: str = Field(max_length=120)


class AssignmentRuleOut(SettingsRowOut):
    """An assignment rule; rules are tried by ``position`` and the first match wins."""

    name: str
    position: int
    is_active: bool
    country: str = Field(description="ISO 3166-1 alpha-2 code, empty for any")
    industry: str
    size: str
    action: str
    user: UserRef | None
    team: TeamRef | None

    @staticmethod
    def resolve_country(obj: AssignmentRule) -> str:
        """ISO code."""
        return str(obj.country.code or "")


class AssignmentRulePatch(InputSchema):
    """Changes to an assignment rule: only the fields sent are changed."""

    name: str | None = Field(None, max_length=120)
    position: int | None = Field(None, ge=0, le=2_147_483_647)
    is_active: bool | None = None
    country: str | None = Field(None, max_length=2, description="ISO 3166-1 alpha-2, empty: any")
    industry: Industry | Blank | None = None
    size: CompanySize | Blank | None = None
    action: RuleAction | None = Field(
        None, description='"user": to ``user``; "round_robin": members of ``team`` take turns'
    )
    user: Id | None = Field(None, description="Person who gets the leads (action user)")
    team: Id | None = Field(None, description="Team whose members take turns (action round_robin)")


class AssignmentRuleIn(AssignmentRulePatch):
    """A new assignment rule (without ``position`` it goes last)."""

    name: str = Field(max_length=120)


class ScoringRuleOut(SettingsRowOut):
    """Points a lead earns (or loses) when it fits a profile or shows engagement."""

    kind: str
    value: str = Field(description="Industry, size or country code the fit rules compare with")
    threshold: int = Field(description="N activities or D days (engagement rules)")
    points: int
    is_active: bool
    reason: str = Field(description='What the rule checks, e.g. "Industry is Software and SaaS"')

    @staticmethod
    def resolve_reason(obj: ScoringRule) -> str:
        """In the caller's language."""
        from .services import rule_reason

        return rule_reason(obj)


class ScoringRulePatch(InputSchema):
    """Changes to a scoring rule: only the fields sent are changed."""

    kind: ScoringKind | None = None
    value: str | None = Field(None, max_length=20)
    threshold: int | None = Field(None, ge=1, le=2_147_483_647)
    points: int | None = Field(None, ge=-2_147_483_648, le=2_147_483_647)
    is_active: bool | None = None


class ScoringRuleIn(ScoringRulePatch):
    """A new scoring rule."""

    kind: ScoringKind
    points: int = Field(ge=-2_147_483_648, le=2_147_483_647)
