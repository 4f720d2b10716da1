"""The open catalog as DCAT 3 / DCAT-AP 3.0 (issue #18, item 1).

Triples are built as plain tuples `(subject, predicate, object)`: IRIs are `str`, literals
`Lit(value, lang, datatype)`. No blank node is ever made (a contact point, a distribution, a
page view each has an IRI of its own), so two serializations of a page are isomorphic by plain
triple comparison. Two writers take those tuples:

- `write_ntriples`: plain string formatting (the benchmark's baseline);
- `serialize_stream`: pyoxigraph's Rust writers (Turtle, N-Triples, RDF/XML, JSON-LD), one
  chunk of datasets at a time, the chunks spliced into one document; memory is bounded by a
  chunk, not by the page or the catalog.

What a page holds (`page_triples`): the catalog (publisher the city data bureau, homepage,
languages zh and en, the open-data API as its `dcat:DataService`), the Hydra
`PartialCollectionView` of the page (first, previous, next, last), the concept scheme of the
classification and the EU vocabularies' terms it refers to, then one `dcat:Dataset` per
resource of the page with its publisher, contact point, district and, for open data, one
`dcat:Distribution` per built download file plus one through the API.

Which resources: `selectors.dcat_entries` (the open catalog of `catalog.public`); a resource
opened under conditions is a dataset with restricted access rights and no distribution.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import pyoxigraph as ox

from catalog.models import UpdateCycle

DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
HYDRA = "http://www.w3.org/ns/hydra/core#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"

PREFIXES = {
    "dcat": DCAT,
    "dct": DCT,
    "foaf": FOAF,
    "vcard": VCARD,
    "skos": SKOS,
    "hydra": HYDRA,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
}

A = RDF + "type"

# The classification's top nodes (catalog/migrations/0002) mapped to the EU data-theme
# vocabulary where one fits; every resource also carries its own classification concept.
EU_THEMES = {
    "101": "SOCI",  # 人口
    "102": "ECON",  # 法人单位
    "103": "ENVI",  # 自然资源和空间地理
    "104": "ECON",  # 社会信用
    "105": "GOVE",  # 电子证照
    "201": "GOVE",  # 公共服务
    "202": "HEAL",  # 健康保障
    "203": "SOCI",  # 社会保障
    "204": "EDUC",  # 教育文化
    "205": "TRAN",  # 交通出行
    "206": "ENVI",  # 生态环境
    "207": "REGI",  # 城乡建设
    "208": "ECON",  # 市场监管
    "209": "JUST",  # 安全生产
    "210": "ECON",  # 财税金融
    "211": "SOCI",  # 民政服务
    "212": "EDUC",  # 文化旅游
}
EU_THEME_LABELS = {
    "SOCI": "Population and society",
    "ECON": "Economy and finance",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "EDUC": "Education, culture and sport",
    "TRAN": "Transport",
    "REGI": "Regions and cities",
    "JUST": "Justice, legal system and public safety",
}

# The update cycle mapped to the EU frequency vocabulary.
FREQUENCIES = {
    UpdateCycle.REALTIME: "UPDATE_CONT",
    UpdateCycle.DAILY: "DAILY",
    UpdateCycle.WEEKLY: "WEEKLY",
    UpdateCycle.MONTHLY: "MONTHLY",
    UpdateCycle.QUARTERLY: "QUARTERLY",
    UpdateCycle.YEARLY: "ANNUAL",
    UpdateCycle.IRREGULAR: "IRREG",
}

# Download formats: (EU file type, IANA media type).
FILE_TYPES = {
    "csv": ("CSV", "text/csv"),
    "xlsx": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "json": ("JSON", "application/json"),
}


class Lit(NamedTuple):
    value: str
    lang: str | None = None
    datatype: str | None = None


Term = str | Lit
Triple = tuple[str, str, Term]


def _dt(value: dt.datetime) -> Lit:
    return Lit(value.isoformat(), datatype=XSD + "dateTime")


def _int(value: int, datatype: str = XSD + "nonNegativeInteger") -> Lit:
    return Lit(str(int(value)), datatype=datatype)


class Site:
    """The IRIs of this deployment (`base`: scheme and host, no trailing slash) and the
    catalog-wide facts a page needs, read once per request."""

    def __init__(self, base: str, *, publisher: dict, licences: list[dict], concepts: list[dict]):
        self.base = base.rstrip("/")
        self.publisher = publisher
        self.licences = {lic["pk"]: lic for lic in licences}
        self.concepts = concepts

    # --- IRIs --------------------------------------------------------------------------
    @property
    def catalog(self) -> str:
        return f"{self.base}/catalog/"

    def page(self, number: int, size: int | None = None) -> str:
        """A page of the catalog; `size` when it is not the default page size."""
        if size is None:
            return f"{self.base}/dcat/catalog?page={number}"
        return f"{self.base}/dcat/catalog?page={number}&page_size={size}"

    def dataset(self, uuid) -> str:
        return f"{self.base}/dcat/datasets/{uuid}"

    def agent(self, pk: int) -> str:
        return f"{self.base}/dcat/agents/{pk}"

    def division(self, code: str) -> str:
        return f"{self.base}/dcat/divisions/{code}"

    @property
    def scheme(self) -> str:
        return f"{self.base}/dcat/classification"

    def concept(self, code: str) -> str:
        return f"{self.base}/dcat/classification/{code}"

    def licence(self, pk: int) -> str:
        lic = self.licences.get(pk)
        if lic and lic["url"]:
            return lic["url"]
        return f"{self.base}/dcat/licences/{pk}"

    @property
    def service(self) -> str:
        return f"{self.base}/api/v1/open/"

    def landing(self, resource_id: int) -> str:
        return f"{self.base}/catalog/resources/{resource_id}/"

    def download(self, resource_id: int, fmt: str) -> str:
        return f"{self.base}/open/{resource_id}/download/{fmt}/"

    def api_resource(self, resource_id: int) -> str:
        return f"{self.base}/api/v1/open/resources/{resource_id}/"


# --- triples ----------------------------------------------------------------------------------


def catalog_triples(site: Site) -> Iterator[Triple]:
    """The catalog, its publisher, the API, and the vocabulary terms datasets refer to."""
    c = site.catalog
    pub = site.publisher
    yield c, A, DCAT + "Catalog"
    yield c, DCT + "title", Lit("武汉市公共数据开放目录", "zh")
    yield c, DCT + "title", Lit("Wuhan Public Data Open Catalog", "en")
    yield c, DCT + "description", Lit("武汉市公共数据资源平台开放的公共数据资源目录。", "zh")
    yield (
        c,
        DCT + "description",
        Lit("The public data resources opened by the Wuhan Public Data Resource Platform.", "en"),
    )
    yield c, DCT + "publisher", pub["iri"]
    yield c, FOAF + "homepage", f"{site.base}/"
    yield f"{site.base}/", A, FOAF + "Document"
    for lang in ("ZHO", "ENG"):
        yield c, DCT + "language", f"{EU}language/{lang}"
        yield f"{EU}language/{lang}", A, DCT + "LinguisticSystem"
    yield c, DCAT + "themeTaxonomy", site.scheme
    yield c, DCAT + "service", site.service
    yield from agent_triples(pub)
    # The open-data API.
    s = site.service
    yield s, A, DCAT + "DataService"
    yield s, DCT + "title", Lit("开放数据接口", "zh")
    yield s, DCT + "title", Lit("Open data API", "en")
    yield s, DCAT + "endpointURL", f"{site.base}/api/v1/open/resources/"
    yield s, DCAT + "endpointDescription", f"{site.base}/api/schema/"
    yield s, DCT + "publisher", pub["iri"]
    yield s, DCT + "accessRights", f"{EU}access-right/PUBLIC"
    # Our own concept scheme (the classification) and the EU terms.
    yield site.scheme, A, SKOS + "ConceptScheme"
    yield site.scheme, DCT + "title", Lit("武汉市公共数据资源分类", "zh")
    for concept in site.concepts:
        iri = site.concept(concept["code"])
        yield iri, A, SKOS + "Concept"
        yield iri, SKOS + "prefLabel", Lit(concept["name"], "zh")
        yield iri, SKOS + "notation", Lit(concept["code"])
        yield iri, SKOS + "inScheme", site.scheme
    for code, label in EU_THEME_LABELS.items():
        iri = f"{EU}data-theme/{code}"
        yield iri, A, SKOS + "Concept"
        yield iri, SKOS + "prefLabel", Lit(label, "en")
        yield iri, SKOS + "inScheme", f"{EU}data-theme"
    yield f"{EU}data-theme", A, SKOS + "ConceptScheme"
    yield f"{EU}data-theme", DCT + "title", Lit("Data theme", "en")
    for code in FREQUENCIES.values():
        yield f"{EU}frequency/{code}", A, DCT + "Frequency"
    for code in ("PUBLIC", "RESTRICTED"):
        yield f"{EU}access-right/{code}", A, DCT + "RightsStatement"
    for eu_type, media in FILE_TYPES.values():
        yield f"{EU}file-type/{eu_type}", A, DCT + "MediaTypeOrExtent"
        yield IANA + media, A, DCT + "MediaType"
    for pk, lic in site.licences.items():
        iri = site.licence(pk)
        yield iri, A, DCT + "LicenseDocument"
        yield iri, DCT + "title", Lit(lic["name"], "zh")


def agent_triples(agent: dict) -> Iterator[Triple]:
    yield agent["iri"], A, FOAF + "Agent"
    yield agent["iri"], FOAF + "name", Lit(agent["name"], "zh")


def view_triples(
    site: Site, *, page: int, pages: int, total: int, size: int | None = None
) -> Iterator[Triple]:
    """The Hydra paging of the catalog: the collection's size and this page's view (its
    links with the page size served, when not the default)."""
    c, v = site.catalog, site.page(page, size)
    yield c, A, HYDRA + "Collection"
    yield c, HYDRA + "totalItems", _int(total, XSD + "integer")
    yield c, HYDRA + "view", v
    yield v, A, HYDRA + "PartialCollectionView"
    yield v, HYDRA + "first", site.page(1, size)
    yield v, HYDRA + "last", site.page(pages, size)
    if page > 1:
        yield v, HYDRA + "previous", site.page(page - 1, size)
    if page < pages:
        yield v, HYDRA + "next", site.page(page + 1, size)


def dataset_triples(site: Site, row: dict, *, in_catalog: bool = True) -> Iterator[Triple]:
    """One open resource (a row of `selectors.dataset_rows`) as a dcat:Dataset, with its
    distributions when its data is open."""
    d = site.dataset(row["uuid"])
    rid = row["resource_id"]
    if in_catalog:
        yield site.catalog, DCAT + "dataset", d
    yield d, A, DCAT + "Dataset"
    yield d, DCT + "identifier", Lit(row["code"])
    yield d, DCT + "title", Lit(row["name"], "zh")
    yield d, DCT + "description", Lit(row["summary"] or row["name"], "zh")
    agent = site.agent(row["provider_id"])
    yield d, DCT + "publisher", agent
    yield agent, A, FOAF + "Agent"
    yield agent, FOAF + "name", Lit(row["provider_name"], "zh")
    contact = f"{agent}#contact"
    yield d, DCAT + "contactPoint", contact
    yield contact, A, VCARD + "Kind"
    yield contact, A, VCARD + "Organization"
    yield contact, VCARD + "fn", Lit(row["provider_name"], "zh")
    if row.get("phone"):
        yield (
            contact,
            VCARD + "hasTelephone",
            "tel:" + "".join(ch for ch in row["phone"] if ch.isdigit() or ch in "+-"),
        )
    yield d, DCAT + "theme", site.concept(row["classification_code"])
    eu = EU_THEMES.get(row["classification_code"][:3])
    if eu:
        yield d, DCAT + "theme", f"{EU}data-theme/{eu}"
    keywords = {row["classification_name"], *row.get("themes", ())}
    for word in sorted(keywords):
        yield d, DCAT + "keyword", Lit(word, "zh")
    for code in row.get("theme_codes", ()):
        yield d, DCAT + "theme", site.concept(code)
    yield d, DCT + "issued", _dt(row["published_at"])
    yield d, DCT + "modified", _dt(row["modified"])
    yield d, DCT + "accrualPeriodicity", f"{EU}frequency/{FREQUENCIES[row['update_cycle']]}"
    if row["division_code"]:
        place = site.division(row["division_code"])
        yield d, DCT + "spatial", place
        yield place, A, DCT + "Location"
        if row.get("division_name"):
            yield place, SKOS + "prefLabel", Lit(row["division_name"], "zh")
    landing = site.landing(rid)
    yield d, DCAT + "landingPage", landing
    yield landing, A, FOAF + "Document"
    if not row["open_data"]:
        yield d, DCT + "accessRights", f"{EU}access-right/RESTRICTED"
        return
    yield d, DCT + "accessRights", f"{EU}access-right/PUBLIC"
    licence = site.licence(row["licence_id"]) if row.get("licence_id") else None
    if in_catalog:
        yield site.service, DCAT + "servesDataset", d
    for f in row["files"]:
        eu_type, media = FILE_TYPES[f["format"]]
        dist = f"{d}/distributions/{f['format']}"
        yield d, DCAT + "distribution", dist
        yield dist, A, DCAT + "Distribution"
        yield dist, DCT + "title", Lit(f"{row['name']} ({eu_type})", "zh")
        yield dist, DCAT + "accessURL", landing
        yield dist, DCAT + "downloadURL", site.download(rid, f["format"])
        yield dist, DCT + "format", f"{EU}file-type/{eu_type}"
        yield dist, DCAT + "mediaType", IANA + media
        yield dist, DCAT + "byteSize", _int(f["size"])
        yield dist, DCT + "modified", _dt(f["built_at"])
        if licence:
            yield dist, DCT + "license", licence
    api = f"{d}/distributions/api"
    yield d, DCAT + "distribution", api
    yield api, A, DCAT + "Distribution"
    yield api, DCT + "title", Lit(f"{row['name']} (API)", "zh")
    yield api, DCAT + "accessURL", site.api_resource(rid)
    yield api, DCAT + "accessService", site.service
    yield api, DCT + "format", f"{EU}file-type/JSON"
    yield api, DCAT + "mediaType", IANA + "application/json"
    if licence:
        yield api, DCT + "license", licence


# --- writers ----------------------------------------------------------------------------------


def _nt_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )


def write_ntriples(triples: Iterable[Triple]) -> Iterator[str]:
    """N-Triples lines by plain string formatting (the benchmark's baseline)."""
    for s, p, o in triples:
        if isinstance(o, Lit):
            if o.lang:
                obj = f'"{_nt_escape(o.value)}"@{o.lang}'
            elif o.datatype:
                obj = f'"{_nt_escape(o.value)}"^^<{o.datatype}>'
            else:
                obj = f'"{_nt_escape(o.value)}"'
        else:
            obj = f"<{o}>"
        yield f"<{s}> <{p}> {obj} .\n"


class _Terms:
    """pyoxigraph terms, IRIs made once each (predicates and vocabulary terms repeat)."""

    def __init__(self):
        self.nodes: dict[str, ox.NamedNode] = {}
        self.types: dict[str, ox.NamedNode] = {}

    def node(self, iri: str) -> ox.NamedNode:
        found = self.nodes.get(iri)
        if found is None:
            found = ox.NamedNode(iri)
            if len(self.nodes) < 10_000:
                self.nodes[iri] = found
        return found

    def triples(self, triples: Iterable[Triple]) -> Iterator[ox.Triple]:
        node = self.node
        for s, p, o in triples:
            if isinstance(o, Lit):
                if o.lang:
                    obj = ox.Literal(o.value, language=o.lang)
                elif o.datatype:
                    obj = ox.Literal(o.value, datatype=node(o.datatype))
                else:
                    obj = ox.Literal(o.value)
            else:
                obj = node(o)
            yield ox.Triple(node(s), node(p), obj)


FORMATS = {
    "ttl": (ox.RdfFormat.TURTLE, "text/turtle; charset=utf-8"),
    "nt": (ox.RdfFormat.N_TRIPLES, "application/n-triples; charset=utf-8"),
    "rdf": (ox.RdfFormat.RDF_XML, "application/rdf+xml; charset=utf-8"),
    "jsonld": (ox.RdfFormat.JSON_LD, "application/ld+json; charset=utf-8"),
}

_RDF_CLOSE = b"</rdf:RDF>"


def serialize_stream(chunks: Iterable[Iterable[Triple]], fmt: str) -> Iterator[bytes]:
    """One document in format `fmt` (a key of FORMATS) of all the triples of `chunks` (the
    first one not empty: the catalog's own triples), written chunk by chunk: each chunk is
    serialized alone by pyoxigraph and the pieces are spliced (Turtle: prefixes once;
    RDF/XML: one root element; JSON-LD: one array)."""
    rdf_format = FORMATS[fmt][0]
    terms = _Terms()
    opened = False
    xml_head = b""
    for chunk in chunks:
        body = ox.serialize(terms.triples(chunk), format=rdf_format, prefixes=PREFIXES)
        if fmt == "ttl" and opened:
            lines = body.split(b"\n")
            skip = 0
            while skip < len(lines) and lines[skip].startswith(b"@prefix "):
                skip += 1
            body = b"\n".join(lines[skip:])
        elif fmt == "rdf":
            if _RDF_CLOSE not in body:
                continue  # an empty chunk: <rdf:RDF .../>
            start = body.index(b">", body.index(b"<rdf:RDF")) + 1
            head, inner = body[:start], body[start : body.rindex(_RDF_CLOSE)]
            if not opened:
                xml_head = head
                body = head + inner
            elif head != xml_head:  # a namespace the first chunk did not declare
                raise ValueError("RDF/XML chunks declare different namespaces")
            else:
                body = inner
        elif fmt == "jsonld":
            inner = body.strip()[1:-1].strip()
            if not inner:
                continue
            body = (b"," if opened else b"[") + inner
        if body:
            opened = True
            yield body
    if fmt == "rdf":
        yield b"\n" + _RDF_CLOSE + b"\n"
    elif fmt == "jsonld":
        yield (b"]" if opened else b"[]") + b"\n"
