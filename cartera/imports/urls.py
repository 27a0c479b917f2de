"""Pages of the import flow: upload, column mapping, dry run, progress and result."""

from django.urls import URLPattern

app_name = "imports"
urlpatterns: list[URLPattern] = []
