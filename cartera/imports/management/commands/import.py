"""``cartera import accounts|contacts|interactions|users|products|opportunities FILE``: import a
CSV or XLSX file now."""

from __future__ import annotations

import csv
import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from cartera.core.errors import DomainError
from cartera.imports import mapping as mp
from cartera.imports import services
from cartera.imports.models import ImportJob, ImportKind, ImportStatus
from cartera.imports.readers import delimiter_label, encoding_label
from cartera.users.models import Role, User


def _person(email: str, option: str) -> User:
    user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    if user is None:
        raise CommandError(f"{option}: no active person with the email {email}.", returncode=2)
    return user


def _default_user() -> User:
    admins = list(User.objects.filter(role=Role.ADMIN, is_active=True)[:2])
    if len(admins) != 1:
        raise CommandError(
            "--user EMAIL is required (there is not exactly one administrator).", returncode=2
        )
    return admins[0]


class Command(BaseCommand):
    """Upload, map, (dry-)run in the foreground with a progress bar, and report."""

    help = (
        "Import accounts, contacts, interactions, people and teams (users), products or "
        "opportunities from a CSV or XLSX file, as a given person. "
        "Existing records are matched (external id, tax id, website domain, email, name…) and "
        "updated; the rest are created. Rows that cannot be imported are reported with their row "
        "number, column and reason in an error CSV; they never stop the other rows. Re-running a "
        "file changes nothing; an interrupted import continues with --resume."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Kind and file, plus the options of the mapping and the run."""
        parser.add_argument(
            "kind", nargs="?", choices=ImportKind.values, help="what the file's rows are"
        )
        parser.add_argument("file", nargs="?", help="the CSV or XLSX file")
        parser.add_argument(
            "--user",
            help="email of the person importing (default: the only administrator); the import "
            "can only touch what this person may change",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="go through every row and report what would be created, updated, left "
            "unchanged or rejected, without writing anything",
        )
        parser.add_argument(
            "--match",
            help="keys to match existing records by, in order, comma-separated (accounts: "
            "external_id,tax_id,domain,email,name; contacts: external_id,email,name; "
            "interactions: external_id,entry; users: email,name; products: sku,name; "
            "opportunities: external_id,name); 'none' always creates",
        )
        parser.add_argument("--mapping", help="use the column mapping saved under this name")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="map a column to a field (repeatable); HEADER= skips the column",
        )
        parser.add_argument("--save-mapping", metavar="NAME", help="save the mapping as NAME")
        parser.add_argument(
            "--default",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help="value for a field wherever the file leaves it empty, e.g. currency=USD",
        )
        parser.add_argument(
            "--pipeline",
            help="opportunities: the pipeline they go to (default: the default pipeline); "
            "one that does not exist is created (administrators and directors)",
        )
        parser.add_argument(
            "--map-stage",
            action="append",
            default=[],
            metavar="FILE_STAGE=STAGE",
            help="opportunities: put the file's stage FILE_STAGE in the pipeline's stage STAGE "
            "(repeatable), e.g. --map-stage Engaging=Qualification",
        )
        parser.add_argument(
            "--add-stages",
            action="store_true",
            help="opportunities: add the file's stages the pipeline lacks (administrators and "
            "directors)",
        )
        parser.add_argument(
            "--encoding", help="the file's encoding (default: detected), e.g. utf-8, cp1252"
        )
        parser.add_argument(
            "--delimiter", help="the CSV delimiter (default: detected among , ; tab |)"
        )
        parser.add_argument("--sheet", help="the XLSX sheet to read (default: the first)")
        parser.add_argument(
            "--owner",
            help="email of the owner of new accounts (and of new deals without an owner column; "
            "default: the importing person)",
        )
        parser.add_argument(
            "--resume",
            type=int,
            metavar="JOB_ID",
            help="continue an interrupted import after its last committed batch",
        )
        parser.add_argument(
            "--errors",
            metavar="OUT.csv",
            help="where to write the rows that were rejected or imported with a warning "
            "(default: FILE's name with .errors.csv, beside it; for --resume, in the data "
            "directory's imports folder)",
        )
        parser.add_argument(
            "--fields", action="store_true", help="list the fields of KIND a column can go to"
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar (e.g. in scripts)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the import (or the resume, or the field list)."""
        with translation.override("en"):
            try:
                self._handle(**options)
            except DomainError as error:
                problems = [
                    f"{field}: {' '.join(messages)}"
                    for field, messages in error.field_errors.items()
                ]
                raise CommandError("; ".join(problems) or error.message, returncode=2) from error

    def _handle(self, **options: Any) -> None:
        kind, file_name = options["kind"], options["file"]
        if options["fields"]:
            if not kind:
                raise CommandError("--fields needs KIND.", returncode=2)
            self._list_fields(kind)
            return
        if options["resume"] is not None:
            self._resume(options)
            return
        if not kind or not file_name:
            raise CommandError("Give KIND and FILE (or --resume JOB_ID).", returncode=2)
        path = Path(file_name)
        if not path.is_file():
            raise CommandError(f"No such file: {file_name}", returncode=2)
        actor = _person(options["user"], "--user") if options["user"] else _default_user()
        owner = _person(options["owner"], "--owner") if options["owner"] else None
        with path.open("rb") as stream:
            job = services.create_job(
                actor=actor,
                kind=kind,
                file_name=path.name,
                stream=stream,
                encoding=options["encoding"],
                delimiter=options["delimiter"],
                sheet=options["sheet"],
            )
        if options["mapping"]:
            job = services.apply_saved_mapping(actor=actor, job=job, name=options["mapping"])
        wanted = dict(job.mapping)
        for item in options["map"]:
            header, separator, target = item.partition("=")
            if not separator:
                raise CommandError(f"--map {item!r}: write HEADER=FIELD.", returncode=2)
            wanted[header.strip()] = target.strip()
        defaults: dict[str, str] = {}
        for item in options["default"]:
            name, separator, value = item.partition("=")
            if not separator:
                raise CommandError(f"--default {item!r}: write FIELD=VALUE.", returncode=2)
            defaults[name.strip()] = value.strip()
        if options["pipeline"]:
            defaults["pipeline"] = options["pipeline"].strip()
        kind_options: dict[str, Any] | None = None
        if options["map_stage"] or options["add_stages"]:
            stage_map: dict[str, str] = {}
            for item in options["map_stage"]:
                source, separator, target = item.partition("=")
                if not separator:
                    raise CommandError(
                        f"--map-stage {item!r}: write FILE_STAGE=STAGE.", returncode=2
                    )
                stage_map[source.strip()] = target.strip()
            kind_options = {"stage_map": stage_map, "add_stages": options["add_stages"]}
        match_order = job.match_order
        if options["match"]:
            text = options["match"].strip()
            match_order = [] if text == "none" else [k.strip() for k in text.split(",") if k]
        job = services.set_mapping(
            actor=actor,
            job=job,
            mapping=wanted,
            match_order=match_order,
            save_as=options["save_mapping"],
            default_owner=owner,
            defaults=defaults or None,
            kind_options=kind_options,
        )
        self._describe(job, actor)
        progress = self._progress_bar(job, options)
        try:
            if options["dry_run"]:
                job = services.dry_run(actor=actor, job=job, max_rows=None, progress=progress)
            else:
                job = services.run(job.pk, progress=progress)
        finally:
            self._close_bar()
        self._summary(job, options, path)

    def _resume(self, options: dict[str, Any]) -> None:
        job = ImportJob.objects.filter(pk=options["resume"]).select_related("user").first()
        if job is None:
            raise CommandError(f"No import job {options['resume']}.", returncode=2)
        if options["user"] and _person(options["user"], "--user").pk != job.user_id:
            raise CommandError("This import belongs to someone else.", returncode=2)
        if job.status in {ImportStatus.DONE, ImportStatus.CANCELLED}:
            self.stdout.write(f"Import {job.pk} is already {job.get_status_display().lower()}.")
            self._summary(job, options, None)
            return
        self.stdout.write(
            f"Resuming import {job.pk} ({job.file_name}) after row {job.checkpoint_row}: "
            f"{job.processed_rows} rows already done."
        )
        progress = self._progress_bar(job, options)
        try:
            job = services.run(job.pk, progress=progress)
        finally:
            self._close_bar()
        self._summary(job, options, None)

    def _list_fields(self, kind: str) -> None:
        self.stdout.write(f"Fields of {kind} (use with --map HEADER=FIELD):")
        for value, label in mp.field_choices(kind):
            self.stdout.write(f"  {value:<26} {label}")
        keys = ", ".join(key for key, _label in mp.match_key_choices(kind))
        self.stdout.write(f"Match keys (--match): {keys}")

    def _describe(self, job: ImportJob, actor: User) -> None:
        write = self.stdout.write
        write(
            f"Import {job.pk}: {job.get_kind_display().lower()} from {job.file_name} "
            f"as {actor.email}"
        )
        detected = [job.get_format_display()]
        if job.encoding:
            detected.append(f"encoding {encoding_label(job.encoding)}")
        if job.delimiter:
            detected.append(f"delimiter {delimiter_label(job.delimiter)}")
        if job.sheet:
            detected.append(f"sheet {job.sheet}")
        rows = (
            f"{job.total_rows:,} rows" if job.total_is_exact else f"about {job.total_rows:,} rows"
        )
        write(f"Detected: {', '.join(detected)}; {rows}")
        labels = dict(mp.field_choices(job.kind))
        write("Mapping:")
        width = max((len(header) for header in job.headers), default=0)
        for header in job.headers:
            target = job.mapping.get(header)
            shown = f"{labels.get(target, target)} ({target})" if target else "(not imported)"
            write(f"  {header:<{width}} -> {shown}")
        order = ", ".join(job.match_order) or "none (every row creates a record)"
        write(f"Match existing records by: {order}")

    _bar: Any = None

    def _progress_bar(self, job: ImportJob, options: dict[str, Any]) -> Any:
        if options["no_progress"]:
            return None
        from tqdm import tqdm

        self._bar = tqdm(
            total=job.total_rows or None,
            initial=job.processed_rows,
            unit=" rows",
            unit_scale=True,
            dynamic_ncols=True,
            file=sys.stderr,
            desc="Dry run" if options.get("dry_run") else "Importing",
            disable=None if not os.environ.get("CARTERA_FORCE_PROGRESS") else False,
        )
        bar = self._bar

        def progress(current: ImportJob) -> None:
            if current.processed_rows > (bar.total or 0):
                bar.total = current.processed_rows
            bar.update(max(0, current.processed_rows - bar.n))

        return progress

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _summary(self, job: ImportJob, options: dict[str, Any], source: Path | None) -> None:
        write = self.stdout.write
        if options.get("dry_run") and job.has_dry_run:
            write(
                f"Dry run of {job.dry_run_rows:,} rows (nothing was written): "
                f"would create {job.dry_run_created:,}, update {job.dry_run_updated:,}, "
                f"leave {job.dry_run_unchanged:,} unchanged, reject {job.dry_run_rejected:,}"
                f" ({job.dry_run_warnings or 0:,} with warnings)."
            )
            issues = job.dry_run_rejected or job.dry_run_warnings
            dry = True
        else:
            if job.status == ImportStatus.FAILED:
                write(self.style.ERROR(f"Import {job.pk} failed: {job.error_message}"))
                write(f"Fix the cause, then continue it with: cartera import --resume {job.pk}")
            elif job.status == ImportStatus.CANCELLED:
                write(self.style.WARNING(f"Import {job.pk} was cancelled."))
            seconds = job.duration.total_seconds() if job.duration else 0
            write(
                f"{job.processed_rows:,} rows: {job.created_count:,} created, "
                f"{job.updated_count:,} updated, {job.unchanged_count:,} unchanged, "
                f"{job.rejected_count:,} rejected, {job.warning_count:,} with warnings"
                f" in {seconds:.1f} s ({job.rows_per_second:,.0f} rows/s)."
            )
            issues = job.rejected_count or job.warning_count
            dry = False
        if issues:
            target = self._error_path(options, source, job)
            with target.open("w", newline="", encoding="utf-8-sig") as handle:
                writer = csv.writer(handle)
                for line in services.error_rows(job, dry_run=dry):
                    writer.writerow(line)
            shown = "the first rejected rows" if dry and job.dry_run_rejected else "the rows"
            write(f"Error report ({shown} with their row, column and reason): {target}")
        if job.status == ImportStatus.FAILED and not options.get("dry_run"):
            raise CommandError(f"Import {job.pk} failed.", returncode=1)

    def _error_path(self, options: dict[str, Any], source: Path | None, job: ImportJob) -> Path:
        """``--errors``, else beside the imported file, else (a resume, or a folder that
        cannot be written) in the data directory's imports folder."""
        if options.get("errors"):
            return Path(options["errors"])
        if source is not None and os.access(source.resolve().parent, os.W_OK):
            return source.with_name(f"{source.stem}.errors.csv")
        return services.imports_dir() / f"import-{job.pk}.errors.csv"
