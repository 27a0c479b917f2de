"""Pages of the contacts app (being built)."""


app_name = "contacts"
urlpatterns: list = []
