from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    """People who sign in, their teams and roles, and their API tokens."""

    name = "cartera.users"
    label = "users"
    verbose_name = _("Users and teams")

    def ready(self) -> None:
        from cartera.core.audit import register

        from .models import ApiToken, Team, User

        register(User, exclude=["password", "last_login", "search_text"])
        register(Team)
        register(ApiToken, exclude=["token_hash", "last_used_at"])
