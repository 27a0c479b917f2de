"""Import jobs, the rows they could not import, and saved column mappings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Self

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cartera.core.models import TimeStampedModel


class ImportKind(models.TextChoices):
    """What the rows of a file are."""

    ACCOUNTS = "accounts", _("Accounts")
    CONTACTS = "contacts", _("Contacts")
    INTERACTIONS = "interactions", _("Interactions")
    USERS = "users", _("People and teams")
    PRODUCTS = "products", _("Products")
    OPPORTUNITIES = "opportunities", _("Opportunities")
    LEADS = "leads", _("Leads")


class ImportStatus(models.TextChoices):
    """Where a job stands: uploaded → mapped → (checked) → queued → running → done."""

    UPLOADED = "uploaded", _("Uploaded")
    MAPPED = "mapped", _("Mapped")
    CHECKED = "checked", _("Dry run done")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


#: States in which the rows may still be (re)mapped and checked.
EDITABLE_STATUSES = frozenset({ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.CHECKED})
#: States from which ``start`` / ``run`` may go on.
STARTABLE_STATUSES = frozenset({ImportStatus.MAPPED, ImportStatus.CHECKED})
#: States in which the job is finished for good.
FINAL_STATUSES = frozenset({ImportStatus.DONE, ImportStatus.CANCELLED})


class ImportFormat(models.TextChoices):
    """File formats Cartera reads."""

    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ImportJobQuerySet(models.QuerySet["ImportJob"]):
    """Reusable filters over import jobs."""

    def visible_to(self, user: Any) -> Self:
        """A person sees their own jobs; administrators see everyone's."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_admin:
            return self
        return self.filter(user=user)


class ImportJob(TimeStampedModel):
    """One file being imported: detection, mapping, progress, counts and checkpoint."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="import_jobs",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    # The file.
    file_name = models.CharField(_("file name"), max_length=255)
    file_path = models.CharField(max_length=500, editable=False, default="")
    file_size = models.BigIntegerField(_("file size"), default=0)
    format = models.CharField(_("format"), max_length=4, choices=ImportFormat.choices)
    encoding = models.CharField(_("encoding"), max_length=40, blank=True, default="")
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True, default="")
    sheet = models.CharField(_("sheet"), max_length=100, blank=True, default="")
    headers = models.JSONField(_("columns"), default=list)
    # What to do with it.
    mapping = models.JSONField(_("column mapping"), default=dict)
    match_order = models.JSONField(_("match order"), default=list)
    options = models.JSONField(_("options"), default=dict)
    mapping_name = models.CharField(_("saved mapping"), max_length=100, blank=True, default="")
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner of new accounts"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Progress (committed with each batch).
    total_rows = models.PositiveIntegerField(_("rows (estimate)"), default=0)
    total_is_exact = models.BooleanField(default=False)
    processed_rows = models.PositiveIntegerField(_("processed rows"), default=0)
    checkpoint_row = models.PositiveIntegerField(default=0, editable=False)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    warning_count = models.PositiveIntegerField(_("warnings"), default=0)
    rows_per_second = models.FloatField(_("rows per second"), default=0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    run_token = models.CharField(max_length=32, blank=True, default="", editable=False)
    run_seconds = models.FloatField(default=0, editable=False)
    error_message = models.TextField(_("error"), blank=True, default="")
    # The last dry run (None: none yet).
    dry_run_at = models.DateTimeField(_("dry run"), null=True, blank=True)
    dry_run_rows = models.PositiveIntegerField(null=True, blank=True)
    dry_run_complete = models.BooleanField(default=False)
    dry_run_created = models.PositiveIntegerField(null=True, blank=True)
    dry_run_updated = models.PositiveIntegerField(null=True, blank=True)
    dry_run_unchanged = models.PositiveIntegerField(null=True, blank=True)
    dry_run_rejected = models.PositiveIntegerField(null=True, blank=True)
    dry_run_warnings = models.PositiveIntegerField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="import_job_user_idx"),
            models.Index(fields=["-created_at", "-id"], name="import_job_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file_name}"

    @property
    def is_finished(self) -> bool:
        """Done, failed or cancelled: nothing runs any more."""
        return self.status in {ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED}

    @property
    def is_active(self) -> bool:
        """Queued or running: a progress bar is worth polling."""
        return self.status in {ImportStatus.QUEUED, ImportStatus.RUNNING}

    @property
    def can_edit_mapping(self) -> bool:
        """The mapping may still change (nothing was imported yet)."""
        return self.status in EDITABLE_STATUSES

    @property
    def can_start(self) -> bool:
        """Mapped (and maybe dry-run) and not started yet."""
        return self.status in STARTABLE_STATUSES

    @property
    def can_resume(self) -> bool:
        """Stopped part-way (failed, or a worker died while running)."""
        return self.status in {ImportStatus.FAILED, ImportStatus.RUNNING, ImportStatus.QUEUED}

    @property
    def can_cancel(self) -> bool:
        """Not finished yet."""
        return self.status not in FINAL_STATUSES

    @property
    def has_dry_run(self) -> bool:
        """A dry run's counts are available."""
        return self.dry_run_at is not None

    @property
    def percent(self) -> int:
        """Processed rows as a percentage of the (estimated) total, 0-100."""
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        return max(0, min(99, int(self.processed_rows * 100 / self.total_rows)))

    @property
    def eta(self) -> timedelta | None:
        """Time left at the current speed, while running."""
        if self.status != ImportStatus.RUNNING or self.rows_per_second <= 0:
            return None
        left = max(0, self.total_rows - self.processed_rows)
        return timedelta(seconds=round(left / self.rows_per_second))

    @property
    def duration(self) -> timedelta | None:
        """Time spent importing (excluding pauses between a crash and the resume)."""
        if self.started_at is None:
            return None
        if self.run_seconds:
            return timedelta(seconds=round(self.run_seconds, 1))
        end = self.finished_at or timezone.now()
        return end - self.started_at

    @property
    def issue_count(self) -> int:
        """Rejected rows plus warnings of the real run."""
        return self.rejected_count + self.warning_count


