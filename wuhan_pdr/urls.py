from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from catalog import api as catalog_api
from catalog.standards import api as standards_api
from wuhan_pdr.accounts import api as accounts_api

router = DefaultRouter()
router.register("organizations", accounts_api.OrganizationViewSet, basename="organization")

api_v1 = [
    path("me/", accounts_api.MeView.as_view(), name="me"),
    path("catalog/resources/", catalog_api.CatalogResourceList.as_view(), name="catalog-resources"),
    path("standards/elements/", standards_api.DataElementList.as_view(), name="standards-elements"),
    path("ingest/", include("aggregation.api_urls")),
    path("", include("authorization.api_urls")),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", include("wuhan_pdr.kernel.urls")),
    path("", include("wuhan_pdr.accounts.urls")),
    path("catalog/", include("catalog.urls")),
    path("standards/", include("catalog.standards.urls")),
    path("aggregation/", include("aggregation.urls")),
    path("objections/", include("aggregation.objections.urls")),
    path("quality/", include("aggregation.quality.urls")),
    path("filing/", include("catalog.filing.urls")),
    path("security/", include("security.urls")),
    path("", include("authorization.urls")),
    path("registration/", include("registration.urls")),
    path("supervision/", include("supervision.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view loads its start-up script from a URL (no inline script: see the CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

admin.site.site_header = "武汉市公共数据资源平台 · 管理后台"
admin.site.site_title = "武汉市公共数据资源平台"
