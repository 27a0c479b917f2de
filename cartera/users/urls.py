"""Pages of the users app: sign-in helpers, profile, language, API tokens, people and teams."""

from django.urls import path

from . import views

app_name = "users"
urlpatterns = [
    path("language/", views.set_language, name="set_language"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/", views.token_list, name="token_list"),
    path("profile/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("people/", views.user_list, name="user_list"),
    path("people/new/", views.user_create, name="user_create"),
    path("people/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
]
