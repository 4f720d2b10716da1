"""Pages of registration.evidence: the holder's deposits, the public verification page, the
deposited open distribution and the proof bundle."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from security import audit
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error
from wuhan_pdr.kernel.throttling import client_ip, count_in_window

from . import canonical, selectors, services
from .forms import DepositFilterForm, DepositForm, VerifyForm
from .models import Deposit
from .permissions import access_deposit, may_deposit, may_download
from .proofs import bundle

PAGE_SIZE = 20


def verify_max_bytes() -> int:
    return int(getattr(settings, "EVIDENCE_VERIFY_MAX_BYTES", 20 * 1024 * 1024))


def verify_uploads_per_hour() -> int:
    return int(getattr(settings, "EVIDENCE_VERIFY_UPLOADS_PER_HOUR", 20))


@login_required
def deposit_list(request):
    form = DepositFilterForm(request.GET or None)
    q, state, kind = form.cleaned()
    page = Paginator(
        selectors.deposits_visible_to(request.user, query=q, state=state, kind=kind), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "registration/evidence/deposit_list.html",
        {"form": form, "page_obj": page, "may_deposit": may_deposit(request.user)},
    )


def _kinds_for(user) -> list[str]:
    from catalog.permissions import FILER_ROLES
    from wuhan_pdr.accounts.roles import Role, has_role

    kinds = []
    if has_role(user, *FILER_ROLES):
        kinds += [Deposit.Kind.RESOURCE_DATA, Deposit.Kind.OPEN_DATA]
    if has_role(user, Role.OPERATOR, *FILER_ROLES):
        kinds.append(Deposit.Kind.PRODUCT)
    return kinds


@login_required
def deposit_create(request):
    if not may_deposit(request.user):
        raise Http404
    form = DepositForm(
        request.POST or None,
        request.FILES or None,
        resources=selectors.resources_for_deposit(request.user),
        sources=selectors.source_choices(request.user),
        kinds=_kinds_for(request.user),
        initial={"resource": request.GET.get("resource")}
        if (request.GET.get("resource") or "").isdigit()
        else None,
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            deposit = services.deposit_request(
                kind=d["kind"],
                holder=request.user.organization,
                resource=d["resource"],
                sources=d["sources"] or [],
                title=d["title"],
                description=d["description"],
                upload=d["upload"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("The deposit is being made; this page shows when it is done.")
            )
            return redirect("evidence:detail", deposit.public_id)
    return render(request, "registration/evidence/deposit_form.html", {"form": form})


@login_required
def deposit_detail(request, public_id: str):
    deposit = access_deposit(request.user, public_id)
    job = None
    if deposit.job_id:
        from wuhan_pdr.kernel.models import BackgroundJob

        job = BackgroundJob.objects.filter(pk=deposit.job_id).first()
    return render(
        request,
        "registration/evidence/deposit_detail.html",
        {
            "deposit": deposit,
            "job": job,
            "sources": deposit.sources.select_related("holder"),
            "may_download": may_download(request.user, deposit),
        },
    )


@require_GET
def deposit_download(request, public_id: str, name: str = ""):
    deposit = selectors.public_deposit(public_id)
    if deposit is None or not may_download(request.user, deposit) or not deposit.data_file:
        raise Http404
    try:
        chunks = services.deposit_file_chunks(deposit)
        first = next(chunks)
    except (OSError, StopIteration):
        raise Http404 from None
    except Exception:  # a sealed file that fails to open
        raise Http404 from None
    if deposit.kind != Deposit.Kind.OPEN_DATA:
        audit.record("evidence.download", obj=deposit, request=request)

    def stream():
        yield first
        yield from chunks

    from django.http import StreamingHttpResponse
    from django.utils.http import content_disposition_header

    name = deposit.data_file.name.rsplit("/", 1)[-1]
    content_type = (
        "text/csv; charset=utf-8" if name.endswith(".csv") else "application/octet-stream"
    )
    response = StreamingHttpResponse(stream(), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Content-Length"] = str(deposit.data_bytes)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def deposit_bundle(request, public_id: str):
    deposit = selectors.public_deposit(public_id)
    if deposit is None:
        raise Http404
    data = bundle(deposit, base_url=request.build_absolute_uri("/").rstrip("/"))
    if not data:
        raise Http404
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="deposit-{deposit.public_id}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _take_upload_slot(request) -> bool:
    """One server-side hash of a file per address, `EVIDENCE_VERIFY_UPLOADS_PER_HOUR` an
    hour (counted in the cache, shared by every web process)."""
    count, _key = count_in_window(f"evidence:verify:{client_ip(request) or 'unknown'}")
    return count <= verify_uploads_per_hour()


@require_http_methods(["GET", "POST"])
def verify(request):
    """Anyone: a digest (from the browser, which hashes the file itself) or a deposit id or a
    registration code; as a fallback a file hashed here."""
    raw_digest = request.GET.get("digest", "")
    raw_deposit = request.GET.get("deposit", "")
    raw_code = request.GET.get("code", "")
    digest = selectors.normalize_digest(raw_digest)
    errors: list[str] = []
    matches: list[Deposit] = []
    searched = False
    form = VerifyForm()
    if request.method == "POST":
        length = request.META.get("CONTENT_LENGTH") or "0"
        too_big = not length.isdigit() or int(length) > verify_max_bytes() + 64 * 1024
        if too_big:
            errors.append(
                _(
                    "The file is larger than %(mb)d MB: hash it on your computer (sha256sum) and paste the digest."
                )
                % {"mb": verify_max_bytes() // 2**20}
            )
        elif not _take_upload_slot(request):
            errors.append(
                _(
                    "Too many files were checked from your address in this hour; paste the digest instead."
                )
            )
        else:
            form = VerifyForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                if upload.size > verify_max_bytes():
                    errors.append(_("The file is too large to check here."))
                else:
                    digest, _size = canonical.stream_digest(upload.chunks())
            else:
                errors.append(_("Choose a file to check."))
    if digest:
        searched = True
        matches = selectors.deposits_for_digest(digest)
    elif raw_digest.strip():
        errors.append(_("A SHA-256 digest is 64 hexadecimal characters."))
    found = None
    if raw_deposit.strip():
        searched = True
        found = selectors.public_deposit(raw_deposit)
        if found is None:
            errors.append(_("No finished deposit has this id."))
    if raw_code.strip():
        searched = True
        found = found or selectors.deposit_for_code(raw_code.strip()[:40])
        if found is None:
            errors.append(_("No registration with this code has a deposit to check."))
    # With a deposit named: does the digest match that deposit?
    if found is not None and digest:
        matches = [d for d in matches if d.pk == found.pk]
    # The registrations the public may see that rest on what was found (code, register entry).
    registrations = selectors.public_registrations_for([*matches, found])
    for d in [*matches, found]:
        if d is not None:
            d.public_registrations = registrations.get(d.pk, [])
    return render(
        request,
        "registration/evidence/verify.html",
        {
            "digest": digest or "",
            "raw_digest": raw_digest[:100],
            "raw_deposit": raw_deposit[:40],
            "raw_code": raw_code[:40],
            "deposit": found,
            "matches": matches,
            "searched": searched,
            "errors": errors,
            "form": form,
            "max_mb": verify_max_bytes() // 2**20,
        },
    )
