"""The one NinjaAPI (REST, /api/v1/) with a router per app (being built)."""

from ninja import NinjaAPI

api = NinjaAPI(title="Cartera API", version="1", urls_namespace="api")
