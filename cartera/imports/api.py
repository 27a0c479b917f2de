"""REST API of import jobs."""

from ninja import Router

router = Router(tags=["imports"])
