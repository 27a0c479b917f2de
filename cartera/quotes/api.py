"""REST operations of the quotes app."""

from ninja import Router

router = Router(tags=["quotes"])
