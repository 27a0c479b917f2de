"""Contacts: the people at customer accounts, and which accounts they belong to."""

from __future__ import annotations

from typing import Any, Self

from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from cartera.accounts.models import Account
from cartera.core.models import SoftDeleteModel, SoftDeleteQuerySet, TimeStampedModel
from cartera.core.text import normalize


class BuyingRole(models.TextChoices):
    """The part a person plays in a purchase."""

    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")


class Channel(models.TextChoices):
    """How a contact prefers to be reached."""

    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    MOBILE = "mobile", _("Mobile / messaging")
    VIDEO = "video", _("Video call")
    IN_PERSON = "in_person", _("In person")


class ReportPreference(models.TextChoices):
    """What kind of report a contact wants."""

    DETAILED = "detailed", _("Detailed report")
    BRIEF = "brief", _("Brief summary")


class ContactQuerySet(SoftDeleteQuerySet):
    """Reusable filters over contacts."""

    def visible_to(self, user: Any) -> Self:
        """Contacts follow their accounts: visible when linked to an account ``user`` sees."""
        from cartera.users.access import scope_user_ids

        if scope_user_ids(user) is None:
            return self
        links = ContactAccount.objects.filter(
            contact_id=OuterRef("pk"),
            account__in=Account.objects.visible_to(user).alive().values("pk"),
        )
        return self.filter(Exists(links))


class Contact(SoftDeleteModel):
    """A person at one or more customer accounts."""

    first_name = models.CharField(_("first name"), max_length=100)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("The record's id in the system it was imported from."),
    )
    last_name = models.CharField(_("last name"), max_length=150, blank=True, default="")
    email = models.EmailField(_("email"), blank=True, default="")
    secondary_email = models.EmailField(_("secondary email"), blank=True, default="")
    phone = PhoneNumberField(_("phone"), blank=True, default="")
    mobile = PhoneNumberField(_("mobile"), blank=True, default="")
    job_title = models.CharField(_("job title"), max_length=150, blank=True, default="")
    buying_role = models.CharField(
        _("buying role"), max_length=20, choices=BuyingRole.choices, blank=True, default=""
    )
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=12, choices=Channel.choices, default=Channel.EMAIL
    )
    report_preference = models.CharField(
        _("report preference"),
        max_length=10,
        choices=ReportPreference.choices,
        default=ReportPreference.BRIEF,
    )
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    special_requests = models.TextField(
        _("special requests and preferences"),
        blank=True,
        default="",
        max_length=5000,
        validators=[MaxLengthValidator(5000)],
    )
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    accounts: models.ManyToManyField[Account, ContactAccount] = models.ManyToManyField(
        Account, through="ContactAccount", related_name="contacts", verbose_name=_("accounts")
    )
    name_key = models.CharField(max_length=260, editable=False, default="")
    search_text = models.CharField(max_length=700, editable=False, default="")

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(
                fields=["name_key", "id"], name="contact_name_idx", condition=Q(deleted_at=None)
            ),
            models.Index(
                fields=["-updated_at", "-id"],
                name="contact_updated_idx",
                condition=Q(deleted_at=None),
            ),
            models.Index(fields=["email"], name="contact_email_idx"),
            # Import matching: one lookup per key per batch, among contacts not in the trash.
            models.Index(
                fields=["external_id"],
                name="contact_external_id_idx",
                condition=~Q(external_id="") & Q(deleted_at=None),
            ),
            models.Index(
                Lower("email"),
                name="contact_email_lower_idx",
                condition=~Q(email="") & Q(deleted_at=None),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "name_key", "search_text", "updated_at"}
        super().save(*args, **kwargs)

    def refresh_search_fields(self) -> None:
        """Keep the normalised sort and search columns in step with the visible ones."""
        self.name_key = normalize(f"{self.last_name} {self.first_name}")[:260]
        digits = "".join(ch for ch in f"{self.phone} {self.mobile}" if ch.isdigit() or ch == " ")
        self.search_text = normalize(
            " ".join([self.first_name, self.last_name, self.email, self.secondary_email, digits])
        )[:700]


class ContactAccount(TimeStampedModel):
    """A contact's link to an account, with the title they hold there."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="account_links"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="contact_links"
    )
    is_primary = models.BooleanField(_("primary account"), default=True)

    class Meta:
        verbose_name = _("contact's account")
        verbose_name_plural = _("contacts' accounts")
        constraints = [
            models.UniqueConstraint(fields=["contact", "account"], name="contact_account_unique")
        ]
        indexes = [models.Index(fields=["account", "contact"], name="contact_account_account_idx")]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.account}"

    def get_additional_data(self) -> dict[str, Any]:
        """Audit entries of links show on both the contact's and the account's history."""
        return {"account_id": self.account_id, "contact_id": self.contact_id}
