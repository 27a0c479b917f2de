"""Abstract base models shared by every app."""

from __future__ import annotations

from typing import Self

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Creation and last-change times."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimeStampedModel):
    """A row with an optimistic-concurrency version, bumped by every service write."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    @property
    def etag(self) -> str:
        """Strong entity tag for HTTP caching and ``If-Match``."""
        return f'"{self.pk}-{self.version}"'


class SoftDeleteQuerySet(models.QuerySet):
    """Queries over rows that can be moved to the trash and restored."""

    def alive(self) -> Self:
        """Rows not in the trash."""
        return self.filter(deleted_at__isnull=True)

    def trashed(self) -> Self:
        """Rows in the trash."""
        return self.filter(deleted_at__isnull=False)


class SoftDeleteModel(VersionedModel):
    """A versioned row that is moved to the trash instead of deleted."""

    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)
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
        abstract = True

    @property
    def is_deleted(self) -> bool:
        """Whether the row is in the trash."""
        return self.deleted_at is not None


class ScheduledRun(models.Model):
    """One enqueued run of a scheduled job (``cartera.core.scheduler``).

    ``(name, slot)`` is unique: of several workers that see the same cron slot pass, the one
    whose insert succeeds enqueues the task and the others skip it. Runs started by hand
    (``cartera schedule --run``) are recorded with ``manual`` set and the time as their slot.
    """

    name = models.CharField(_("job"), max_length=100)
    slot = models.DateTimeField(_("slot"))
    enqueued_at = models.DateTimeField(_("enqueued"), default=timezone.now)
    task_id = models.CharField(_("task id"), max_length=64, blank=True, default="")
    manual = models.BooleanField(_("started by hand"), default=False)

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        constraints = [
            models.UniqueConstraint(fields=["name", "slot"], name="scheduled_run_once_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.slot.isoformat()}"
