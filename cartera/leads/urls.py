"""Pages of the leads app."""

from django.urls import path

from . import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list_view, name="list"),
    path("export/", views.lead_export, name="export"),
    path("new/", views.lead_create, name="create"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/assign/", views.lead_assign, name="assign"),
    path("<int:pk>/activities/", views.lead_activity, name="activity"),
    path("<int:pk>/convert/", views.lead_convert, name="convert"),
    path("<int:pk>/trash/", views.lead_trash, name="trash"),
    path("form/<slug:slug>/", views.public_form, name="public_form"),
    path("form/<slug:slug>/embed/", views.public_form_embed, name="public_form_embed"),
    path("settings/forms/", views.web_form_list, name="web_forms"),
    path("settings/forms/new/", views.web_form_edit, name="web_form_create"),
    path("settings/forms/<int:pk>/", views.web_form_edit, name="web_form_edit"),
    path("settings/forms/<int:pk>/delete/", views.web_form_delete, name="web_form_delete"),
    path("settings/assignment/", views.assignment_rules, name="assignment_rules"),
    path("settings/assignment/<int:pk>/", views.assignment_rules, name="assignment_rule_edit"),
    path(
        "settings/assignment/<int:pk>/delete/",
        views.assignment_rule_delete,
        name="assignment_rule_delete",
    ),
    path("settings/scoring/", views.scoring_rules, name="scoring_rules"),
    path("settings/scoring/<int:pk>/", views.scoring_rules, name="scoring_rule_edit"),
    path(
        "settings/scoring/<int:pk>/delete/", views.scoring_rule_delete, name="scoring_rule_delete"
    ),
]
