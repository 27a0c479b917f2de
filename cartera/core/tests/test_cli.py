"""The ``cartera`` command, run in-process as a person would type it."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from cartera.cli import main
from cartera.core.testing import PASSWORD, Book
from cartera.users.models import ApiToken, Role, User
from cartera.users.services import authenticate_api_token


@pytest.fixture
def keep_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django closes every connection after a command; the test's transaction must survive."""
    monkeypatch.setattr(connections, "close_all", lambda: None)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of ``cartera ARGS``."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("args", [[], ["--help"], ["-h"]])
def test_help_lists_every_cartera_command(capsys: Any, args: list[str]) -> None:
    code, out, _err = run(capsys, *args)
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert listed == [
        "demo",
        "serve",
        "migrate",
        "createadmin",
        "token",
        "import",
        "export",
        "worker",
        "schedule",
        "rebuild_rollups",
        "info",
    ]
    assert "Every Django management command works too" in out


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("demo", "--reset"),
        ("serve", "--no-worker"),
        ("createadmin", "--email"),
        ("worker", "--batch"),
        ("worker", "--no-schedule"),
        ("schedule", "--run"),
        ("rebuild_rollups", "--check"),
        ("info", "--help"),
    ],
)
def test_each_command_explains_its_options(capsys: Any, command: str, option: str) -> None:
    code, out, _err = run(capsys, command, "--help")
    assert code == 0
    assert f"usage: cartera {command}" in out
    assert option in out


def test_token_help_lists_its_actions(capsys: Any) -> None:
    code, out, _err = run(capsys, "token", "--help")
    assert code == 0
    for action in ("create", "list", "revoke"):
        assert action in out


def test_unknown_command_fails(capsys: Any) -> None:
    code, _out, err = run(capsys, "no-such-command")
    assert code == 1
    assert "Unknown command: 'no-such-command'" in err


@pytest.mark.usefixtures("keep_connection")
def test_info_prints_the_data_directory_without_secrets(capsys: Any) -> None:
    code, out, _err = run(capsys, "info")
    assert code == 0
    assert f"Data directory: {settings.DATA_DIR}" in out
    assert "Database:" in out
    assert "Languages:      en, es" in out
    assert settings.SECRET_KEY not in out


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_connection")
def test_createadmin_creates_an_administrator(capsys: Any) -> None:
    code, out, _err = run(
        capsys, "createadmin", "--email", "Boss@Example.com", "--name", "Bea Boss",
        "--password", PASSWORD, "--no-input",
    )  # fmt: skip
    assert code == 0
    assert "Administrator boss@example.com created." in out
    admin = User.objects.get(email="boss@example.com")
    assert (admin.full_name, admin.role, admin.is_superuser) == ("Bea Boss", Role.ADMIN, True)
    assert admin.check_password(PASSWORD)


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_connection")
def test_createadmin_takes_the_password_from_the_environment(
    capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARTERA_ADMIN_PASSWORD", PASSWORD)
    code, _out, _err = run(capsys, "createadmin", "--email", "env@example.com", "--no-input")
    assert code == 0
    assert User.objects.get(email="env@example.com").check_password(PASSWORD)


@pytest.mark.usefixtures("keep_connection")
def test_createadmin_refuses_a_duplicate_email(capsys: Any, book: Book) -> None:
    before = list(User.objects.order_by("pk").values_list("pk", "email", "role", "password"))
    code, _out, err = run(
        capsys, "createadmin", "--email", book.owner.email.upper(), "--password", PASSWORD
    )
    assert code == 1
    assert f"A person with the email {book.owner.email} already exists." in err
    assert list(User.objects.order_by("pk").values_list("pk", "email", "role", "password")) == (
        before
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_connection")
def test_createadmin_refuses_a_weak_password_and_saves_nothing(capsys: Any) -> None:
    code, _out, err = run(
        capsys, "createadmin", "--email", "weak@example.com", "--password", "12345", "--no-input"
    )
    assert code == 1
    assert "password: This password is too short" in err
    assert not User.objects.exists()


@pytest.mark.usefixtures("keep_connection")
def test_token_create_prints_a_token_that_authenticates(capsys: Any, book: Book) -> None:
    code, out, err = run(capsys, "token", "create", "--user", book.owner.email, "--name", "CI")
    assert code == 0
    raw = out.strip()
    assert authenticate_api_token(raw) == book.owner
    token = ApiToken.objects.get(user=book.owner)
    assert token.name == "CI"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.prefix, token.token_hash, token.name}
    assert "not shown again" in err


@pytest.mark.usefixtures("keep_connection")
def test_token_with_expiry_days_expires(capsys: Any, book: Book) -> None:
    code, _out, _err = run(
        capsys, "token", "create", "--user", book.owner.email, "--name", "short",
        "--expires-days", "7",
    )  # fmt: skip
    assert code == 0
    token = ApiToken.objects.get(user=book.owner)
    assert token.expires_at is not None
    assert 6 <= (token.expires_at - token.created_at).days <= 7


@pytest.mark.usefixtures("keep_connection")
def test_token_revoke_by_prefix_revokes_only_that_token(capsys: Any, book: Book) -> None:
    _code, out, _err = run(capsys, "token", "create", "--user", book.owner.email, "--name", "CI")
    revoked_raw = out.strip()
    _code, out, _err = run(capsys, "token", "create", "--user", book.owner.email, "--name", "X")
    kept_raw = out.strip()
    token = ApiToken.objects.get(user=book.owner, name="CI")
    code, out, _err = run(capsys, "token", "revoke", token.prefix)
    assert code == 0
    assert f"Token {token.prefix} (CI) revoked." in out
    assert authenticate_api_token(revoked_raw) is None
    assert authenticate_api_token(kept_raw) == book.owner


@pytest.mark.usefixtures("keep_connection")
def test_revoked_token_no_longer_authenticates(capsys: Any, book: Book) -> None:
    _code, out, _err = run(capsys, "token", "create", "--user", book.owner.email, "--name", "CI")
    raw = out.strip()
    token = ApiToken.objects.get(user=book.owner)
    code, _out, _err = run(capsys, "token", "revoke", str(token.pk))
    assert code == 0
    assert authenticate_api_token(raw) is None


@pytest.mark.usefixtures("keep_connection")
def test_token_list_shows_state_without_the_secret(capsys: Any, book: Book) -> None:
    _code, out, _err = run(capsys, "token", "create", "--user", book.owner.email, "--name", "CI")
    raw = out.strip()
    code, out, _err = run(capsys, "token", "list", "--user", book.owner.email)
    assert code == 0
    token = ApiToken.objects.get(user=book.owner)
    assert f"{token.prefix}  CI  usable  expires never" in out
    assert raw not in out


@pytest.mark.usefixtures("keep_connection")
def test_token_for_an_unknown_person_fails_and_creates_nothing(capsys: Any, book: Book) -> None:
    code, _out, err = run(capsys, "token", "create", "--user", "nobody@example.com", "--name", "X")
    assert code == 1
    assert "No active person with the email nobody@example.com." in err
    assert not ApiToken.objects.exists()


@pytest.mark.usefixtures("keep_connection")
def test_revoking_an_unknown_token_fails(capsys: Any, book: Book) -> None:
    code, _out, err = run(capsys, "token", "revoke", "deadbeef0000")
    assert code == 1
    assert "No API token with the prefix or id deadbeef0000." in err
