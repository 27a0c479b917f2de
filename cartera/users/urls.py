"""Pages of the users app (being built)."""


app_name = "users"
urlpatterns: list = []
