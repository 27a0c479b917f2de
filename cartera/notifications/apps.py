from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """In-app notifications (with an email copy) to tell people what needs them."""

    name = "cartera.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
