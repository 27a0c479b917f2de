"""Pages of the accounts app (being built)."""


app_name = "accounts"
urlpatterns: list = []
