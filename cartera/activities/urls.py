"""Pages of the activities app (being built)."""


app_name = "activities"
urlpatterns: list = []
