from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    """Sales targets (quotas) per person and team, and their attainment."""

    name = "cartera.targets"
    label = "targets"
    verbose_name = _("Targets")

    def ready(self) -> None:
        from cartera.core.audit import register

        from .models import Target

        register(Target, exclude=["version"])
