"""Sign-in, language, profile, API token and people/team admin pages."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.template import loader
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from cartera.core.testing import PASSWORD, Book, fresh, make_user
from cartera.users.models import ApiToken, Role, Team, User
from cartera.users.services import create_api_token, create_team

NON_ADMINS = ["director", "manager", "owner", "teammate", "read_only", "outsider"]


def run_queued_tasks() -> int:
    """Run what the background worker would, and say how many tasks ran."""
    results = list(DBTaskResult.objects.ready())
    for result in results:
        result.task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
    return len(results)


# Sign-in and sign-out


def test_sign_in_with_email_and_password_goes_home(client: Client, book: Book) -> None:
    response = client.post(
        reverse("login"), {"username": "owner@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert client.session["_auth_user_id"] == str(book.owner.pk)


def test_sign_in_with_a_wrong_password_says_so_and_signs_nobody_in(
    client: Client, book: Book
) -> None:
    response = client.post(reverse("login"), {"username": "owner@example.com", "password": "no"})
    assert response.status_code == 200
    assert "enter a correct email and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_page_has_no_navigation_for_anonymous_people(client: Client, db: None) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="username"' in content
    assert "Main navigation" not in content


def test_pages_need_sign_in(client: Client, db: None) -> None:
    response = client.get(reverse("users:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_out_is_a_post(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    assert client.get(reverse("logout")).status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert "You have signed out." in client.get(reverse("login")).content.decode()


def test_password_reset_sends_exactly_one_email_through_the_queue(
    client: Client, book: Book
) -> None:
    response = client.post(reverse("password_reset"), {"email": "owner@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []  # not sent during the request: the worker sends it
    assert run_queued_tasks() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@example.com"]
    assert message.subject == "Reset your Cartera password"
    assert "/reset/" in message.body


def test_password_reset_link_sets_a_new_password(client: Client, book: Book) -> None:
    client.post(reverse("password_reset"), {"email": "owner@example.com"})
    run_queued_tasks()
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    new_password = "Another-Long-Passphrase-77"
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    assert fresh(book.owner).check_password(new_password)


def test_password_reset_for_an_unknown_email_sends_nothing(client: Client, book: Book) -> None:
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert run_queued_tasks() == 0
    assert mail.outbox == []


def test_password_reset_email_is_written_in_the_persons_language(
    client: Client, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    User.objects.filter(pk=book.owner.pk).update(language="es")
    languages: list[str | None] = []
    render = loader.render_to_string

    def spy(*args: Any, **kwargs: Any) -> str:
        languages.append(translation.get_language())
        return render(*args, **kwargs)

    monkeypatch.setattr(loader, "render_to_string", spy)
    client.post(reverse("password_reset"), {"email": "owner@example.com"})
    assert languages == ["es", "es"]  # subject and body


# Language and profile


def test_language_switch_persists_on_the_user(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.post(
        reverse("users:set_language"), {"language": "es", "next": reverse("users:profile")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("users:profile")
    assert fresh(book.owner).language == "es"
    assert 'lang="es"' in client.get(reverse("users:profile")).content.decode()


def test_language_switch_never_redirects_off_site(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.post(
        reverse("users:set_language"), {"language": "es", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_language_switch_refuses_unknown_languages(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    client.post(reverse("users:set_language"), {"language": "xx", "next": "/"})
    assert fresh(book.owner).language == ""


def test_anonymous_language_switch_uses_a_cookie(client: Client, db: None) -> None:
    response = client.post(
        reverse("users:set_language"), {"language": "es", "next": reverse("login")}
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "es"
    assert 'lang="es"' in client.get(reverse("login")).content.decode()


def test_language_switch_is_a_post(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    assert client.get(reverse("users:set_language")).status_code == 405


def test_browser_language_is_the_default(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("users:profile"), headers={"accept-language": "es-ES,es;q=0.9"})
    assert 'lang="es"' in response.content.decode()


def test_profile_saves_name_language_and_time_zone(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.post(
        reverse("users:profile"),
        {"full_name": "Olga O.", "language": "en", "time_zone": "America/Mexico_City"},
    )
    assert response.status_code == 302
    owner = fresh(book.owner)
    assert (owner.full_name, owner.language, owner.time_zone) == (
        "Olga O.",
        "en",
        "America/Mexico_City",
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"full_name": "", "language": "", "time_zone": ""}, "full_name"),
        ({"full_name": "x" * 151, "language": "", "time_zone": ""}, "full_name"),
        ({"full_name": "Olga", "language": "", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"full_name": "Olga", "language": "xx", "time_zone": ""}, "language"),
        ({"full_name": "Ol\x00ga", "language": "", "time_zone": ""}, "full_name"),
    ],
)
def test_profile_refuses_bad_input_and_saves_nothing(
    client: Client, book: Book, data: dict[str, str], field: str
) -> None:
    client.force_login(book.owner)
    response = client.post(reverse("users:profile"), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    owner = fresh(book.owner)
    assert (owner.full_name, owner.language, owner.time_zone) == ("Olga Owner", "", "")


def test_profile_renders_hostile_names_escaped(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    client.post(
        reverse("users:profile"),
        {"full_name": "<script>alert(1)</script>", "language": "", "time_zone": ""},
    )
    content = client.get(reverse("users:profile")).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


# API tokens


def test_token_is_shown_once_and_only_its_hash_is_stored(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.post(reverse("users:token_list"), {"name": "Laptop script"})
    assert response.status_code == 201
    raw = response.context["created_secret"]
    assert raw.startswith("crt_")
    assert raw in response.content.decode()
    token = ApiToken.objects.get(user=book.owner)
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.name, token.prefix, token.token_hash}
    listing = client.get(reverse("users:token_list")).content.decode()
    assert "Laptop script" in listing
    assert raw not in listing


def test_token_with_an_expiry_day_works_until_that_day_ends(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(
        reverse("users:token_list"), {"name": "CI", "expires_on": tomorrow.isoformat()}
    )
    assert response.status_code == 201
    token = ApiToken.objects.get(user=book.owner)
    assert token.expires_at is not None
    assert timezone.localtime(token.expires_at).date() == tomorrow + timedelta(days=1)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Old", "expires_on": "2001-01-01"}, "expires_on"),
        ({"name": "Bad date", "expires_on": "31/02/2030"}, "expires_on"),
    ],
)
def test_token_form_refuses_bad_input_and_creates_nothing(
    client: Client, book: Book, data: dict[str, str], field: str
) -> None:
    client.force_login(book.owner)
    response = client.post(reverse("users:token_list"), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert response.context["created_secret"] is None
    assert not ApiToken.objects.exists()


def test_revoking_a_token_stops_it(client: Client, book: Book) -> None:
    token, _raw = create_api_token(actor=book.owner, user=book.owner, name="Old")
    client.force_login(book.owner)
    response = client.post(reverse("users:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked" in client.get(reverse("users:token_list")).content.decode()


@pytest.mark.parametrize("persona", ["teammate", "admin", "outsider"])
def test_another_persons_token_is_404_and_stays_usable(
    client: Client, book: Book, persona: str
) -> None:
    token, _raw = create_api_token(actor=book.owner, user=book.owner, name="Mine")
    client.force_login(book.persona(persona))
    response = client.post(reverse("users:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_is_a_post(client: Client, book: Book) -> None:
    token, _raw = create_api_token(actor=book.owner, user=book.owner, name="Mine")
    client.force_login(book.owner)
    assert client.get(reverse("users:token_revoke", args=[token.pk])).status_code == 405


def test_token_list_shows_only_ones_own_tokens(client: Client, book: Book) -> None:
    create_api_token(actor=book.teammate, user=book.teammate, name="Teammate token")
    client.force_login(book.owner)
    assert "Teammate token" not in client.get(reverse("users:token_list")).content.decode()


@pytest.mark.parametrize("rows", [2, 50])
def test_token_list_query_count_does_not_grow(
    client: Client, book: Book, django_assert_num_queries: Any, rows: int
) -> None:
    for number in range(rows):
        create_api_token(actor=book.owner, user=book.owner, name=f"Token {number}")
    client.force_login(book.owner)
    # session, user, one page of tokens
    with django_assert_num_queries(3):
        response = client.get(reverse("users:token_list"))
    assert response.status_code == 200
    assert len(response.context["page"].items) == rows


# People and team administration


ADMIN_PAGES = [
    ("users:user_list", False),
    ("users:user_create", False),
    ("users:user_edit", True),
    ("users:team_list", False),
    ("users:team_create", False),
    ("users:team_edit", True),
]


def _admin_url(book: Book, name: str, needs_pk: bool) -> str:
    if not needs_pk:
        return reverse(name)
    pk = book.owner.pk if name == "users:user_edit" else book.team.pk
    return reverse(name, args=[pk])


@pytest.mark.parametrize("persona", NON_ADMINS)
@pytest.mark.parametrize(("name", "needs_pk"), ADMIN_PAGES)
def test_admin_pages_do_not_exist_for_non_admins(
    client: Client, book: Book, persona: str, name: str, needs_pk: bool
) -> None:
    client.force_login(book.persona(persona))
    assert client.get(_admin_url(book, name, needs_pk)).status_code == 404


@pytest.mark.parametrize(("name", "needs_pk"), ADMIN_PAGES)
def test_admin_pages_open_for_admins(client: Client, book: Book, name: str, needs_pk: bool) -> None:
    client.force_login(book.admin)
    assert client.get(_admin_url(book, name, needs_pk)).status_code == 200


@pytest.mark.parametrize("persona", NON_ADMINS)
def test_non_admin_posts_to_admin_pages_change_nothing(
    client: Client, book: Book, persona: str
) -> None:
    client.force_login(book.persona(persona))
    users_before = User.objects.count()
    new_user = {
        "full_name": "Eve",
        "email": "eve@example.com",
        "role": "admin",
        "is_active": "on",
        "password": PASSWORD,
    }
    assert client.post(reverse("users:user_create"), new_user).status_code == 404
    promote = {**new_user, "email": "owner@example.com", "full_name": "Olga Owner"}
    response = client.post(reverse("users:user_edit", args=[book.owner.pk]), promote)
    assert response.status_code == 404
    assert client.post(reverse("users:team_create"), {"name": "Rogue"}).status_code == 404
    response = client.post(reverse("users:team_edit", args=[book.team.pk]), {"name": "Renamed"})
    assert response.status_code == 404
    assert User.objects.count() == users_before
    assert fresh(book.owner).role == Role.ACCOUNT_MANAGER
    assert not Team.objects.filter(name__in=["Rogue", "Renamed"]).exists()


def test_admin_creates_a_person_who_can_sign_in(client: Client, book: Book) -> None:
    client.force_login(book.admin)
    response = client.post(
        reverse("users:user_create"),
        {
            "full_name": "Nuria Nueva",
            "email": "Nuria@Example.com",
            "role": Role.COORDINATOR,
            "team": book.team.pk,
            "language": "es",
            "is_active": "on",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    person = User.objects.get(email="nuria@example.com")
    assert (person.role, person.team_id, person.language) == (Role.COORDINATOR, book.team.pk, "es")
    assert Client().login(username="nuria@example.com", password=PASSWORD)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "owner@example.com"}, "email"),
        ({"password": "123"}, "password"),
        ({"password": ""}, "password"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": "x" * 151}, "full_name"),
        ({"role": "emperor"}, "role"),
        ({"team": "999999"}, "team"),
    ],
)
def test_admin_person_form_refuses_bad_input_and_creates_nobody(
    client: Client, book: Book, changes: dict[str, str], field: str
) -> None:
    client.force_login(book.admin)
    users_before = User.objects.count()
    data = {
        "full_name": "Nuria Nueva",
        "email": "nuria@example.com",
        "role": Role.COORDINATOR,
        "is_active": "on",
        "password": PASSWORD,
        **changes,
    }
    response = client.post(reverse("users:user_create"), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert User.objects.count() == users_before


def test_admin_changes_a_persons_role_and_team(client: Client, book: Book) -> None:
    client.force_login(book.admin)
    response = client.post(
        reverse("users:user_edit", args=[book.teammate.pk]),
        {
            "full_name": "Tomás Teammate",
            "email": "teammate@example.com",
            "role": Role.ACCOUNT_MANAGER,
            "team": book.other_team.pk,
            "language": "",
        },
    )
    assert response.status_code == 302
    teammate = fresh(book.teammate)
    assert (teammate.role, teammate.team_id, teammate.is_active) == (
        Role.ACCOUNT_MANAGER,
        book.other_team.pk,
        False,
    )


def test_admin_cannot_deactivate_themselves(client: Client, book: Book) -> None:
    client.force_login(book.admin)
    response = client.post(
        reverse("users:user_edit", args=[book.admin.pk]),
        {"full_name": "Ada Admin", "email": "admin@example.com", "role": Role.ADMIN},
    )
    assert response.status_code == 422
    assert "You cannot demote or deactivate yourself." in response.content.decode()
    assert fresh(book.admin).is_active


def test_unknown_person_is_404(client: Client, book: Book) -> None:
    client.force_login(book.admin)
    assert client.get(reverse("users:user_edit", args=[999999])).status_code == 404


def test_people_list_renders_hostile_names_escaped(client: Client, book: Book) -> None:
    make_user(book.admin, "evil@example.com", "<img src=x onerror=alert(1)>", Role.SALES_REP, None)
    client.force_login(book.admin)
    content = client.get(reverse("users:user_list")).content.decode()
    assert "<img src=x" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in content


def test_admin_creates_and_renames_a_team_with_a_manager(client: Client, book: Book) -> None:
    client.force_login(book.admin)
    response = client.post(
        reverse("users:team_create"), {"name": "Benelux", "manager": book.manager.pk}
    )
    assert response.status_code == 302
    team = Team.objects.get(name="Benelux")
    assert team.manager_id == book.manager.pk
    response = client.post(reverse("users:team_edit", args=[team.pk]), {"name": "BeNeLux"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.manager_id) == ("BeNeLux", None)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Nordics"}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Benelux", "manager": "999999"}, "manager"),
    ],
)
def test_team_form_refuses_bad_input_and_saves_nothing(
    client: Client, book: Book, data: dict[str, str], field: str
) -> None:
    client.force_login(book.admin)
    response = client.post(reverse("users:team_edit", args=[book.team.pk]), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    team = Team.objects.get(pk=book.team.pk)
    assert (team.name, team.manager_id) == ("Iberia", book.manager.pk)


@pytest.mark.parametrize("rows", [2, 50])
def test_people_list_query_count_does_not_grow(
    client: Client, book: Book, django_assert_num_queries: Any, rows: int
) -> None:
    for number in range(rows):
        make_user(book.admin, f"p{number}@example.com", f"Person {number}", Role.SALES_REP, None)
    client.force_login(book.admin)
    # session, user, one page of people with their teams
    with django_assert_num_queries(3):
        response = client.get(reverse("users:user_list"))
    assert response.status_code == 200
    assert len(response.context["page"].items) == min(rows + 7, 50)


@pytest.mark.parametrize("rows", [2, 50])
def test_team_list_query_count_does_not_grow(
    client: Client, book: Book, django_assert_num_queries: Any, rows: int
) -> None:
    for number in range(rows):
        create_team(actor=book.admin, data={"name": f"Team {number}", "manager": book.manager})
    client.force_login(book.admin)
    # session, user, one page of teams with their managers
    with django_assert_num_queries(3):
        response = client.get(reverse("users:team_list"))
    assert response.status_code == 200
    assert len(response.context["page"].items) == min(rows + 2, 50)
