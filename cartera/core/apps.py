from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared building blocks: base models, access, audit, errors, pagination, formatting."""

    name = "cartera.core"
    label = "core"
