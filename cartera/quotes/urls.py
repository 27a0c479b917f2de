"""Pages of the quotes app."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "quotes"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.quote_list_view, name="list"),
    path("new/", views.quote_create, name="create"),
    path("settings/", views.quote_settings_view, name="settings"),
    path("<int:pk>/", views.quote_detail_view, name="detail"),
    path("<int:pk>/terms/", views.quote_terms, name="terms"),
    path("<int:pk>/lines/", views.line_add, name="line_add"),
    path("<int:pk>/lines/<int:line_pk>/", views.line_update, name="line_update"),
    path("<int:pk>/lines/<int:line_pk>/delete/", views.line_remove, name="line_remove"),
    path("<int:pk>/request-approval/", views.quote_request_approval, name="request_approval"),
    path("<int:pk>/decide/", views.quote_decide, name="decide"),
    path("<int:pk>/send/", views.quote_send, name="send"),
    path("<int:pk>/revise/", views.quote_revise, name="revise"),
    path("<int:pk>/pdf/", views.quote_pdf, name="pdf"),
    path("<int:pk>/history/", views.quote_history_view, name="history"),
    path("public/<str:token>/", views.public_quote, name="public"),
    path("public/<str:token>/pdf/", views.public_quote_pdf, name="public_pdf"),
]
