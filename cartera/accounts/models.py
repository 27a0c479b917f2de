"""Customer accounts: the companies an account team looks after."""

from __future__ import annotations

import re
from typing import Any, Self

from babel.numbers import list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField

from cartera.core.models import SoftDeleteModel, SoftDeleteQuerySet, TimeStampedModel
from cartera.core.text import normalize
from cartera.users.access import scope_user_ids


class AccountStatus(models.TextChoices):
    """Where the relationship stands."""

    PROSPECT = "prospect", _("Prospect")
    ONBOARDING = "onboarding", _("Onboarding")
    ACTIVE = "active", pgettext_lazy("account status", "Active")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")


class Tier(models.TextChoices):
    """Commercial importance of the account."""

    A = "a", _("Tier A")
    B = "b", _("Tier B")
    C = "c", _("Tier C")


class Industry(models.TextChoices):
    """Sector the account works in."""

    AGENCY = "agency", _("Agency and marketing")
    SOFTWARE = "software", _("Software and SaaS")
    TECHNOLOGY = "technology", _("Technology and hardware")
    TELECOM = "telecom", _("Telecommunications")
    DISTRIBUTION = "distribution", _("Distribution and wholesale")
    RETAIL = "retail", _("Retail")
    FOOD = "food", _("Food and beverage")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    FINANCE = "finance", _("Finance and insurance")
    HEALTHCARE = "healthcare", _("Healthcare")
    EDUCATION = "education", _("Education")
    PUBLIC = "public", _("Public sector")
    ENERGY = "energy", _("Energy and utilities")
    REAL_ESTATE = "real_estate", _("Real estate")
    SERVICES = "services", _("Professional services")
    LOGISTICS = "logistics", _("Transport and logistics")
    MEDIA = "media", _("Media and entertainment")
    OTHER = "other", _("Other")


class CompanySize(models.TextChoices):
    """Headcount band."""

    MICRO = "1-10", _("1-10 employees")
    SMALL = "11-50", _("11-50 employees")
    MEDIUM = "51-200", _("51-200 employees")
    LARGE = "201-1000", _("201-1,000 employees")
    ENTERPRISE = "1001-5000", _("1,001-5,000 employees")
    HUGE = "5000+", _("More than 5,000 employees")


class TeamRole(models.TextChoices):
    """A person's role on one account's team."""

    COORDINATOR = "coordinator", _("Account coordinator")
    EXECUTIVE = "executive", _("Account executive / manager")
    KAM = "kam", _("Key account manager")


