"""Pages of the import flow: upload, column mapping, dry run, progress and result."""

from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.import_new, name="new"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/mapping/", views.import_mapping, name="mapping"),
    path("<int:pk>/mapping/saved/", views.import_apply_mapping, name="apply_mapping"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/dry-run/", views.import_dry_run, name="dry_run"),
    path("<int:pk>/start/", views.import_start, name="start"),
    path("<int:pk>/cancel/", views.import_cancel, name="cancel"),
    path("<int:pk>/delete/", views.import_delete, name="delete"),
    path("<int:pk>/errors.csv", views.import_errors, name="errors"),
]
