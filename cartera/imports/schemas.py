"""API shapes of import jobs: the job with its progress and counts, its preview and mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from cartera.core.api import NUL_MESSAGE, Id, InputSchema
from cartera.users.schemas import UserRef

from .models import ImportJob, ImportKind, ImportRowIssue
from .readers import encoding_label
from .selectors import job_issues

#: Issues listed in a job's detail (the error CSV has them all).
DETAIL_ISSUES = 100

Header = Annotated[str, StringConstraints(max_length=255)]
FieldName = Annotated[str, StringConstraints(max_length=50)]


class DryRunOut(Schema):
    """What the last dry run found (nothing was written)."""

    at: datetime
    rows: int = Field(description="Rows checked")
    complete: bool = Field(description="Whether every row of the file was checked")
    created: int
    updated: int
    unchanged: int
    rejected: int
    warnings: int


class ImportJobOut(Schema):
    """An import job: the file, what was detected, the mapping, progress and counts."""

    pk: int
    kind: ImportKind
    status: str = Field(
        description="uploaded → mapped → checked (dry run done) → queued → running → "
        "done | failed | cancelled"
    )
    user: UserRef
    file_name: str
    file_size: int = Field(description="Bytes")
    format: str = Field(description="csv or xlsx")
    encoding: str = Field(description="Detected (or given) text encoding of a CSV file")
    encoding_label: str = Field(description="The encoding as people call it: 'Windows-1252'")
    delimiter: str
    sheet: str = Field(description="Worksheet read from an XLSX file")
    headers: list[str] = Field(description="Column names in the file's order")
    mapping: dict[str, str] = Field(description="Column name → field; unmapped columns skipped")
    match_order: list[str] = Field(description="Keys existing records are matched by, in order")
    mapping_name: str = Field(description="Saved mapping this job used or saved, if any")
    default_owner: int | None = Field(
        description="Id of the person who owns the accounts it creates (null: the uploader)"
    )
    total_rows: int = Field(description="Data rows in the file (an estimate unless exact)")
    total_is_exact: bool
    processed_rows: int
    percent: int = Field(description="Progress in percent (0 to 100)")
    created: int
    updated: int
    unchanged: int
    rejected: int
    warnings: int = Field(description="Rows imported with a value left out")
    rows_per_second: float
    eta_seconds: int | None = Field(description="Time left at the current speed, while running")
    duration_seconds: float | None
    started_at: datetime | None
    finished_at: datetime | None
    error_message: str
    dry_run: DryRunOut | None = Field(description="The last dry run, if one was made")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_default_owner(obj: ImportJob) -> int | None:
        """The owner's id (no extra query per job in lists)."""
        return obj.default_owner_id

    @staticmethod
    def resolve_encoding_label(obj: ImportJob) -> str:
        """Human name of the encoding."""
        return encoding_label(obj.encoding) if obj.encoding else ""

    @staticmethod
    def resolve_created(obj: ImportJob) -> int:
        """Rows that created a record."""
        return obj.created_count

    @staticmethod
    def resolve_updated(obj: ImportJob) -> int:
        """Rows that changed an existing record."""
        return obj.updated_count

    @staticmethod
    def resolve_unchanged(obj: ImportJob) -> int:
        """Rows equal to the record they matched (nothing written)."""
        return obj.unchanged_count

    @staticmethod
    def resolve_rejected(obj: ImportJob) -> int:
        """Rows left out, with a reason in the error report."""
        return obj.rejected_count

    @staticmethod
    def resolve_warnings(obj: ImportJob) -> int:
        """Rows imported with a value left out."""
        return obj.warning_count

    @staticmethod
    def resolve_eta_seconds(obj: ImportJob) -> int | None:
        """Seconds left, while running."""
        eta = obj.eta
        return None if eta is None else int(eta.total_seconds())

    @staticmethod
    def resolve_duration_seconds(obj: ImportJob) -> float | None:
        """Seconds spent importing."""
        duration = obj.duration
        return None if duration is None else round(duration.total_seconds(), 1)

    @staticmethod
    def resolve_dry_run(obj: ImportJob) -> DryRunOut | None:
        """The last dry run's counts."""
        if obj.dry_run_at is None:
            return None
        return DryRunOut(
            at=obj.dry_run_at,
            rows=obj.dry_run_rows or 0,
            complete=obj.dry_run_complete,
            created=obj.dry_run_created or 0,
            updated=obj.dry_run_updated or 0,
            unchanged=obj.dry_run_unchanged or 0,
            rejected=obj.dry_run_rejected or 0,
            warnings=obj.dry_run_warnings or 0,
        )


