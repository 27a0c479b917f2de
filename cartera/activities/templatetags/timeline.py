"""Template filters for the timeline; the rules themselves live in the service layer."""

from __future__ import annotations

from typing import Any

from django import template

from cartera.activities.models import Interaction
from cartera.activities.services import can_edit_interaction

register = template.Library()


@register.filter
def editable_by(entry: Interaction, user: Any) -> bool:
    """Whether ``user`` may correct or remove ``entry`` (shows the buttons)."""
    return bool(getattr(user, "is_authenticated", False)) and can_edit_interaction(user, entry)
