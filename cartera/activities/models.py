"""Interactions: one timeline per account and per contact."""

from __future__ import annotations

from typing import Any, Self

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cartera.accounts.models import Account
from cartera.contacts.models import Contact
from cartera.core.models import VersionedModel


class InteractionKind(models.TextChoices):
    """What happened."""

    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")
    STATUS_CHANGE = "status_change", _("Status change")


class Direction(models.TextChoices):
    """Who reached out."""

    OUTBOUND = "outbound", _("Outbound")
    INBOUND = "inbound", _("Inbound")


class InteractionQuerySet(models.QuerySet):
    """Reusable filters over interactions."""

    def visible_to(self, user: Any) -> Self:
        """Interactions follow their account."""
        from cartera.users.access import scope_user_ids

        if scope_user_ids(user) is None:
            return self
        return self.filter(account__in=Account.objects.visible_to(user).values("pk"))


class Interaction(VersionedModel):
    """A call, email, meeting, note or status change on an account (and maybe one contact)."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="interactions"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    kind = models.CharField(_("type"), max_length=14, choices=InteractionKind.choices)
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.OUTBOUND
    )
    subject = models.CharField(_("subject"), max_length=200)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("The record's id in the system it was imported from."),
    )
    body = models.TextField(
        _("details"),
        blank=True,
        default="",
        max_length=50000,
        validators=[MaxLengthValidator(50000)],
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )

    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["account", "-occurred_at", "-id"], name="interaction_account_idx"),
            models.Index(fields=["contact", "-occurred_at", "-id"], name="interaction_contact_idx"),
            models.Index(fields=["-occurred_at", "-id"], name="interaction_recent_idx"),
            # Import matching by the id the interaction had in the system it came from.
            models.Index(
                fields=["external_id"],
                name="interaction_external_id_idx",
                condition=~Q(external_id=""),
            ),
        ]

    def __str__(self) -> str:
        return self.subject
