"""Who sees whose work: the one rule every visibility filter in Cartera starts from."""

from __future__ import annotations

from django.db.models import Q

from .models import Role, User


def scope_user_ids(user: User) -> frozenset[int] | None:
    """Ids of the people whose accounts ``user`` sees; ``None`` means everyone's.

    - administrators and directors: everyone's;
    - managers: their own, and those of every member of the teams they manage or belong to;
    - read-only: those of their team (they never write);
    - account managers, coordinators and reps: their own.

    Cached on the user object for the length of a request.
    """
    cached: frozenset[int] | bool | None = getattr(user, "_cartera_scope", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    scope: frozenset[int] | None
    if not user.is_authenticated or not user.is_active:
        scope = frozenset()
    elif user.sees_everything:
        scope = None
    elif user.role == Role.MANAGER:
        members = User.objects.filter(
            Q(team__manager=user) | Q(team_id=user.team_id, team_id__isnull=False)
        ).values_list("pk", flat=True)
        scope = frozenset({user.pk, *members})
    elif user.role == Role.READ_ONLY and user.team_id:
        scope = frozenset(
            {user.pk, *User.objects.filter(team_id=user.team_id).values_list("pk", flat=True)}
        )
    else:
        scope = frozenset({user.pk})
    user._cartera_scope = scope  # type: ignore[attr-defined]
    return scope


def assignable_users(user: User) -> list[User]:
    """People ``user`` may make owner of an account: themselves, their team, or anyone."""
    scope = scope_user_ids(user)
    queryset = User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)
    if scope is not None:
        queryset = queryset.filter(pk__in=scope)
    return list(queryset.order_by("full_name"))


def can_assign_owner(actor: User, owner: User) -> bool:
    """Whether ``actor`` may give an account to ``owner``."""
    if not owner.is_active or owner.role == Role.READ_ONLY:
        return False
    scope = scope_user_ids(actor)
    return scope is None or owner.pk in scope
