"""Pages of the contacts app."""

from django.urls import path

from . import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("export/", views.contact_export, name="export"),
    path("new/", views.contact_create, name="create"),
    path("account-options/", views.account_options, name="account_options"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/trash/", views.contact_trash, name="trash"),
    path("<int:pk>/restore/", views.contact_restore, name="restore"),
    path("<int:pk>/timeline/", views.contact_timeline, name="timeline"),
]
