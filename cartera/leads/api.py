"""REST operations of the leads app."""

from ninja import Router

router = Router(tags=["leads"])
