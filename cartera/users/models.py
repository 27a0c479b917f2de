"""People who sign in (``User``), the teams they work in, and their personal API tokens."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cartera.core.models import TimeStampedModel
from cartera.core.text import normalize


class Role(models.TextChoices):
    """What a person does; decides what they see (see ``cartera.users.access``)."""

    ADMIN = "admin", _("Administrator")
    DIRECTOR = "director", _("Account director")
    MANAGER = "manager", _("Sales manager")
    ACCOUNT_MANAGER = "account_manager", _("Account manager (AE/AM/KAM)")
    COORDINATOR = "coordinator", _("Coordinator")
    SALES_REP = "sales_rep", _("Sales rep")
    READ_ONLY = "read_only", _("Read-only")


class UserManager(BaseUserManager["User"]):
    """Users are identified by email."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        """A user with a normalised email and a hashed password."""
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        """An administrator with every permission."""
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class Team(TimeStampedModel):
    """A group of people with a manager; managers see their team's accounts."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    office = models.CharField(
        _("office"),
        max_length=120,
        blank=True,
        default="",
        help_text=_("Regional office or territory the team works from; reports group by it."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin, TimeStampedModel):
    """Someone who signs in to Cartera. ("Account" always means a customer, never a login.)"""

    email = models.EmailField(_("email"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.SALES_REP, db_index=True
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    search_text = models.CharField(max_length=400, blank=True, default="", editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = normalize(f"{self.full_name} {self.email}")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text", "updated_at"}
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def sees_everything(self) -> bool:
        """Directors and administrators see every account."""
        return self.role in {Role.ADMIN, Role.DIRECTOR} or self.is_superuser

    @property
    def can_write(self) -> bool:
        """Read-only users never change anything."""
        return self.is_active and self.role != Role.READ_ONLY

    @property
    def is_admin(self) -> bool:
        """May manage users, teams and settings."""
        return self.role == Role.ADMIN or self.is_superuser


class ApiToken(TimeStampedModel):
    """A personal access token for the REST API; only its SHA-256 hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        """Not revoked and not expired."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
