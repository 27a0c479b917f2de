"""Reads of people, teams and tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from cartera.core.errors import NotFound

from .models import ApiToken, Team, User


def user_list(actor: User) -> QuerySet[User]:
    """Everyone, for administrators; otherwise the active people (names only are shown)."""
    queryset = User.objects.select_related("team").order_by("full_name", "pk")
    return queryset if actor.is_admin else queryset.filter(is_active=True)


def get_user_for_admin(actor: User, pk: int | str) -> User:
    """A person an administrator may manage (404 for everyone else)."""
    if not actor.is_admin:
        raise NotFound()
    try:
        return User.objects.select_related("team").get(pk=int(pk))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc


def team_list() -> QuerySet[Team]:
    """Every team with its manager."""
    return Team.objects.select_related("manager").order_by("name")


def get_team(actor: User, pk: int | str) -> Team:
    """A team (administrators manage teams; 404 for others)."""
    if not actor.is_admin:
        raise NotFound()
    try:
        return Team.objects.select_related("manager").get(pk=int(pk))
    except (Team.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc


def token_list(user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def get_token_for_user(user: User, pk: int | str) -> ApiToken:
    """One of the user's own tokens (404 otherwise)."""
    try:
        return ApiToken.objects.get(pk=int(pk), user=user)
    except (ApiToken.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc


def get_person(pk: int | str) -> User:
    """Anyone by pk, active or not, for naming them on an account team (404 when missing).

    Names of colleagues are not secret inside the company; what they may see is decided
    elsewhere.
    """
    try:
        return User.objects.select_related("team").get(pk=int(pk))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound() from exc
