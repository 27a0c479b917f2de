"""Pages of the catalog app."""

from django.urls import URLPattern, URLResolver

app_name = "catalog"
urlpatterns: list[URLPattern | URLResolver] = []
