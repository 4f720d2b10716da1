"""Emergency plans carry their document (PDF, Word, OpenDocument): checked by content and size
through the kernel's upload helper, stored under a random name, downloadable by whoever may
see the plan (404 for the rest), every earlier version kept with the plan's history."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from security.audit.models import AuditEvent
from security.incidents import services
from security.incidents.models import EmergencyPlan
from tests.aggregation.test_views import _base, client  # noqa: F401  (autouse fixture)
from tests.security.test_incidents import incident_world
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.uploads import UploadRefused, inspect_document

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _zip(members: dict[str, bytes], *, first: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if first:
            z.writestr(first, members.pop(first), compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = _zip(
    {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"},
    first="mimetype",
)


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def world(db):
    return incident_world()


def _fields(**over) -> dict:
    today = timezone.localdate()
    return {
        "title": "数据安全事件应急预案",
        "version": "1.0",
        "scope": "全区",
        "content": "",
        "valid_from": today,
        "valid_until": today + dt.timedelta(days=365),
        **over,
    }


def test_the_upload_helper_checks_kind_by_content_and_size():
    kinds = ("pdf", "docx", "odt")
    assert inspect_document(_file("预案.PDF", PDF), kinds=kinds, max_bytes=10**6) == ".pdf"
    assert inspect_document(_file("a.docx", DOCX), kinds=kinds, max_bytes=10**6) == ".docx"
    assert inspect_document(_file("a.odt", ODT), kinds=kinds, max_bytes=10**6) == ".odt"
    refusals = [
        (_file("a.pdf", DOCX), "not a PDF"),  # renamed
        (_file("a.docx", ODT), "not a Word"),
        (_file("a.odt", DOCX), "not a OpenDocument"),
        (_file("a.exe", b"MZ\x90\x00"), "not a file of a kind taken here"),
        (_file("a.pdf", b""), "is empty"),
        (_file("a.pdf", PDF * 100), "too large"),
    ]
    for uploaded, words in refusals:
        with pytest.raises(UploadRefused, match=words):
            inspect_document(uploaded, kinds=kinds, max_bytes=1000)
    bomb = _zip({"[Content_Types].xml": b"x", "word/document.xml": b"\0" * 5_000_000})
    with pytest.raises(UploadRefused, match="ZIP bomb"):
        inspect_document(_file("a.docx", bomb), kinds=kinds, max_bytes=10**7)


def test_a_plan_keeps_every_version_of_its_document_for_who_may_see_it(world):
    reviewer = world["jiangan"].reviewer
    plan = services.plan_save(
        organization=world["jiangan"].org,
        fields=_fields(),
        document=_file("预案v1.pdf", PDF),
        acting_user=reviewer,
    )
    assert plan.document.name.startswith("security/plans/") and "预案" not in plan.document.name
    assert plan.document_name == "预案v1.pdf" and plan.document_size == len(PDF)
    assert plan.document_sha256 == hashlib.sha256(PDF).hexdigest()
    first_file = plan.document.name
    plan = services.plan_save(
        plan=plan,
        fields=_fields(version="2.0"),
        document=_file("预案v2.docx", DOCX),
        acting_user=reviewer,
    )
    assert plan.document.name != first_file
    # A change without a new file keeps the document.
    plan = services.plan_save(plan=plan, fields=_fields(version="2.1"), acting_user=reviewer)
    assert plan.document_name == "预案v2.docx"

    own = client(reviewer)
    page = own.get(reverse("security:plan-detail", args=[plan.pk])).text
    assert "预案v2.docx" in page and "预案v1.pdf" in page
    current = own.get(reverse("security:plan-document", args=[plan.pk]))
    assert current.status_code == 200 and b"".join(current.streaming_content) == DOCX
    assert "attachment" in current["Content-Disposition"]
    old = plan.history.filter(document=first_file).earliest("history_date")
    earlier = own.get(reverse("security:plan-document-version", args=[plan.pk, old.history_id]))
    assert b"".join(earlier.streaming_content) == PDF
    assert AuditEvent.objects.filter(action="security.plan_document.download").count() == 2

    # Agency staff of the district's agency see no plan of the bureau; another district's
    # reviewer neither: 404 for the document and its versions.
    for outsider in (world["hongshan"].reviewer, world["jiangan_agency"].staff):
        c = client(outsider)
        assert c.get(reverse("security:plan-document", args=[plan.pk])).status_code == 404
        url = reverse("security:plan-document-version", args=[plan.pk, old.history_id])
        assert c.get(url).status_code == 404
    # A history id of another plan is not this plan's version.
    other = services.plan_save(
        organization=world["jiangan"].org,
        fields=_fields(title="另一预案"),
        document=_file("other.pdf", PDF),
        acting_user=reviewer,
    )
    foreign = other.history.first().history_id
    url = reverse("security:plan-document-version", args=[plan.pk, foreign])
    assert own.get(url).status_code == 404
    # The city bureau sees every plan.
    city = client(world["city"].reviewer)
    assert city.get(reverse("security:plan-document", args=[plan.pk])).status_code == 200


def test_the_form_refuses_a_too_large_or_wrong_file_naming_it(world, settings):
    settings.SECURITY_PLAN_DOCUMENT_MAX_BYTES = 1024 * 1024
    c = client(world["admin"])
    today = timezone.localdate()

    def post(upload):
        data = {
            "title": "市级预案",
            "organization": world["city"].org.pk,
            "version": "1",
            "scope": "全市",
            "content": "",
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=9)).isoformat(),
        }
        if upload is not None:
            data["document"] = upload
        return c.post(reverse("security:plan-new"), data)

    big = _file("大预案.pdf", PDF + b"\0" * (1024 * 1024))
    response = post(big)
    assert response.status_code == 200
    assert "大预案.pdf is too large: at most 1 MB." in response.text
    response = post(_file("plan.exe", b"MZ\x90\x00\x03"))
    assert response.status_code == 200
    assert "plan.exe is not a file of a kind taken here" in response.text
    assert "PDF, Word (.docx), OpenDocument (.odt)" in response.text
    response = post(_file("renamed.pdf", DOCX))
    assert "The content of renamed.pdf is not a PDF file" in response.text
    # Neither text nor document: the plan must say something.
    response = post(None)
    assert "Write the plan, or attach its document" in response.text
    assert not EmergencyPlan.objects.filter(title="市级预案").exists()
    response = post(_file("plan.odt", ODT))
    assert response.status_code == 302
    plan = EmergencyPlan.objects.get(title="市级预案")
    assert plan.document_name == "plan.odt"


def test_the_service_refuses_on_the_document_field(world):
    with pytest.raises(DomainError) as refused:
        services.plan_save(
            organization=world["city"].org,
            fields=_fields(),
            document=_file("x.pdf", b"not a pdf"),
            acting_user=world["admin"],
        )
    assert refused.value.field == "document"
