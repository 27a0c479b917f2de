"""API shapes of people, teams and personal access tokens."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from functools import cache

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from cartera.core.api import Id, InputSchema

from .models import ApiToken, Role


class UserRef(Schema):
    """A person as other objects point to them."""

    pk: int
    full_name: str


class TeamRef(Schema):
    """A team as other objects point to it."""

    pk: int
    name: str


class UserOut(Schema):
    """A person as every signed-in user may see them."""

    pk: int
    full_name: str
    email: str
    role: str
    team: TeamRef | None
    is_active: bool


class UserDetailOut(UserOut):
    """A person as administrators (and the person themselves) see them."""

    language: str
    time_zone: str
    created_at: datetime
    updated_at: datetime


class MeOut(UserDetailOut):
    """The signed-in person, with what they may do."""

    can_write: bool
    is_admin: bool
    sees_everything: bool


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _valid_time_zone(value: str | None) -> str | None:
    if value and value not in _time_zones():
        raise PydanticCustomError("time_zone", _("Choose a time zone such as Europe/Madrid."))
    return value


class ProfilePatch(InputSchema):
    """Changes the signed-in person makes to their own profile."""

    full_name: str | None = Field(None, max_length=150)
    language: str | None = Field(None, max_length=8, description="'en', 'es' or '' (browser)")
    time_zone: str | None = Field(None, max_length=64, description="IANA name, e.g. Europe/Madrid")

    _time_zone = field_validator("time_zone")(_valid_time_zone)


class UserIn(InputSchema):
    """A new person who can sign in."""

    email: str = Field(max_length=254)
    full_name: str = Field(max_length=150)
    password: str = Field(max_length=128, description="Checked against the password rules")
    role: Role = Role.SALES_REP
    team: Id | None = Field(None, description="Team id")
    language: str = Field("", max_length=8)
    time_zone: str = Field("", max_length=64)
    is_active: bool = True

    _time_zone = field_validator("time_zone")(_valid_time_zone)


class UserPatch(InputSchema):
    """Changes an administrator makes to a person."""

    email: str | None = Field(None, max_length=254)
    full_name: str | None = Field(None, max_length=150)
    role: Role | None = None
    team: Id | None = Field(None, description="Team id, or null for none")
    language: str | None = Field(None, max_length=8)
    time_zone: str | None = Field(None, max_length=64)
    is_active: bool | None = None

    _time_zone = field_validator("time_zone")(_valid_time_zone)


class TeamOut(Schema):
    """A team and its manager."""

    pk: int
    name: str
    manager: UserRef | None
    office: str


class TeamIn(InputSchema):
    """A new team."""

    name: str = Field(max_length=120)
    manager: Id | None = Field(None, description="User id of the manager")
    office: str = Field("", max_length=120, description="Regional office or territory")


class TeamPatch(InputSchema):
    """Changes to a team."""

    name: str | None = Field(None, max_length=120)
    manager: Id | None = Field(None, description="User id of the manager, or null for none")
    office: str | None = Field(None, max_length=120, description="Regional office or territory")


class TokenOut(Schema):
    """A personal access token (never its secret, which is not stored)."""

    pk: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    is_usable: bool

    @staticmethod
    def resolve_is_usable(obj: ApiToken) -> bool:
        """Not revoked and not expired."""
        return obj.is_usable


class TokenIn(InputSchema):
    """A new personal access token."""

    name: str = Field(max_length=100)
    expires_at: datetime | None = Field(
        None, description="Leave out for a token that never expires"
    )


class TokenCreatedOut(TokenOut):
    """A token just created: ``token`` is shown this once and cannot be recovered."""

    token: str = Field(description="Send as 'Authorization: Bearer <token>'")
