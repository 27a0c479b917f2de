"""``cartera export``: a filtered list of accounts, contacts or interactions to CSV or XLSX.

The same columns, filters and visibility as the list pages' "Export" buttons and the API, as the
person named by ``--user`` would see them (in their language and time zone).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import zoneinfo
from argparse import ArgumentParser, RawDescriptionHelpFormatter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict
from django.utils import timezone, translation
from pydantic import BaseModel
from tqdm import tqdm

from cartera.core.errors import InvalidInput
from cartera.core.export import (
    FORMATS,
    ExportFormat,
    ExportSpec,
    export_filename,
    write_csv,
    write_xlsx,
)
from cartera.core.filters import parse_filters
from cartera.users.models import User

#: Bad input (unknown person, filter, value or format) exits with 2, as argparse does.
USAGE_ERROR = 2


@dataclass(frozen=True)
class Kind:
    """What ``cartera export KIND`` reads: the column spec, the list's filters, the rows."""

    spec: ExportSpec[Any]
    filters: type[BaseModel]
    rows: Callable[[User, Any], Iterator[Any]]


def kinds() -> dict[str, Kind]:
    """The exportable lists, by the name the command takes."""
    from cartera.accounts.exports import ACCOUNT_EXPORT
    from cartera.accounts.filters import AccountFilters
    from cartera.accounts.selectors import account_export_rows
    from cartera.activities.exports import INTERACTION_EXPORT
    from cartera.activities.filters import InteractionFilters
    from cartera.activities.selectors import interaction_export_rows
    from cartera.contacts.exports import CONTACT_EXPORT
    from cartera.contacts.filters import ContactFilters
    from cartera.contacts.selectors import contact_export_rows

    return {
        "accounts": Kind(ACCOUNT_EXPORT, AccountFilters, account_export_rows),
        "contacts": Kind(CONTACT_EXPORT, ContactFilters, contact_export_rows),
        "interactions": Kind(INTERACTION_EXPORT, InteractionFilters, interaction_export_rows),
    }


def filter_keys(model: type[BaseModel]) -> list[str]:
    """The filter names a list takes."""
    return list(model.model_fields)


EPILOG = """\
filters (as on the list pages; repeat --filter or comma-join values for several):
  accounts      {accounts}
  contacts      {contacts}
  interactions  {interactions}

examples:
  cartera export accounts --user ana@example.com --filter status=active,at_risk
  cartera export contacts --user ana@example.com --format xlsx -o contacts.xlsx
  cartera export interactions --user ana@example.com --filter kind=call -o - | head

Only what that person may see is exported. CSV is UTF-8 with a byte-order mark (Excel reads
accents right; --no-bom leaves it out); XLSX has typed cells and dates in the person's time
zone. Cells that a spreadsheet would run as a formula (=, +, -, @) are prefixed with a quote.
"""


def parse_filter_options(model: type[BaseModel], pairs: list[str]) -> BaseModel:
    """``["status=active", "tag=a,b"]`` → the list's filter model, validated as the page does."""
    query = QueryDict(mutable=True)
    known = filter_keys(model)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CommandError(
                f"--filter {pair!r}: write it as KEY=VALUE, e.g. --filter status=active.",
                returncode=USAGE_ERROR,
            )
        if key not in known:
            raise CommandError(
                f"Unknown filter {key!r}. Filters: {', '.join(known)}.", returncode=USAGE_ERROR
            )
        query.appendlist(key, value.strip())
    try:
        return parse_filters(model, query)
    except InvalidInput as error:
        problems = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.field_errors.items()
        )
        raise CommandError(f"Invalid filter: {problems}", returncode=USAGE_ERROR) from error


def find_exporter(email: str) -> User:
    """The active person the export is made for."""
    user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    if user is None:
        raise CommandError(f"No active person with the email {email}.", returncode=USAGE_ERROR)
    return user


