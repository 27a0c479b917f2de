"""Pages of the sales app."""

from django.urls import URLPattern, URLResolver

app_name = "sales"
urlpatterns: list[URLPattern | URLResolver] = []
