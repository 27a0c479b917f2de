"""``cartera import``: detection, mapping, progress, summary, error report, dry run and resume."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cartera.accounts.models import Account
from cartera.core.testing import Book
from cartera.imports import engine
from cartera.imports.models import ImportJob, ImportStatus

from .support import csv_bytes, uploads

__all__ = ["uploads"]

CONTENT = csv_bytes(
    [
        ["Código cliente", "Razón social", "Correo electrónico", "País", "Fax"],
        ["C-1", "Ferretería Núñez", "info@nunez.example", "España", "1"],
        ["C-2", "Óptica Peña", "no es un correo", "España", "2"],
        ["C-3", "Talleres Ruiz", "", "Portugal", ""],
    ],
    delimiter=";",
    encoding="cp1252",
)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "clientes.csv"
    path.write_bytes(CONTENT)
    return path


def cartera(*args: str) -> int:
    """Run ``cartera ARGS`` in-process as the console does; return its exit code.

    ``call_command`` rather than ``cartera.cli.main``: the latter closes the database
    connections when the command ends, as a real process would, which a test cannot survive.
    """
    assert args[0] == "import"
    try:
        call_command(*args)
    except CommandError as error:
        sys.stderr.write(f"CommandError: {error}\n")
        return error.returncode
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_import_prints_what_it_detected_the_mapping_and_the_summary(
    book: Book, uploads: Path, source: Path, capsys: Any
) -> None:
    code = cartera("import", "accounts", str(source), "--user", "owner@example.com")

    out = capsys.readouterr().out
    assert code == 0
    # Windows-1252 text without its own characters (€, curly quotes…) reads as Latin-1.
    assert "Detected: CSV, encoding ISO-8859-1 (Latin-1), delimiter semicolon (;); 3 rows" in out
    assert "Código cliente     -> External id (external_id)" in out
    assert "Razón social       -> Name (name)" in out
    assert "Fax                -> (not imported)" in out
    assert "Match existing records by: external_id, tax_id, domain, email, name" in out
    assert "3 rows: 2 created, 0 updated, 0 unchanged, 1 rejected, 0 with warnings" in out
    report = source.with_name("clientes.errors.csv")
    assert f"Error report (the rows with their row, column and reason): {report}" in out
    with report.open(encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][-3:] == ["Row", "Column", "Reason"]
    assert lines[1][:2] == ["C-2", "Óptica Peña"]
    assert lines[1][-3:] == ["3", "Correo electrónico",
                             "Correo electrónico: Enter a valid email address."]  # fmt: skip
    assert Account.objects.get(external_id="C-1").owner == book.owner


def test_dry_run_writes_nothing(book: Book, uploads: Path, source: Path, capsys: Any) -> None:
    before = Account.objects.count()

    code = cartera("import", "accounts", str(source), "--user", "owner@example.com", "--dry-run",
                   "--errors", str(source.with_name("dry.csv")))  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0
    assert "Dry run of 3 rows (nothing was written): would create 2, update 0, leave 0 " in out
    assert "reject 1" in out
    assert Account.objects.count() == before
    assert source.with_name("dry.csv").exists()


def test_map_match_owner_and_default_options(
    book: Book, uploads: Path, source: Path, capsys: Any
) -> None:
    code = cartera(
        "import", "accounts", str(source), "--user", "manager@example.com",
        "--map", "Correo electrónico=", "--map", "Fax=description", "--match", "name",
        "--owner", "teammate@example.com", "--default", "currency=USD", "--save-mapping", "ERP",
    )  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0
    assert "3 rows: 3 created" in out
    nunez = Account.objects.get(name="Ferretería Núñez")
    assert (nunez.owner.email, nunez.currency, nunez.description, nunez.email) == (
        "teammate@example.com",
        "USD",
        "1",
        "",
    )
    job = ImportJob.objects.latest("pk")
    assert job.match_order == ["name"] and job.mapping_name == "ERP"

    code = cartera("import", "accounts", str(source), "--user", "manager@example.com",
                   "--mapping", "ERP", "--no-progress")  # fmt: skip
    assert code == 0
    assert "3 rows: 0 created, 0 updated, 3 unchanged" in capsys.readouterr().out


def test_resume_continues_an_interrupted_import(
    book: Book, uploads: Path, source: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BATCH_SIZE", 1)
    original = engine.Importer.commit_batch
    calls = {"n": 0}

    def crash(self: engine.Importer, result: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        original(self, result)

    monkeypatch.setattr(engine.Importer, "commit_batch", crash)

    code = cartera("import", "accounts", str(source), "--user", "owner@example.com")

    out = capsys.readouterr().out
    job = ImportJob.objects.latest("pk")
    assert code == 1
    assert f"Import {job.pk} failed: The import stopped on an unexpected error: power cut" in out
    assert f"cartera import --resume {job.pk}" in out
    assert job.status == ImportStatus.FAILED and job.processed_rows == 1

    monkeypatch.setattr(engine.Importer, "commit_batch", original)
    code = cartera("import", "--resume", str(job.pk))

    out = capsys.readouterr().out
    assert code == 0
    assert f"Resuming import {job.pk} (clientes.csv) after row 2: 1 rows already done." in out
    assert "3 rows: 2 created, 0 updated, 0 unchanged, 1 rejected" in out
    assert Account.objects.filter(external_id__startswith="C-").count() == 2
    report = uploads / "imports" / f"import-{job.pk}.errors.csv"
    assert f"Error report (the rows with their row, column and reason): {report}" in out
    assert report.read_text(encoding="utf-8-sig").count("\n") == 2


def test_the_only_administrator_is_the_default_user(
    book: Book, uploads: Path, source: Path, capsys: Any
) -> None:
    assert cartera("import", "accounts", str(source), "--no-progress") == 0
    assert Account.objects.get(external_id="C-1").owner == book.admin

    from cartera.users.models import Role, User

    User.objects.filter(pk=book.director.pk).update(role=Role.ADMIN)
    assert cartera("import", "accounts", str(source)) == 2
    assert "--user EMAIL is required" in capsys.readouterr().err


def test_errors_are_clear_and_exit_non_zero(
    book: Book, uploads: Path, source: Path, capsys: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    assert cartera("import", "accounts", str(source), "--user", "readonly@example.com") == 2
    assert "Read-only users cannot import." in capsys.readouterr().err
    assert cartera("import", "accounts", str(empty), "--user", "owner@example.com") == 2
    assert "file: The file is empty." in capsys.readouterr().err
    assert cartera("import", "accounts", str(tmp_path / "nope.csv")) == 2
    assert "No such file" in capsys.readouterr().err
    assert cartera("import", "accounts", str(source), "--map", "x") == 2
    assert "HEADER=FIELD" in capsys.readouterr().err
    assert cartera("import", "accounts", str(source), "--map", "Fax=wings") == 2
    assert "Unknown field wings" in capsys.readouterr().err
    assert cartera("import") == 2


def test_fields_are_listed(book: Book, capsys: Any) -> None:
    assert cartera("import", "contacts", "--fields") == 0

    out = capsys.readouterr().out
    assert "first_name" in out and "Match keys (--match): external_id, email, name" in out


def test_help_is_true(capsys: Any) -> None:
    assert cartera("import", "--help") == 0

    out = capsys.readouterr().out
    for option in ("--dry-run", "--match", "--mapping", "--map", "--encoding", "--delimiter",
                   "--owner", "--resume", "--errors", "--user"):  # fmt: skip
        assert option in out