def user_time_zone(user: User) -> zoneinfo.ZoneInfo | Any:
    """The person's time zone, else the server's."""
    if user.time_zone:
        try:
            return zoneinfo.ZoneInfo(user.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


class Command(BaseCommand):
    """Export a list as a person sees it."""

    # A read that touches no schema: like dumpdata, it skips the system checks (seconds).
    requires_system_checks: list[str] = []

    help = (
        "Export the accounts, contacts or interactions a person sees, filtered as on the list\n"
        "pages, to a CSV or Excel (XLSX) file. Progress and a summary go to standard error\n"
        "(--verbosity 0 leaves them out); exit code 2 means bad input, nothing written."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        """Keep the epilog's layout and list each kind's filters in it."""
        parser = super().create_parser(
            prog_name, subcommand, formatter_class=RawDescriptionHelpFormatter, **kwargs
        )
        parser.epilog = EPILOG.format(
            **{name: ", ".join(filter_keys(kind.filters)) for name, kind in kinds().items()}
        )
        return parser

    def add_arguments(self, parser: ArgumentParser) -> None:
        """The kind, the person, the format, where to write and the filters."""
        parser.add_argument("kind", choices=list(kinds()), help="what to export")
        parser.add_argument(
            "--user",
            required=True,
            metavar="EMAIL",
            help="export what this person sees, in their language and time zone",
        )
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=FORMATS,
            default=None,
            help="csv or xlsx (default: from the --output name's extension, else csv)",
        )
        parser.add_argument(
            "--output",
            "-o",
            metavar="FILE",
            default=None,
            help=(
                "where to write; '-' for standard output (default: "
                "cartera-KIND-YYYY-MM-DD.csv|xlsx in the current directory)"
            ),
        )
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            dest="filters",
            help="a list filter, e.g. status=active or tag=vip,spain (repeatable)",
        )
        parser.add_argument(
            "--no-bom", action="store_true", help="leave the byte-order mark out of a CSV"
        )

    def handle(
        self,
        *args: Any,
        kind: str,
        user: str,
        fmt: ExportFormat | None,
        output: str | None,
        filters: list[str],
        no_bom: bool,
        verbosity: int = 1,
        **options: Any,
    ) -> None:
        """Validate everything first, then write the file (never half a file on failure)."""
        chosen = kinds()[kind]
        person = find_exporter(user)
        parsed = parse_filter_options(chosen.filters, filters)
        if fmt is None:
            fmt = "xlsx" if output and output.lower().endswith(".xlsx") else "csv"
        language = person.language or settings.LANGUAGE_CODE
        tz = user_time_zone(person)
        with translation.override(language), timezone.override(tz):
            target = output or export_filename(chosen.spec, fmt)
            to_stdout = target == "-"
            stdout = self._binary_stdout() if to_stdout else None
            if stdout is not None and fmt == "xlsx" and _is_terminal(stdout):
                raise CommandError(
                    "An Excel file is binary: redirect standard output or use --output FILE.",
                    returncode=USAGE_ERROR,
                )
            rows = chosen.rows(person, parsed)
            progress = tqdm(
                rows,
                unit=" rows",
                desc=f"Exporting {kind}",
                file=self._stderr_stream(),
                disable=verbosity < 1,
                mininterval=0.5,
                dynamic_ncols=True,
            )
            started = time.monotonic()
            try:
                if stdout is not None:
                    count = self._write_stdout(chosen.spec, progress, fmt, stdout, tz, not no_bom)
                else:
                    count = self._write_file(
                        chosen.spec, progress, fmt, Path(target), tz, not no_bom
                    )
            finally:
                progress.close()
            elapsed = max(time.monotonic() - started, 1e-6)
        if verbosity >= 1:
            where = "standard output" if to_stdout else target
            self.stderr.write(
                f"Exported {count:,} {kind} to {where} in {elapsed:.1f} s "
                f"({count / elapsed:,.0f} rows/s) as {person.email} sees them."
            )

    # --- writing -----------------------------------------------------------------------------

    def _write_file(
        self,
        spec: ExportSpec[Any],
        rows: Any,
        fmt: ExportFormat,
        path: Path,
        tz: Any,
        bom: bool,
    ) -> int:
        """Write next to ``path`` and move it into place at the end: all of the file or none."""
        directory = path.resolve().parent
        if not directory.is_dir():
            raise CommandError(f"No such directory: {directory}", returncode=USAGE_ERROR)
        handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
        try:
            with os.fdopen(handle, "wb") as out:
                count = _write(spec, rows, fmt, out, tz, bom)
            os.chmod(partial, 0o644 & ~_umask())
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return count

    def _write_stdout(
        self,
        spec: ExportSpec[Any],
        rows: Any,
        fmt: ExportFormat,
        out: IO[bytes],
        tz: Any,
        bom: bool,
    ) -> int:
        """CSV streams straight out; a workbook is finished in a temporary file, then copied."""
        if fmt == "csv":
            count = _write(spec, rows, fmt, out, tz, bom)
        else:
            with tempfile.TemporaryFile(suffix=".xlsx") as workbook:
                count = _write(spec, rows, fmt, workbook, tz, bom)
                workbook.seek(0)
                shutil.copyfileobj(workbook, out)
        out.flush()
        return count

    def _binary_stdout(self) -> IO[bytes]:
        stream: Any = getattr(self.stdout, "_out", sys.stdout)
        binary: IO[bytes] = getattr(stream, "buffer", stream)
        return binary

    def _stderr_stream(self) -> IO[str]:
        # The raw stream: tqdm redraws its line with "\r", which OutputWrapper would end.
        stream: IO[str] = getattr(self.stderr, "_out", sys.stderr)
        return stream


def _write(
    spec: ExportSpec[Any], rows: Any, fmt: ExportFormat, out: IO[bytes], tz: Any, bom: bool
) -> int:
    if fmt == "csv":
        return write_csv(spec, rows, out, tz=tz, bom=bom)
    return write_xlsx(spec, rows, out, tz=tz)


def _is_terminal(stream: IO[bytes]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
