"""The interop endpoints, at the site's root (authorization/urls.py includes this table with
no prefix): DCAT, the CKAN action API, feeds, sitemap, robots.txt and the data users' guide."""

from django.urls import path, re_path

from . import ckan, feeds, views

app_name = "interop"

urlpatterns = [
    path("catalog.ttl", views.catalog_rdf, {"fmt": "ttl"}, name="catalog_ttl"),
    path("catalog.jsonld", views.catalog_rdf, {"fmt": "jsonld"}, name="catalog_jsonld"),
    path("catalog.rdf", views.catalog_rdf, {"fmt": "rdf"}, name="catalog_rdf"),
    path("catalog.nt", views.catalog_rdf, {"fmt": "nt"}, name="catalog_nt"),
    path("dcat/catalog", views.catalog_negotiated, name="catalog"),
    re_path(
        r"^dcat/datasets/(?P<uuid>[0-9a-fA-F-]{36})\.(?P<fmt>ttl|jsonld|rdf|nt)$",
        views.dataset_rdf,
        name="dataset_file",
    ),
    re_path(r"^dcat/datasets/(?P<uuid>[0-9a-fA-F-]{36})$", views.dataset_rdf, name="dataset"),
    path("api/3/action/<str:name>", ckan.action, name="ckan_action"),
    path("api/3/action/<str:name>/", ckan.action),
    # ckanapi and older clients call the unversioned path.
    path("api/action/<str:name>", ckan.action),
    path("feeds/open-data.atom", feeds.OpenDataFeed(), name="feed"),
    path("sitemap.xml", feeds.sitemap, name="sitemap"),
    path("robots.txt", feeds.robots, name="robots"),
    path("open/data-users/", feeds.guide, name="guide"),
]
