"""Pages of the sales app (mounted at /deals/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "sales"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.deal_list, name="list"),
    path("export/", views.deal_export, name="export"),
    path("new/", views.deal_create, name="create"),
    path("trash/", views.deal_trash_list, name="trash_list"),
    path("board/", views.board, name="board"),
    path("board/<int:pipeline>/", views.board, name="pipeline_board"),
    path("forecast/", views.forecast, name="forecast"),
    path("account/<int:account>/", views.account_deals, name="account_deals"),
    path("settings/", views.pipeline_settings, name="settings"),
    path("settings/pipelines/<int:pk>/", views.pipeline_edit, name="pipeline_edit"),
    path(
        "settings/loss-reasons/<int:pk>/toggle/",
        views.loss_reason_toggle,
        name="loss_reason_toggle",
    ),
    path("<int:pk>/", views.deal_detail, name="detail"),
    path("<int:pk>/edit/", views.deal_edit, name="edit"),
    path("<int:pk>/move/", views.deal_move, name="move"),
    path("<int:pk>/trash/", views.deal_trash, name="trash"),
    path("<int:pk>/restore/", views.deal_restore, name="restore"),
    path("<int:pk>/contacts/", views.deal_contact_add, name="contact_add"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/remove/",
        views.deal_contact_remove,
        name="contact_remove",
    ),
    path("<int:pk>/lines/", views.deal_line_add, name="line_add"),
    path("<int:pk>/lines/<int:line_pk>/remove/", views.deal_line_remove, name="line_remove"),
]
