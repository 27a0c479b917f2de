"""Pages of the core app (being built)."""

app_name = "core"
urlpatterns: list = []
