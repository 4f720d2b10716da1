"""Harvest-friendly pages (issue #18, items 3 and 4): an Atom feed of newly opened and changed
resources of the open catalog, sitemap.xml of the public pages, robots.txt, and the guide for
data users (curl, ckanapi, rdflib)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from django.contrib.syndication.views import Feed
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_safe

from . import selectors
from .throttle import throttled

FEED_ITEMS = 50
SITEMAP_URLS = 50_000  # the sitemaps protocol's limit per file


def _modified():
    return Greatest("published_at", Coalesce("resource__open_dataset__built_at", "published_at"))


class OpenDataFeed(Feed):
    """The newest changes of the open catalog: a resource newly published in it (opened, or
    a new version) or its open-data files rebuilt after a load."""

    feed_type = Atom1Feed
    title = pgettext_lazy("interop", "Wuhan open data: new and changed resources")
    subtitle = _("Resources of the open catalog, newest change first.")
    link = "/open/"

    def __call__(self, request, *args, **kwargs):
        return throttled(super().__call__)(request, *args, **kwargs)

    def feed_url(self):
        return reverse("interop:feed")

    def items(self):
        return list(
            selectors.open_catalog_entries()
            .annotate(changed=_modified())
            .order_by("-changed", "resource_id")
            .values(
                "resource_id", "code", "name", "summary", "provider_name", "published_at", "changed"
            )[:FEED_ITEMS]
        )

    def item_title(self, item):
        return item["name"]

    def item_description(self, item):
        return item["summary"] or item["name"]

    def item_link(self, item):
        return f"/catalog/resources/{item['resource_id']}/"

    def item_guid(self, item):
        return f"{item['code']}@{item['changed'].isoformat()}"

    item_guid_is_permalink = False

    def item_author_name(self, item):
        return item["provider_name"]

    def item_pubdate(self, item):
        return item["published_at"]

    def item_updateddate(self, item):
        return item["changed"]


STATIC_PAGES = ["/", "/catalog/", "/open/", "/open/data-users/", "/organizations/"]


@require_safe
@throttled
def sitemap(request):
    """The public pages: a urlset, or an index of urlsets (?page=N) past 50,000 URLs."""
    base = request.build_absolute_uri("/").rstrip("/")
    entries = selectors.open_catalog_entries()
    total = len(STATIC_PAGES) + entries.count()
    pages = max(1, -(-total // SITEMAP_URLS))
    page = request.GET.get("page")
    if page is None and pages > 1:
        body = ['<?xml version="1.0" encoding="UTF-8"?>\n']
        body.append('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
        for n in range(1, pages + 1):
            body.append(f"<sitemap><loc>{escape(base)}/sitemap.xml?page={n}</loc></sitemap>\n")
        body.append("</sitemapindex>\n")
        return HttpResponse("".join(body), content_type="application/xml; charset=utf-8")
    try:
        number = int(page or 1)
    except ValueError:
        raise Http404 from None
    if not 1 <= number <= pages:
        raise Http404
    offset = (number - 1) * SITEMAP_URLS

    def lines():
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        yield '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        static = STATIC_PAGES[offset : offset + SITEMAP_URLS]
        for path in static:
            yield f"<url><loc>{escape(base + path)}</loc></url>\n"
        start = max(0, offset - len(STATIC_PAGES))
        count = SITEMAP_URLS - len(static)
        rows = (
            entries.annotate(changed=_modified())
            .order_by("resource_id")
            .values_list("resource_id", "changed")[start : start + count]
        )
        for pk, changed in rows.iterator(chunk_size=2000):
            yield (
                f"<url><loc>{escape(base)}/catalog/resources/{pk}/</loc>"
                f"<lastmod>{changed.date().isoformat()}</lastmod></url>\n"
            )
        yield "</urlset>\n"

    return StreamingHttpResponse(lines(), content_type="application/xml; charset=utf-8")


ROBOTS = """User-agent: *
Disallow: /admin/
Disallow: /accounts/
Disallow: /notifications/
Disallow: /sharing/
Disallow: /sandbox/
Disallow: /api/v1/
Allow: /api/v1/open/
Allow: /api/3/
Allow: /catalog/
Allow: /open/
Disallow: /open/applications/

Sitemap: {base}/sitemap.xml
"""


@require_safe
def robots(request):
    base = request.build_absolute_uri("/").rstrip("/")
    return HttpResponse(ROBOTS.format(base=base), content_type="text/plain; charset=utf-8")


@require_safe
def guide(request):
    base = request.build_absolute_uri("/").rstrip("/")
    return render(request, "authorization/interop/guide.html", {"base": base})
