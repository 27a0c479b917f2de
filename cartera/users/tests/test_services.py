"""People, teams and tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cartera.core.errors import Forbidden, InvalidInput, NotFound
from cartera.core.testing import Book
from cartera.users.models import ApiToken, Role, User
from cartera.users.services import (
    authenticate_api_token,
    create_api_token,
    create_user,
    revoke_api_token,
    set_language,
    update_user,
)


def test_only_admins_create_people(book: Book) -> None:
    with pytest.raises(Forbidden):
        create_user(
            actor=book.director,
            data={"email": "x@example.com", "full_name": "X"},
            password="Long-enough-pw-1",
        )
    assert not User.objects.filter(email="x@example.com").exists()


def test_weak_password_and_duplicate_email_are_field_errors(book: Book) -> None:
    with pytest.raises(InvalidInput) as weak:
        create_user(
            actor=book.admin, data={"email": "new@example.com", "full_name": "New"}, password="123"
        )
    assert "password" in weak.value.field_errors
    with pytest.raises(InvalidInput) as duplicate:
        create_user(
            actor=book.admin,
            data={"email": "OWNER@example.com", "full_name": "Dup"},
            password="Long-enough-pw-1",
        )
    assert "email" in duplicate.value.field_errors


def test_people_edit_only_their_own_profile(book: Book) -> None:
    update_user(actor=book.owner, user=book.owner, changes={"full_name": "Olga O."})
    with pytest.raises(InvalidInput):
        update_user(actor=book.owner, user=book.owner, changes={"role": Role.ADMIN})
    with pytest.raises(NotFound):
        update_user(actor=book.owner, user=book.teammate, changes={"full_name": "Hacked"})
    assert User.objects.get(pk=book.owner.pk).role == Role.ACCOUNT_MANAGER


def test_language_is_remembered(book: Book) -> None:
    set_language(actor=book.owner, language="es")
    assert User.objects.get(pk=book.owner.pk).language == "es"
    with pytest.raises(InvalidInput):
        set_language(actor=book.owner, language="xx")


def test_token_is_shown_once_stored_hashed_and_revocable(book: Book) -> None:
    token, raw = create_api_token(actor=book.owner, user=book.owner, name="laptop")
    assert raw.startswith("crt_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.token_hash, stored.prefix, stored.name)
    assert len(stored.token_hash) == 64
    assert authenticate_api_token(raw) == book.owner
    assert authenticate_api_token(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert authenticate_api_token("garbage") is None
    revoke_api_token(actor=book.owner, token=token)
    assert authenticate_api_token(raw) is None


def test_expired_token_and_inactive_user_do_not_authenticate(book: Book) -> None:
    token, raw = create_api_token(
        actor=book.owner,
        user=book.owner,
        name="short",
        expires_at=timezone.now() + timedelta(minutes=1),
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert authenticate_api_token(raw) is None
    _, raw2 = create_api_token(actor=book.owner, user=book.owner, name="other")
    User.objects.filter(pk=book.owner.pk).update(is_active=False)
    assert authenticate_api_token(raw2) is None


def test_nobody_manages_someone_elses_tokens(book: Book) -> None:
    token, _ = create_api_token(actor=book.owner, user=book.owner, name="mine")
    with pytest.raises(NotFound):
        revoke_api_token(actor=book.teammate, token=token)
    with pytest.raises(NotFound):
        create_api_token(actor=book.teammate, user=book.owner, name="theirs")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
