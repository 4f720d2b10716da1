"""DCAT 3 / DCAT-AP 3.0 (issue #18, item 1): the whole open catalog conforms to the official
DCAT-AP 3.0 SHACL shapes, Turtle, JSON-LD and RDF/XML give the same graph, pages stream with
a Hydra view, /catalog/ negotiates, and nothing that is not open appears."""

from __future__ import annotations

import pytest
import rdflib
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pyshacl import validate
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF

from authorization.interop import views
from authorization.interop.models import DatasetIdentity
from tests.data import data_file

HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
PARSERS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml", "nt": "nt"}


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def graph_of(fmt: str, query: str = "?page_size=5000") -> rdflib.Graph:
    response = Client().get(f"/catalog.{fmt}{query}")
    assert response.status_code == 200, response
    return rdflib.Graph().parse(data=body(response), format=PARSERS[fmt])


def shapes() -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(data_file("dcat-ap-3.0.0", "dcat-ap-SHACL.ttl"), format="turtle")
    g.parse(data_file("dcat-ap-3.0.0", "range.ttl"), format="turtle")
    return g


def test_the_whole_open_catalog_conforms_to_dcat_ap_3(world):
    g = graph_of("ttl")
    conforms, _, text = validate(g, shacl_graph=shapes(), inference="rdfs", allow_warnings=True)
    assert conforms, text
    datasets = set(g.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 2  # the open and the conditional resource
    codes = {str(g.value(d, DCTERMS.identifier)) for d in datasets}
    assert codes == {world.open_.resource.code, world.conditional.resource.code}


def test_turtle_jsonld_and_rdfxml_give_the_same_graph(world):
    graphs = {fmt: graph_of(fmt) for fmt in ("ttl", "jsonld", "rdf", "nt")}
    assert len(graphs["ttl"]) > 100
    for fmt, g in graphs.items():
        assert isomorphic(g, graphs["ttl"]), fmt
        for out in ("turtle", "json-ld", "xml"):
            again = rdflib.Graph().parse(data=g.serialize(format=out), format=out)
            assert isomorphic(again, graphs["ttl"]), (fmt, out)


def test_a_dataset_says_what_dcat_ap_asks(world):
    g = graph_of("ttl")
    code = world.open_.resource.code
    d = next(g.subjects(DCTERMS.identifier, rdflib.Literal(code)))
    assert g.value(d, DCTERMS.title) == rdflib.Literal("开放养老机构信息", lang="zh")
    themes = {str(t) for t in g.objects(d, DCAT.theme)}
    assert any(
        t.startswith("http://publications.europa.eu/resource/authority/data-theme/") for t in themes
    )
    assert any("/dcat/classification/" in t for t in themes)
    assert str(g.value(d, DCTERMS.accrualPeriodicity)).startswith(
        "http://publications.europa.eu/resource/authority/frequency/"
    )
    assert g.value(d, DCTERMS.publisher) is not None and g.value(d, DCAT.contactPoint) is not None
    dists = list(g.objects(d, DCAT.distribution))
    formats = {str(g.value(x, DCTERMS["format"])).rsplit("/", 1)[1] for x in dists}
    assert {"CSV", "XLSX", "JSON"} <= formats
    csv = next(x for x in dists if str(x).endswith("/csv"))
    assert (
        str(g.value(csv, DCAT.mediaType)) == "https://www.iana.org/assignments/media-types/text/csv"
    )
    assert int(g.value(csv, DCAT.byteSize)) > 0
    assert str(g.value(csv, DCAT.downloadURL)).endswith(
        f"/open/{world.open_.resource.pk}/download/csv/"
    )
    assert g.value(csv, DCTERMS.license) is not None
    # The API is the catalog's data service, never the supply API.
    services = set(g.subjects(RDF.type, DCAT.DataService))
    assert [str(s) for s in services] == ["http://testserver/api/v1/open/"]
    # Open under conditions: restricted, no distribution.
    c = next(g.subjects(DCTERMS.identifier, rdflib.Literal(world.conditional.resource.code)))
    assert list(g.objects(c, DCAT.distribution)) == []
    assert str(g.value(c, DCTERMS.accessRights)).endswith("/RESTRICTED")


def test_nothing_closed_or_above_its_grade_appears(world):
    for fmt in ("ttl", "jsonld", "rdf", "nt"):
        text = body(Client().get(f"/catalog.{fmt}?page_size=5000")).decode()
        for hidden in world.hidden:
            assert hidden.resource.code not in text, fmt
            assert hidden.resource.published_version.name not in text, fmt
        assert "/api/v1/supply" not in text and "/sharing/" not in text
    for hidden in world.hidden:
        uuid = DatasetIdentity.objects.get(resource=hidden.resource).uuid
        assert Client().get(f"/dcat/datasets/{uuid}.ttl").status_code == 404


def test_pages_have_a_hydra_view_and_stream(world):
    response = Client().get("/catalog.ttl?page=1&page_size=1")
    assert response.streaming
    g = rdflib.Graph().parse(data=body(response), format="turtle")
    view = g.value(predicate=RDF.type, object=HYDRA.PartialCollectionView, any=False)
    assert view is not None
    # The view's links carry the page size served (not the default's pages).
    assert str(g.value(view, HYDRA.next)).endswith("/dcat/catalog?page=2&page_size=1")
    assert str(g.value(view, HYDRA.last)).endswith("/dcat/catalog?page=2&page_size=1")
    assert int(next(g.objects(None, HYDRA.totalItems))) == 2
    assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == 1
    assert Client().get("/catalog.ttl?page=3&page_size=1").status_code == 404
    # The page named in hydra:next answers by content negotiation.
    second = Client().get(
        str(g.value(view, HYDRA.next)).removeprefix("http://testserver"),
        HTTP_ACCEPT="application/ld+json",
    )
    assert second.status_code == 200
    assert second["Content-Type"].startswith("application/ld+json")
    plain = Client().get("/catalog.ttl")
    assert plain.status_code == 200, plain.content[:300]
    default = rdflib.Graph().parse(data=body(plain), format="turtle")
    assert str(next(default.objects(None, HYDRA.first))).endswith("/dcat/catalog?page=1")


def test_an_over_large_page_size_is_the_largest_page(world):
    """Hydra leaves the page size to the server: past the largest it serves the largest, and
    its view's links say so."""
    response = Client().get("/catalog.ttl?page_size=999999")
    assert response.status_code == 200
    g = rdflib.Graph().parse(data=body(response), format="turtle")
    assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == 2
    first = str(next(g.objects(None, HYDRA.first)))
    assert first.endswith(f"/dcat/catalog?page=1&page_size={views.MAX_PAGE_SIZE}")
    huge = Client().get(f"/catalog.nt?page_size={10**40}")
    assert huge.status_code == 200 and b"PartialCollectionView" in body(huge)


def test_bad_paging_values_are_a_clear_400_never_a_500(world):
    for fmt in ("ttl", "jsonld", "rdf", "nt"):
        for name in ("page", "page_size"):
            for value in (
                "x",
                "0",
                "-1",
                "--5",
                "1.5",
                "1e3",
                "",
                " ",
                "\x00",
                "1\x00",
                "١٢",
                "0x10",
            ):
                response = Client().get(f"/catalog.{fmt}", {name: value})
                assert response.status_code == 400, (fmt, name, value, response.status_code)
                assert name in response.content.decode()
    # A page past any catalog's last is not found (as past this one's).
    assert Client().get(f"/catalog.ttl?page={10**40}").status_code == 404
    assert Client().get("/dcat/catalog?page=x", HTTP_ACCEPT="text/turtle").status_code == 400
    assert Client().get("/catalog/?page_size=-3", HTTP_ACCEPT="text/turtle").status_code == 400


def test_queries_per_page_do_not_grow_with_the_page(world, monkeypatch):
    monkeypatch.setattr(views, "CHUNK", 1)

    def count(size):
        with CaptureQueriesContext(connection) as ctx:
            body(Client().get(f"/catalog.ttl?page_size={size}"))
        return len(ctx.captured_queries)

    assert count(2) - count(1) <= 4  # one chunk: entries, open-data ids, files, themes


def test_catalog_page_negotiates(world):
    html = Client().get("/catalog/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert html["Content-Type"].startswith("text/html") and "Accept" in html["Vary"]
    for accept, fmt in [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ]:
        response = Client().get("/catalog/", HTTP_ACCEPT=accept)
        assert response["Content-Type"].startswith(accept)
        g = rdflib.Graph().parse(data=body(response), format=fmt)
        assert len(set(g.subjects(RDF.type, DCAT.Dataset))) == 2


def test_one_dataset(world):
    uuid = DatasetIdentity.objects.get(resource=world.open_.resource).uuid
    response = Client().get(f"/dcat/datasets/{uuid}", HTTP_ACCEPT="text/turtle")
    g = rdflib.Graph().parse(data=body(response), format="turtle")
    assert str(next(g.objects(None, DCTERMS.identifier))) == world.open_.resource.code
    page = Client().get(f"/dcat/datasets/{uuid}", HTTP_ACCEPT="text/html")
    assert page.status_code == 302 and page["Location"].endswith(
        f"/catalog/resources/{world.open_.resource.pk}/"
    )
    assert (
        Client().get("/dcat/datasets/00000000-0000-0000-0000-000000000000.ttl").status_code == 404
    )


@pytest.mark.parametrize("fmt", ["ttl", "jsonld", "rdf"])
def test_an_empty_catalog_is_still_a_catalog(db, fmt):
    g = graph_of(fmt)
    assert len(set(g.subjects(RDF.type, DCAT.Catalog))) == 1
