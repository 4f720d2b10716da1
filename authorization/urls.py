"""Pages of the authorization app; each part keeps its own URL table."""

from django.urls import include, path

urlpatterns = [
    path("sharing/", include("authorization.sharing.urls")),
    path("open/", include("authorization.opendata.urls")),
    path("sandbox/", include("authorization.sandbox.urls")),
    path("operation/", include("authorization.operation.urls")),
    path("disclosures/", include("authorization.operation.public_urls")),
    path("revenue/", include("authorization.revenue.urls")),
    path("pilots/", include("authorization.pilots.urls")),
    # /catalog.ttl, /catalog.jsonld, /catalog.rdf, /api/3/action/... (issue #18)
    path("", include("authorization.interop.urls")),
]
