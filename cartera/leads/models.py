"""Leads: people and companies who may become customers, how they came in and how warm they are."""

from __future__ import annotations

from typing import Any, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField

from cartera.accounts.models import CompanySize, Industry, tax_id_key, website_domain
from cartera.core.models import SoftDeleteModel, SoftDeleteQuerySet, TimeStampedModel
from cartera.core.text import normalize
from cartera.users.access import scope_user_ids
from cartera.users.models import Role


class LeadSource(models.TextChoices):
    """Where the lead came from."""

    WEB_FORM = "web_form", _("Web form")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event")
    COLD_OUTREACH = "cold_outreach", _("Cold outreach")
    PARTNER = "partner", _("Partner")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    OTHER = "other", _("Other")


class LeadStatus(models.TextChoices):
    """Where the work on the lead stands."""

    NEW = "new", _("New")
    WORKING = "working", _("Working")
    QUALIFIED = "qualified", _("Qualified")
    UNQUALIFIED = "unqualified", _("Unqualified")
    CONVERTED = "converted", _("Converted")


class LeadQuerySet(SoftDeleteQuerySet):
    """Reusable filters over leads."""

    def visible_to(self, user: Any) -> Self:
        """Leads ``user`` may see.

        Owned by someone in their scope; unassigned leads are seen by directors and administrators
        (everything) and by managers when the lead is routed to a team they manage or belong to, or
        to no team.
        """
        scope = scope_user_ids(user)
        if scope is None:
            return self
        if not scope:
            return self.none()
        condition = Q(owner_id__in=scope)
        if user.role == Role.MANAGER:
            teams = Q(team__isnull=True) | Q(team__manager=user)
            if user.team_id:
                teams |= Q(team_id=user.team_id)
            condition |= Q(owner__isnull=True) & teams
        return self.filter(condition)


#: Columns ``refresh_search_fields()`` computes; saved with every ``update_fields`` save.
DERIVED_FIELDS = ("name_key", "search_text", "domain")


