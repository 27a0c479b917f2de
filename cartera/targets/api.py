"""REST operations of the targets app."""

from ninja import Router

router = Router(tags=["targets"])
