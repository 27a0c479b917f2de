"""REST operations on the signed-in person, people, teams and personal access tokens."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from cartera.core.api import (
    READ_ERRORS,
    WRITE_ERRORS,
    PageOut,
    PageQuery,
    not_modified,
    page_out,
    request_actor,
    with_etag,
)
from cartera.core.pagination import keyset_page

from . import selectors, services
from .schemas import (
    MeOut,
    ProfilePatch,
    TeamIn,
    TeamOut,
    TeamPatch,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserDetailOut,
    UserIn,
    UserOut,
    UserPatch,
)

router = Router(tags=["users"])

ERRORS = READ_ERRORS
ADMIN_ERRORS = WRITE_ERRORS


@router.get("/me", response={200: MeOut, 304: None, **ERRORS})
def get_me(request: HttpRequest, response: HttpResponse) -> Any:
    """The signed-in person."""
    me = request_actor(request)
    if cached := not_modified(request, me):
        return cached
    with_etag(response, me)
    return me


@router.patch("/me", response={200: MeOut, **ERRORS})
def update_me(request: HttpRequest, response: HttpResponse, payload: ProfilePatch) -> Any:
    """Change one's own name, language ('en', 'es', or '' to follow the browser) or time zone."""
    me = request_actor(request)
    me = services.update_user(actor=me, user=me, changes=payload.model_dump(exclude_unset=True))
    with_etag(response, me)
    return me


@router.get("/users", response={200: PageOut[UserOut], **ERRORS})
def list_users(request: HttpRequest, page: Query[PageQuery]) -> Any:
    """People, by name: active ones for everyone, everyone for administrators."""
    queryset = selectors.user_list(request_actor(request))
    return page_out(
        keyset_page(queryset, ordering=("full_name", "pk"), cursor=page.cursor, limit=page.limit)
    )


@router.post("/users", response={201: UserDetailOut, **ADMIN_ERRORS})
def create_user(request: HttpRequest, response: HttpResponse, payload: UserIn) -> Any:
    """Add a person who can sign in (administrators)."""
    data = payload.model_dump(exclude={"password"})
    user = services.create_user(actor=request_actor(request), data=data, password=payload.password)
    with_etag(response, user)
    return Status(201, user)


@router.get("/users/{pk}", response={200: UserDetailOut, 304: None, **ERRORS})
def get_user(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One person's full record (administrators; 404 for everyone else)."""
    user = selectors.get_user_for_admin(request_actor(request), pk)
    if cached := not_modified(request, user):
        return cached
    with_etag(response, user)
    return user


@router.patch("/users/{pk}", response={200: UserDetailOut, **ADMIN_ERRORS})
def update_user(request: HttpRequest, response: HttpResponse, pk: int, payload: UserPatch) -> Any:
    """Change a person's details, role, team or whether they may sign in (administrators)."""
    actor = request_actor(request)
    user = selectors.get_user_for_admin(actor, pk)
    user = services.update_user(
        actor=actor, user=user, changes=payload.model_dump(exclude_unset=True)
    )
    with_etag(response, user)
    return user


@router.get("/teams", response={200: PageOut[TeamOut], **ERRORS})
def list_teams(request: HttpRequest, page: Query[PageQuery]) -> Any:
    """Every team with its manager, by name."""
    return page_out(
        keyset_page(
            selectors.team_list(), ordering=("name", "pk"), cursor=page.cursor, limit=page.limit
        )
    )


@router.post("/teams", response={201: TeamOut, **ADMIN_ERRORS})
def create_team(request: HttpRequest, response: HttpResponse, payload: TeamIn) -> Any:
    """Add a team (administrators)."""
    team = services.create_team(actor=request_actor(request), data=payload.model_dump())
    with_etag(response, team)
    return Status(201, team)


@router.get("/teams/{pk}", response={200: TeamOut, 304: None, **ERRORS})
def get_team(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One team (administrators; 404 for everyone else)."""
    team = selectors.get_team(request_actor(request), pk)
    if cached := not_modified(request, team):
        return cached
    with_etag(response, team)
    return team


@router.patch("/teams/{pk}", response={200: TeamOut, **ADMIN_ERRORS})
def update_team(request: HttpRequest, response: HttpResponse, pk: int, payload: TeamPatch) -> Any:
    """Rename a team or change its manager (administrators)."""
    actor = request_actor(request)
    team = selectors.get_team(actor, pk)
    team = services.update_team(
        actor=actor, team=team, changes=payload.model_dump(exclude_unset=True)
    )
    with_etag(response, team)
    return team


@router.get("/tokens", response={200: PageOut[TokenOut], **ERRORS})
def list_tokens(request: HttpRequest, page: Query[PageQuery]) -> Any:
    """The signed-in person's own tokens, newest first."""
    queryset = selectors.token_list(request_actor(request))
    return page_out(
        keyset_page(queryset, ordering=("-created_at", "-pk"), cursor=page.cursor, limit=page.limit)
    )


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS})
def create_token(request: HttpRequest, payload: TokenIn) -> Any:
    """Create a personal access token; its secret is in this response only."""
    me = request_actor(request)
    token, raw = services.create_api_token(
        actor=me, user=me, name=payload.name, expires_at=payload.expires_at
    )
    token.token = raw  # type: ignore[attr-defined]
    return Status(201, token)


@router.get("/tokens/{pk}", response={200: TokenOut, 304: None, **ERRORS})
def get_token(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One of the signed-in person's tokens."""
    token = selectors.get_token_for_user(request_actor(request), pk)
    if cached := not_modified(request, token):
        return cached
    with_etag(response, token)
    return token


@router.delete("/tokens/{pk}", response={200: TokenOut, **ERRORS})
def revoke_token(request: HttpRequest, pk: int) -> Any:
    """Revoke one of the signed-in person's tokens for good (it stays listed, as revoked)."""
    actor = request_actor(request)
    token = selectors.get_token_for_user(actor, pk)
    return services.revoke_api_token(actor=actor, token=token)
