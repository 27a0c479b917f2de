"""Pages of the accounts app."""

from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list_view, name="list"),
    path("export/", views.account_export, name="export"),
    path("new/", views.account_create, name="create"),
    path("trash/", views.account_trash, name="trash"),
    path("autocomplete/", views.account_autocomplete, name="autocomplete"),
    path("<int:pk>/", views.account_detail_view, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/contacts/", views.account_contacts, name="contacts"),
    path("<int:pk>/team/", views.account_team, name="team"),
    path("<int:pk>/team/remove/", views.account_team_remove, name="team_remove"),
    path("<int:pk>/history/", views.account_history_view, name="history"),
    path("<int:pk>/trash/", views.account_trash_action, name="trash_account"),
    path("<int:pk>/restore/", views.account_restore, name="restore"),
]
