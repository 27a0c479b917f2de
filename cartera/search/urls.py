"""Pages of the search app (being built)."""


app_name = "search"
urlpatterns: list = []
