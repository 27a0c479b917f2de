from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    """People at customer accounts."""

    name = "cartera.contacts"
    label = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from cartera.core.audit import register

        from .models import Contact, ContactAccount

        register(Contact, exclude=["search_text", "name_key", "version"])
        register(ContactAccount)
