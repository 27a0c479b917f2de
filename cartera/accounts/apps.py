from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Customer accounts (companies), their account teams and tags."""

    name = "cartera.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from cartera.core.audit import register

        from .models import Account, AccountTeamMember, Tag

        register(
            Account,
            exclude=["search_text", "name_key", "domain", "tax_id_key", "version"],
            m2m={"tags"},
        )
        register(AccountTeamMember)
        register(Tag)