class Lead(SoftDeleteModel):
    """A prospect: a company and a person there, before they become an account and a deal."""

    company = models.CharField(_("company"), max_length=200, blank=True, default="")
    first_name = models.CharField(_("first name"), max_length=100, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=150, blank=True, default="")
    job_title = models.CharField(_("job title"), max_length=150, blank=True, default="")
    email = models.EmailField(_("email"), blank=True, default="")
    phone = PhoneNumberField(_("phone"), blank=True, default="")
    website = models.URLField(_("website"), max_length=300, blank=True, default="")
    tax_id = models.CharField(_("tax id"), max_length=40, blank=True, default="")
    country = CountryField(_("country"), blank=True, default="")
    industry = models.CharField(
        _("industry"), max_length=20, choices=Industry.choices, blank=True, default=""
    )
    size = models.CharField(
        _("size"), max_length=10, choices=CompanySize.choices, blank=True, default=""
    )
    source = models.CharField(
        _("source"), max_length=16, choices=LeadSource.choices, default=LeadSource.OTHER
    )
    notes = models.TextField(
        _("research notes"),
        blank=True,
        default="",
        max_length=10000,
        validators=[MaxLengthValidator(10000)],
    )
    status = models.CharField(
        _("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    web_form = models.ForeignKey(
        "LeadForm",
        verbose_name=_("web form"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        editable=False,
    )
    score = models.IntegerField(_("score"), default=0, editable=False)
    score_reasons = models.JSONField(_("score reasons"), default=list, blank=True, editable=False)
    converted_account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("converted to account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    converted_contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("converted to contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    converted_opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("converted to opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True, editable=False)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("The record's id in the system it was imported from."),
    )
    name_key = models.CharField(max_length=260, editable=False, default="")
    search_text = models.CharField(max_length=700, editable=False, default="")
    domain = models.CharField(max_length=253, editable=False, default="")

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            # Keyset pages of the lead list (newest first), per common filter, trash excluded.
            models.Index(
                fields=["-created_at", "-id"],
                name="lead_created_idx",
                condition=Q(deleted_at=None),
            ),
            models.Index(
                fields=["status", "-created_at", "-id"],
                name="lead_status_created_idx",
                condition=Q(deleted_at=None),
            ),
            models.Index(
                fields=["owner", "-created_at", "-id"],
                name="lead_owner_created_idx",
                condition=Q(deleted_at=None),
            ),
            models.Index(
                fields=["team", "-created_at", "-id"],
                name="lead_unassigned_idx",
                condition=Q(deleted_at=None, owner=None),
            ),
            models.Index(
                fields=["-score", "-id"], name="lead_score_idx", condition=Q(deleted_at=None)
            ),
            models.Index(
                fields=["name_key", "id"], name="lead_name_idx", condition=Q(deleted_at=None)
            ),
            models.Index(
                fields=["external_id"],
                name="lead_external_id_idx",
                condition=~Q(external_id="") & Q(deleted_at=None),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def person_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        """ "Ana García (Acme)", or whichever of the two is known."""
        person, company = self.person_name, self.company
        if person and company:
            return f"{person} ({company})"
        return person or company or self.email or f"#{self.pk}"

    @property
    def is_converted(self) -> bool:
        """Whether the lead already became an account, contact and deal."""
        return self.status == LeadStatus.CONVERTED

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *DERIVED_FIELDS, "updated_at"}
        super().save(*args, **kwargs)

    def refresh_search_fields(self) -> None:
        """Keep the sort, search and matching columns in step with the visible ones."""
        self.name_key = normalize(self.company or f"{self.last_name} {self.first_name}")[:260]
        self.domain = website_domain(self.website)
        self.search_text = normalize(
            " ".join((self.company, self.first_name, self.last_name, self.email, self.domain))
        )[:700]

    @property
    def tax_id_key(self) -> str:
        """The tax id reduced for matching accounts (see ``cartera.accounts.models``)."""
        return tax_id_key(self.tax_id)

    def clean(self) -> None:
        super().clean()
        if not (self.company.strip() or self.first_name.strip() or self.last_name.strip()):
            raise ValidationError({"company": _("Enter a company or a person's name.")})


class ActivityKind(models.TextChoices):
    """What kind of touch with the lead."""

    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")


class LeadActivity(TimeStampedModel):
    """A call, email, meeting or note with a lead: the engagement its score counts."""

    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    notes = models.TextField(
        _("notes"), blank=True, default="", max_length=5000, validators=[MaxLengthValidator(5000)]
    )

    class Meta:
        verbose_name = _("lead activity")
        verbose_name_plural = _("lead activities")
        indexes = [
            models.Index(fields=["lead", "-occurred_at", "-id"], name="lead_activity_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()

    def get_additional_data(self) -> dict[str, Any]:
        """Audit entries of activities show on the lead's history."""
        return {"lead_id": self.lead_id}


class LeadForm(TimeStampedModel):
    """A public web form that captures leads and routes them to a team."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("route to team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead_forms",
        help_text=_("New leads that no assignment rule matches go round robin in this team."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    title = models.CharField(_("title shown"), max_length=200, blank=True, default="")
    thank_you_text = models.TextField(
        _("thank-you text"),
        blank=True,
        default="",
        max_length=2000,
        validators=[MaxLengthValidator(2000)],
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("lead web form")
        verbose_name_plural = _("lead web forms")

    def __str__(self) -> str:
        return self.name


class RuleAction(models.TextChoices):
    """What an assignment rule does with a matching lead."""

    USER = "user", _("Assign to a person")
    ROUND_ROBIN = "round_robin", _("Round robin within a team")


class AssignmentRule(TimeStampedModel):
    """Leads matching every set criterion go to a person, or round robin within a team.

    Rules are tried in ``position`` order; the first match wins. Round robin remembers the last
    person it gave a lead to (``last_assigned``) in this row, which is locked while choosing.
    """

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    country = CountryField(_("country"), blank=True, default="")
    industry = models.CharField(
        _("industry"), max_length=20, choices=Industry.choices, blank=True, default=""
    )
    size = models.CharField(
        _("size"), max_length=10, choices=CompanySize.choices, blank=True, default=""
    )
    action = models.CharField(
        _("action"), max_length=12, choices=RuleAction.choices, default=RuleAction.USER
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.action == RuleAction.USER and self.user_id is None:
            raise ValidationError({"user": _("Choose the person who gets the leads.")})
        if self.action == RuleAction.ROUND_ROBIN and self.team_id is None:
            raise ValidationError({"team": _("Choose the team whose members take turns.")})

    def matches(self, lead: Lead) -> bool:
        """Whether every criterion set on the rule holds for ``lead`` (no criteria: all leads)."""
        return (
            (not self.country or str(self.country) == str(lead.country))
            and (not self.industry or self.industry == lead.industry)
            and (not self.size or self.size == lead.size)
        )


class TeamRotation(models.Model):
    """Round-robin pointer for a team when no rule matched (a web form's team)."""

    team = models.OneToOneField(
        "users.Team", on_delete=models.CASCADE, related_name="lead_rotation"
    )
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("team lead rotation")
        verbose_name_plural = _("team lead rotations")

    def __str__(self) -> str:
        return str(self.team)


class ScoringKind(models.TextChoices):
    """What a scoring rule looks at."""

    INDUSTRY = "industry", _("Fit: industry is")
    SIZE = "size", _("Fit: size is")
    COUNTRY = "country", _("Fit: country is")
    ACTIVITY_COUNT = "activity_count", _("Engagement: at least N activities")
    RECENT_ACTIVITY = "recent_activity", _("Engagement: activity in the last D days")


class ScoringRule(TimeStampedModel):
    """Points a lead earns (or loses) when it fits a profile or shows engagement."""

    kind = models.CharField(_("rule"), max_length=16, choices=ScoringKind.choices)
    value = models.CharField(
        _("value"),
        max_length=20,
        blank=True,
        default="",
        help_text=_("The industry, size or country code the fit rules compare with."),
    )
    threshold = models.PositiveIntegerField(
        _("N or D"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Number of activities, or days since the last one."),
    )
    points = models.IntegerField(_("points"), help_text=_("Negative points are allowed."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value or self.threshold}: {self.points:+d}"

    def clean(self) -> None:
        super().clean()
        if self.kind == ScoringKind.INDUSTRY and self.value not in Industry.values:
            raise ValidationError({"value": _("Choose an industry.")})
        if self.kind == ScoringKind.SIZE and self.value not in CompanySize.values:
            raise ValidationError({"value": _("Choose a company size.")})
        if self.kind == ScoringKind.COUNTRY:
            from django_countries import countries

            self.value = (self.value or "").upper()
            if self.value not in dict(countries):
                raise ValidationError({"value": _("Choose a country.")})
        if self.kind in {ScoringKind.ACTIVITY_COUNT, ScoringKind.RECENT_ACTIVITY}:
            self.value = ""
