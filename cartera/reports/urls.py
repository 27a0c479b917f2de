"""Pages of the reports app."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "reports"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.report_index, name="index"),
    path("<slug:name>/", views.report_detail, name="detail"),
    path("<slug:name>/export", views.report_export_view, name="export"),
]
