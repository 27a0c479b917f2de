"""The one NinjaAPI (REST, /api/v1/) with a router per app; docs at /api/v1/docs."""

from cartera.accounts.api import router as accounts_router
from cartera.activities.api import router as activities_router
from cartera.catalog.api import router as catalog_router
from cartera.contacts.api import router as contacts_router
from cartera.core.api import build_api
from cartera.core.audit_api import router as audit_router
from cartera.imports.api import router as imports_router
from cartera.leads.api import router as leads_router
from cartera.notifications.api import router as notifications_router
from cartera.quotes.api import router as quotes_router
from cartera.reports.api import router as reports_router
from cartera.sales.api import router as sales_router
from cartera.search.api import router as search_router
from cartera.targets.api import router as targets_router
from cartera.users.api import router as users_router

api = build_api(
    title="Cartera API",
    version="1",
    urls_namespace="api",
    description=(
        "Everything the Cartera web interface does. Authenticate with the browser session "
        "(send the CSRF token on writes) or a personal access token: "
        "`Authorization: Bearer crt_…`. Errors are RFC 9457 `application/problem+json` "
        "documents; lists are cursor pages (`cursor`, `limit` ≤ 200); single resources carry "
        "an `ETag`, and changes to accounts, contacts and interactions need it back in "
        "`If-Match`."
    ),
)
# Routers carry their full paths; order matters only where paths overlap (/accounts/trash
# before /accounts/{pk}), which each router handles itself.
api.add_router("", accounts_router)
api.add_router("", contacts_router)
api.add_router("", activities_router)
api.add_router("", search_router)
api.add_router("", users_router)
api.add_router("", audit_router)
api.add_router("", imports_router)
api.add_router("", sales_router)
api.add_router("", catalog_router)
api.add_router("", leads_router)
api.add_router("", quotes_router)
api.add_router("", targets_router)
api.add_router("", reports_router)
api.add_router("", notifications_router)
