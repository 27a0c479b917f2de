from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    """The interaction timeline: calls, emails, meetings, notes and status changes."""

    name = "cartera.activities"
    label = "activities"
    verbose_name = _("Timeline")

    def ready(self) -> None:
        from cartera.core.audit import register

        from .models import Interaction

        register(Interaction, exclude=["version"])
