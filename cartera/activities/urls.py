"""Pages of the activities app: the timeline of interactions."""

from django.urls import path

from . import views

app_name = "activities"
urlpatterns = [
    path("", views.interaction_list, name="list"),
    path("export/", views.interaction_export, name="export"),
    path("account/<int:pk>/", views.account_timeline, name="account_timeline"),
    path("account/<int:pk>/log/", views.quick_log, name="quick_log"),
    path("<int:pk>/edit/", views.interaction_edit, name="edit"),
    path("<int:pk>/delete/", views.interaction_delete, name="delete"),
]
