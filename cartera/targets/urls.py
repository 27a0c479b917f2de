"""Pages of the targets app."""

from django.urls import URLPattern, URLResolver

app_name = "targets"
urlpatterns: list[URLPattern | URLResolver] = []