class Tag(TimeStampedModel):
    """A free label to group accounts."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


#: VAT prefixes of EU countries (and the UK): "ES B12345678" and "B12345678" are one tax id.
_VAT_PREFIXES = frozenset(
    {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "GB", "HR", "HU"}
    | {"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI"}
)
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def website_domain(value: str | None) -> str:
    """The host of a website or email domain, lower-case, without ``www.``, port or path.

    ``"https://WWW.Acme.com:8080/es/"`` → ``"acme.com"``; ``"acme.com"`` → ``"acme.com"``.
    """
    text = (value or "").strip().lower()
    if not text:
        return ""
    host = text.split("//", 1)[-1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    return host.removeprefix("www.")[:253]


def tax_id_key(value: str | None) -> str:
    """A tax id reduced to compare equal however it was typed.

    Upper-case letters and digits only, without the EU VAT country prefix:
    ``"es-B 12.345.678"`` and ``"B12345678"`` both give ``"B12345678"``.
    """
    key = _NOT_ALNUM.sub("", (value or "").upper())
    if len(key) >= 10 and key[:2] in _VAT_PREFIXES and any(ch.isdigit() for ch in key[2:4]):
        key = key[2:]
    return key[:40]


class AccountQuerySet(SoftDeleteQuerySet):
    """Reusable filters over accounts."""

    def visible_to(self, user: Any) -> Self:
        """Accounts ``user`` may see: owned by or teamed with someone in their scope."""
        scope = scope_user_ids(user)
        if scope is None:
            return self
        if not scope:
            return self.none()
        on_team = AccountTeamMember.objects.filter(account_id=OuterRef("pk"), user_id__in=scope)
        return self.filter(Q(owner_id__in=scope) | Exists(on_team))


#: Columns ``refresh_search_fields()`` computes; saved with every ``update_fields`` save.
DERIVED_FIELDS = ("name_key", "search_text", "domain", "tax_id_key")


class Account(SoftDeleteModel):
    """A customer company (or prospect) and everything the team knows about it."""

    name = models.CharField(_("name"), max_length=200)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("The record's id in the system it was imported from."),
    )
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True, default="")
    tax_id = models.CharField(_("tax id"), max_length=40, blank=True, default="")
    industry = models.CharField(
        _("industry"), max_length=20, choices=Industry.choices, blank=True, default=""
    )
    size = models.CharField(
        _("size"), max_length=10, choices=CompanySize.choices, blank=True, default=""
    )
    website = models.URLField(_("website"), max_length=300, blank=True, default="")
    phone = PhoneNumberField(_("phone"), blank=True, default="")
    email = models.EmailField(_("email"), blank=True, default="")
    street = models.CharField(_("street address"), max_length=200, blank=True, default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="")
    region = models.CharField(_("region / province"), max_length=100, blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True, default="")
    country = CountryField(_("country"), blank=True, default="")
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices, default=Tier.C)
    is_key_account = models.BooleanField(_("key account"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=AccountStatus.choices, default=AccountStatus.PROSPECT
    )
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    description = models.TextField(
        _("description"),
        blank=True,
        default="",
        max_length=10000,
        validators=[MaxLengthValidator(10000)],
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_accounts",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="accounts")
    name_key = models.CharField(max_length=200, editable=False, default="")
    search_text = models.CharField(max_length=700, editable=False, default="")
    domain = models.CharField(max_length=253, editable=False, default="")
    tax_id_key = models.CharField(max_length=40, editable=False, default="")

    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [
            # Keyset pages of the account list, each sort and common filter (trash excluded).
            models.Index(
                fields=["name_key", "id"], name="account_name_idx", condition=Q(deleted_at=None)
            ),
            models.Index(
                fields=["owner", "name_key", "id"],
                name="account_owner_name_idx",
                condition=Q(deleted_at=None),
            ),
            models.Index(
                fields=["status", "name_key", "id"],
                name="account_status_name_idx",
                condition=Q(deleted_at=None),
            ),
            models.Index(
                fields=["-updated_at", "-id"],
                name="account_updated_idx",
                condition=Q(deleted_at=None),
            ),
            models.Index(
                fields=["-deleted_at"], name="account_trash_idx", condition=~Q(deleted_at=None)
            ),
            models.Index(fields=["tax_id"], name="account_tax_id_idx"),
            # Import matching: one lookup per key per batch, among accounts not in the trash.
            models.Index(
                fields=["external_id"],
                name="account_external_id_idx",
                condition=~Q(external_id="") & Q(deleted_at=None),
            ),
            models.Index(
                fields=["tax_id_key"],
                name="account_tax_id_key_idx",
                condition=~Q(tax_id_key="") & Q(deleted_at=None),
            ),
            models.Index(
                fields=["domain"],
                name="account_domain_idx",
                condition=~Q(domain="") & Q(deleted_at=None),
            ),
            models.Index(
                Lower("email"),
                name="account_email_lower_idx",
                condition=~Q(email="") & Q(deleted_at=None),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *DERIVED_FIELDS, "updated_at"}
        super().save(*args, **kwargs)

    def refresh_search_fields(self) -> None:
        """Keep the derived columns (sort, search, matching keys) in step with the visible ones.

        The one place they are computed: ``save()``, the demo generator and the bulk importer
        all call it.
        """
        self.name_key = normalize(self.name)[:200]
        self.domain = website_domain(self.website)
        self.tax_id_key = tax_id_key(self.tax_id)
        self.search_text = normalize(
            " ".join([self.name, self.legal_name, self.tax_id, self.domain, self.email, self.city])
        )[:700]

    def clean(self) -> None:
        super().clean()
        if self.parent_id is not None and self.pk is not None:
            ancestor, seen = self.parent, set()
            while ancestor is not None and ancestor.pk not in seen:
                if ancestor.pk == self.pk:
                    raise ValidationError(
                        {"parent": _("An account cannot be its own parent or ancestor.")}
                    )
                seen.add(ancestor.pk)
                ancestor = ancestor.parent
        self.currency = (self.currency or "").upper()
        if self.currency not in list_currencies():
            raise ValidationError({"currency": _("Enter a three-letter ISO 4217 currency code.")})


class AccountTeamMember(TimeStampedModel):
    """A person on an account's team, with their role there."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="team_members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="account_memberships",
    )
    role = models.CharField(_("role"), max_length=12, choices=TeamRole.choices)

    class Meta:
        verbose_name = _("account team member")
        verbose_name_plural = _("account team members")
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="account_team_member_unique")
        ]
        indexes = [models.Index(fields=["user", "account"], name="account_team_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"

    def get_additional_data(self) -> dict[str, Any]:
        """Audit entries of team changes show on the account's history."""
        return {"account_id": self.account_id}