class IssueOut(Schema):
    """A row the import rejected (or imported with a value left out), and why."""

    row: int = Field(description="Row number as a spreadsheet shows it (the header is row 1)")
    column: str
    field: str
    severity: str = Field(description="error (row rejected) or warning (value left out)")
    reason: str

    @staticmethod
    def resolve_row(obj: ImportRowIssue) -> int:
        """The spreadsheet row number."""
        return obj.row_number


class ImportJobDetailOut(ImportJobOut):
    """A job with its first issues (the real run's once started, else the dry run's)."""

    issues: list[IssueOut] = Field(
        description="The first problems found; GET …/errors has every rejected row as CSV"
    )

    @staticmethod
    def resolve_issues(obj: ImportJob) -> list[ImportRowIssue]:
        """The first issues of the real run once it started, else of the last dry run."""
        return job_issues(obj, limit=DETAIL_ISSUES)


class ChoiceOut(Schema):
    """A value and its label in the caller's language."""

    value: str
    label: str


class PreviewOut(Schema):
    """The first rows of the file, the mapping, and the fields and keys to choose from."""

    headers: list[str]
    rows: list[list[str]] = Field(description="Sample rows, one value per header")
    row_numbers: list[int]
    mapping: dict[str, str]
    match_order: list[str]
    format: str
    encoding: str
    encoding_label: str
    delimiter: str
    delimiter_label: str
    sheet: str
    total_rows: int
    total_is_exact: bool
    fields: list[ChoiceOut] = Field(description="Fields a column can be mapped to")
    match_keys: list[ChoiceOut] = Field(description="Keys existing records can be matched by")
    unmapped: list[str] = Field(description="Columns that will not be imported")
    missing: list[str] = Field(description="What the mapping still lacks, in words")


class MappingIn(InputSchema):
    """Which column goes to which field, and how existing records are found."""

    mapping: dict[Header, FieldName | None] = Field(
        description='Column name → field name; null or "" skips the column. Columns left '
        "out are skipped."
    )
    match_order: list[FieldName] | None = Field(
        None,
        max_length=10,
        description="Keys to match existing records by, in order (default: the kind's usual "
        "order; [] creates every row)",
    )
    save_as: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="Save the mapping under this name for files with the same columns"
    )
    owner: Id | None = Field(
        None, description="Person who owns the accounts the import creates (default: you)"
    )
    defaults: dict[FieldName, Annotated[str, StringConstraints(max_length=1000)]] | None = Field(
        None, description='Values for fields the file leaves empty, e.g. {"currency": "USD"}'
    )
    stage_map: (
        dict[
            Annotated[str, StringConstraints(max_length=80)],
            Annotated[str, StringConstraints(max_length=80)],
        ]
        | None
    ) = Field(
        None,
        description="Opportunities: the file's stages → the pipeline's, e.g. "
        '{"Engaging": "Qualification"}',
    )
    add_stages: bool | None = Field(
        None,
        description="Opportunities: add the stages the pipeline lacks (administrators and "
        "directors)",
    )

    @field_validator("mapping", "defaults", mode="before")
    @classmethod
    def _no_nul_in_keys_or_values(cls, value: object) -> object:
        """NUL cannot be stored (PostgreSQL), in a column name or a value alike."""
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in str(key) or (isinstance(item, str) and "\x00" in item):
                    raise PydanticCustomError("nul_character", str(NUL_MESSAGE))
        return value
