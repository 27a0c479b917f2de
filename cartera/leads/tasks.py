"""Background work of the leads app (run by ``cartera worker``)."""

from __future__ import annotations

from django_tasks import task

from .services import rescore_leads


@task()
def rescore_all_leads() -> int:
    """Recompute every open lead's score; schedule daily so "activity in the last D days" decays."""
    return rescore_leads()
