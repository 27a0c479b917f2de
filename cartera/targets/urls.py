"""Pages of the targets app."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "targets"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.target_index, name="index"),
    path("new", views.target_create, name="create"),
    path("<int:pk>/", views.target_detail, name="detail"),
    path("<int:pk>/edit", views.target_edit, name="edit"),
    path("<int:pk>/delete", views.target_delete, name="delete"),
]