class IssueSeverity(models.TextChoices):
    """Whether the row was left out or imported with a value left out."""

    ERROR = "error", pgettext_lazy("import row", "Rejected")
    WARNING = "warning", _("Warning")


class ImportRowIssue(models.Model):
    """A row that was rejected (or imported with a warning), with the reason and its values."""

    job = models.ForeignKey(
        ImportJob, verbose_name=_("import"), on_delete=models.CASCADE, related_name="issues"
    )
    dry_run = models.BooleanField(default=False)
    severity = models.CharField(
        _("severity"), max_length=8, choices=IssueSeverity.choices, default=IssueSeverity.ERROR
    )
    row_number = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=255, blank=True, default="")
    field = models.CharField(_("field"), max_length=50, blank=True, default="")
    reason = models.TextField(_("reason"))
    values = models.JSONField(_("values"), default=list)

    class Meta:
        verbose_name = _("import issue")
        verbose_name_plural = _("import issues")
        ordering = ["row_number", "id"]
        indexes = [
            models.Index(fields=["job", "dry_run", "row_number"], name="import_issue_job_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.reason}"


class ImportDeferredLink(models.Model):
    """A reference a row made to a record the file had not reached yet (a parent account later
    in the file): resolved in the second pass after the last batch."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="deferred_links")
    row_number = models.PositiveIntegerField()
    object_id = models.BigIntegerField()
    field = models.CharField(max_length=50)
    column = models.CharField(max_length=255, blank=True, default="")
    value = models.CharField(max_length=300)

    class Meta:
        indexes = [models.Index(fields=["job", "row_number"], name="import_deferred_job_idx")]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.field} = {self.value}"


class ImportMapping(TimeStampedModel):
    """A column mapping saved under a name, reused for files with the same columns."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="import_mappings",
    )
    mapping = models.JSONField(_("column mapping"), default=dict)
    match_order = models.JSONField(_("match order"), default=list)

    class Meta:
        verbose_name = _("saved import mapping")
        verbose_name_plural = _("saved import mappings")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "kind", "name"], name="import_mapping_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name
