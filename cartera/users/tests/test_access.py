"""The scope rule every visibility filter starts from."""

from __future__ import annotations

from cartera.accounts.models import Account
from cartera.activities.models import Interaction
from cartera.contacts.models import Contact
from cartera.core.testing import EXPECTED_ACCESS, Book, fresh
from cartera.users.access import assignable_users, can_assign_owner, scope_user_ids


def test_scopes_follow_roles(book: Book) -> None:
    assert scope_user_ids(fresh(book.director)) is None
    assert scope_user_ids(fresh(book.admin)) is None
    assert scope_user_ids(fresh(book.owner)) == {book.owner.pk}
    assert scope_user_ids(fresh(book.outsider)) == {book.outsider.pk}
    team = {book.manager.pk, book.owner.pk, book.teammate.pk, book.read_only.pk}
    assert scope_user_ids(fresh(book.manager)) == team
    assert scope_user_ids(fresh(book.read_only)) == team


def test_accounts_contacts_and_interactions_follow_the_same_rule(book: Book) -> None:
    for persona, (can_see, _) in EXPECTED_ACCESS.items():
        user = fresh(book.persona(persona))
        assert Account.objects.visible_to(user).filter(pk=book.account.pk).exists() is can_see, (
            persona
        )
        assert Contact.objects.visible_to(user).filter(pk=book.contact.pk).exists() is can_see, (
            persona
        )
        assert (
            Interaction.objects.visible_to(user).filter(pk=book.interaction.pk).exists() is can_see
        ), persona


def test_only_directors_and_admins_see_the_other_teams_account(book: Book) -> None:
    seeing = {
        persona
        for persona in EXPECTED_ACCESS
        if Account.objects.visible_to(fresh(book.persona(persona)))
        .filter(pk=book.outsider_account.pk)
        .exists()
    }
    assert seeing == {"director", "admin", "outsider"}


def test_inactive_user_sees_nothing(book: Book) -> None:
    book.owner.is_active = False
    book.owner.save(update_fields=["is_active"])
    assert not Account.objects.visible_to(fresh(book.owner)).exists()


def test_owner_assignment_is_limited_to_the_actors_scope(book: Book) -> None:
    assert can_assign_owner(fresh(book.manager), book.owner)
    assert not can_assign_owner(fresh(book.owner), book.teammate)
    assert not can_assign_owner(fresh(book.director), book.read_only)
    assert [u.pk for u in assignable_users(fresh(book.owner))] == [book.owner.pk]


def test_scope_is_computed_once_per_request(book: Book, django_assert_num_queries) -> None:
    manager = fresh(book.manager)
    with django_assert_num_queries(1):  # SELECT team members of the managed teams
        scope_user_ids(manager)
        scope_user_ids(manager)
