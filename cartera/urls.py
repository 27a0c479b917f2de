"""URL routes: the REST API under /api/v1/ and each app's pages."""

from django.urls import include, path

from cartera.api import api

urlpatterns = [
    path("", include("cartera.users.auth_urls")),
    path("api/v1/", api.urls),
    path("", include("cartera.core.urls")),
    path("", include("cartera.users.urls")),
    path("accounts/", include("cartera.accounts.urls")),
    path("contacts/", include("cartera.contacts.urls")),
    path("timeline/", include("cartera.activities.urls")),
    path("search/", include("cartera.search.urls")),
    path("imports/", include("cartera.imports.urls")),
    path("deals/", include("cartera.sales.urls")),
    path("products/", include("cartera.catalog.urls")),
    path("leads/", include("cartera.leads.urls")),
    path("quotes/", include("cartera.quotes.urls")),
    path("targets/", include("cartera.targets.urls")),
    path("reports/", include("cartera.reports.urls")),
    path("notifications/", include("cartera.notifications.urls")),
]
