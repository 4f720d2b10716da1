"""Pages of authorized operation: the signed-in workspace at /operation/ (operators, bureaus,
providers' data officers, auditors) and the public disclosure at /disclosures/ (no login)."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import feedgenerator, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from authorization.pilots.selectors import trial_for
from catalog.models import Resource
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.forms import add_domain_error
from wuhan_pdr.kernel.pagination import KnownCountPaginator
from wuhan_pdr.kernel.workflow import events_described

from . import selectors, services
from .forms import (
    ApplyForm,
    ConsentForm,
    DecisionForm,
    DisclosureDraftForm,
    DisclosureMoveForm,
    FeeCapForm,
    FilterForm,
    ProductForm,
    PublicFilterForm,
)
from .models import AuthorizedResource, OperationAuthorization
from .permissions import (
    access_authorization,
    access_disclosure,
    access_product,
    holds,
    is_city_reviewer,
    is_operator,
)
from .workflows import authorization_workflow, disclosure_workflow

PAGE_SIZE = 20
CHANGES = ("suspend", "resume", "revoke")


# --- workspace: authorizations ---------------------------------------------------------------


@login_required
def authorization_list(request):
    form = FilterForm(request.GET or None)
    q, state = form.cleaned()
    page = Paginator(selectors.authorizations_visible_to(request.user, q=q, state=state), 20)
    return render(
        request,
        "authorization/operation/list.html",
        {
            "form": form,
            "page_obj": page.get_page(request.GET.get("page")),
            "may_apply": is_operator(request.user),
        },
    )


@login_required
def authorization_apply(request):
    if not is_operator(request.user):
        raise Http404
    form = ApplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            authorization = services.authorization_apply(
                acting_user=request.user, **form.service_fields()
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your application has been sent to the data bureau."))
            return redirect("operation:detail", authorization.pk)
    return render(request, "authorization/operation/apply.html", {"form": form})


@login_required
def authorization_detail(request, pk: int):
    authorization = access_authorization(request.user, pk)
    transitions = authorization_workflow.available_to(authorization, request.user)
    missing = services.missing_consents(authorization)
    posted = request.POST.get("form") if request.method == "POST" else None
    form = DecisionForm(
        request.POST if posted == "decision" else None, transitions=transitions, prefix="d"
    )
    consent_form = ConsentForm(
        request.POST if posted == "consent" else None, providers=missing, prefix="c"
    )
    if posted == "decision" and transitions and form.is_valid():
        action, comment = form.cleaned_data["action"], form.cleaned_data["comment"]
        try:
            if action in CHANGES:
                services.authorization_change(
                    authorization=authorization,
                    action=action,
                    reason=comment,
                    acting_user=request.user,
                )
            else:
                services.authorization_decide(
                    authorization=authorization,
                    action=action,
                    comment=comment,
                    acting_user=request.user,
                )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your decision has been recorded."))
            return redirect("operation:detail", authorization.pk)
    if posted == "consent" and missing and consent_form.is_valid():
        try:
            services.consent_record(
                authorization=authorization,
                provider=consent_form.cleaned_data["provider"],
                note=consent_form.cleaned_data["note"],
                acting_user=request.user,
            )
        except (DomainError, AccessDenied) as exc:
            add_domain_error(consent_form, exc)
        else:
            messages.success(request, _("The provider's consent has been recorded."))
            return redirect("operation:detail", authorization.pk)
    consent_possible = (
        authorization.kind == OperationAuthorization.Kind.INDIVIDUAL
        and authorization.state
        in (OperationAuthorization.State.SUBMITTED, OperationAuthorization.State.RETURNED)
        and missing
        and any(t.name == "approve" for t in transitions)
    )
    return render(
        request,
        "authorization/operation/detail.html",
        {
            "authorization": authorization,
            "entries": selectors.authorization_entries(authorization),
            "consents": authorization.consents.select_related("provider", "recorded_by"),
            "missing": missing,
            "form": form if transitions else None,
            "consent_form": consent_form if consent_possible else None,
            "holder": holds(authorization, request.user),
            "events": events_described(authorization, authorization_workflow),
        },
    )


@login_required
@require_GET
def authorization_plan(request, pk: int):
    authorization = access_authorization(request.user, pk)
    if not authorization.plan:
        raise Http404
    try:
        handle = authorization.plan.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=authorization.plan_name or "plan")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["POST"])
def grant_key(request, pk: int, entry: int):
    authorization = access_authorization(request.user, pk)
    found = authorization.entries.filter(pk=entry).select_related("resource", "grant").first()
    if found is None:
        raise Http404
    try:
        raw = services.grant_key_reveal(entry=found, acting_user=request.user)
    except (DomainError, AccessDenied) as exc:
        messages.error(request, str(exc.message))
        return redirect("operation:detail", authorization.pk)
    response = render(
        request,
        "authorization/operation/grant_key.html",
        {"authorization": authorization, "entry": found, "raw_key": raw},
    )
    response["Cache-Control"] = "no-store"
    return response


# --- workspace: products, usage, fee caps ----------------------------------------------------


def _authorized_resources(user):
    return (
        Resource.objects.filter(
            pk__in=AuthorizedResource.objects.filter(
                authorization__operator_id=user.organization_id,
                authorization__state__in=[
                    OperationAuthorization.State.APPROVED,
                    OperationAuthorization.State.ACTIVE,
                    OperationAuthorization.State.SUSPENDED,
                ],
            ).values("resource_id")
        )
        .select_related("published_version")
        .order_by("code")
    )


@login_required
def product_list(request):
    if not is_operator(request.user):
        raise Http404
    return render(
        request,
        "authorization/operation/products.html",
        {
            "products": selectors.operator_products(request.user.organization),
            "caps": selectors.fee_caps(),
        },
    )


@login_required
def product_edit(request, pk: int | None = None):
    if not is_operator(request.user):
        raise Http404
    product = access_product(request.user, pk) if pk is not None else None
    initial = None
    if product is not None:
        initial = {
            "name": product.name,
            "description": product.description,
            "price": product.price,
            "unit": product.unit,
            "fee_basis": product.fee_basis,
            "resources": list(product.resources.values_list("pk", flat=True)),
        }
    form = ProductForm(
        request.POST or None, initial=initial, resources=_authorized_resources(request.user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.product_save(acting_user=request.user, product=product, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The product has been saved."))
            return redirect("operation:products")
    return render(
        request,
        "authorization/operation/product_form.html",
        {"form": form, "product": product, "caps": selectors.fee_caps()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_withdraw(request, pk: int):
    product = access_product(request.user, pk)
    if request.method == "POST":
        services.product_withdraw(product=product, acting_user=request.user)
        messages.success(request, _("The product has been withdrawn from the list."))
        return redirect("operation:products")
    return render(request, "authorization/operation/product_withdraw.html", {"product": product})


@login_required
def usage_report(request):
    if not is_operator(request.user):
        raise Http404
    operator = request.user.organization
    from django.db.models import Sum

    from authorization.sharing.models import GrantUsage

    per_grant = (
        GrantUsage.objects.filter(grant__in=selectors.operation_grants(operator).values("pk"))
        .values("grant__key_prefix", "grant__resource__code", "grant__state")
        .annotate(calls=Sum("calls"), rows=Sum("rows"))
        .order_by("grant__resource__code")
    )
    return render(
        request,
        "authorization/operation/usage.html",
        {"months": selectors.monthly_usage(operator), "per_grant": per_grant},
    )


@login_required
def fee_caps(request):
    if not is_city_reviewer(request.user):
        raise Http404
    form = FeeCapForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.fee_cap_set(acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The fee cap has been saved."))
            return redirect("operation:fees")
    return render(
        request, "authorization/operation/fees.html", {"form": form, "caps": selectors.fee_caps()}
    )


# --- workspace: yearly disclosures -----------------------------------------------------------


@login_required
def disclosure_list(request):
    form = None
    if is_operator(request.user):
        form = DisclosureDraftForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                disclosure = services.disclosure_draft(
                    acting_user=request.user, **form.cleaned_data
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The draft has been saved."))
                return redirect("operation:disclosure", disclosure.pk)
    elif request.method == "POST":
        raise Http404
    page = Paginator(selectors.disclosures_visible_to(request.user), 20)
    return render(
        request,
        "authorization/operation/disclosures.html",
        {"form": form, "page_obj": page.get_page(request.GET.get("page"))},
    )


@login_required
def disclosure_detail(request, pk: int):
    disclosure = access_disclosure(request.user, pk)
    transitions = disclosure_workflow.available_to(disclosure, request.user)
    form = DisclosureMoveForm(request.POST or None, transitions=transitions)
    if request.method == "POST" and transitions and form.is_valid():
        try:
            services.disclosure_move(
                disclosure=disclosure,
                action=form.cleaned_data["action"],
                comment=form.cleaned_data["comment"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your decision has been recorded."))
            return redirect("operation:disclosure", disclosure.pk)
    return render(
        request,
        "authorization/operation/disclosure_detail.html",
        {
            "disclosure": disclosure,
            "form": form if transitions else None,
            "editable": is_operator(request.user) and disclosure.state in ("draft", "returned"),
            "events": events_described(disclosure, disclosure_workflow),
        },
    )


# --- public disclosure (cached) --------------------------------------------------------------


# The only parameters the list reads; the rest of a query string never reaches the cache key,
# so junk parameters cannot multiply cache entries.
_LIST_PARAMS = ("state", "kind", "bureau", "page")


def _cache_key(name: str, request) -> str | None:
    """The fragment's key, or None when it is not cached: a free-text search runs live (its
    values are unbounded), the list's other filters and page are part of the key, and the other
    pages read no parameters."""
    if name == "list":
        if request.GET.get("q", "").strip():
            return None
        wanted = [(k, request.GET.get(k, "")[:40]) for k in _LIST_PARAMS]
        wanted.append(("any", "1" if request.GET else ""))
        params = "&".join(f"{k}={v}" for k, v in wanted)
    else:
        params = ""
    digest = hashlib.sha256(params.encode()).hexdigest()[:32]
    return f"operation:public:{services.disclosure_generation()}:{name}:{get_language()}:{digest}"


def _fragment(request, name: str, template: str, build) -> str:
    """The page's body, rendered once per cache generation: every change to what it shows
    bumps the generation (services.disclosure_changed), so the cache is never stale. The
    fragment holds nothing personal and no CSRF token; the page around it is rendered anew."""
    key = _cache_key(name, request)
    if key is None:
        return mark_safe(render_to_string(template, build(), request=request))  # noqa: S308
    html = cache.get(key)
    if html is None:
        html = render_to_string(template, build(), request=request)
        cache.set(key, html, settings.OPERATION_DISCLOSURE_CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308  (our own template's output, escaped when rendered)


@require_GET
def public_list(request):
    def build():
        form = PublicFilterForm(request.GET or None, bureaus=selectors.disclosing_bureaus())
        params = form.to_query()
        matching = selectors.public_authorizations(params)
        total = matching.count()
        paginator = KnownCountPaginator(
            selectors.public_authorization_rows(matching), PAGE_SIZE, count=total
        )
        page = paginator.get_page(request.GET.get("page"))
        page.object_list = selectors.attach_public_resources(page.object_list)
        return {"form": form, "page_obj": page, "total": total, "filtered": bool(request.GET)}

    body = _fragment(request, "list", "authorization/operation/public/_list.html", build)
    return render(request, "authorization/operation/public/list.html", {"body": body})


@require_GET
def public_detail(request, pk: int):
    def build():
        authorization = selectors.public_authorization(pk)
        selectors.attach_public_resources([authorization])
        return {"authorization": authorization}

    body = _fragment(request, f"detail:{pk}", "authorization/operation/public/_detail.html", build)
    return render(request, "authorization/operation/public/page.html", {"body": body})


@require_GET
def public_operator(request, pk: int):
    """The operator's page: its products and prices, then its usage per month (read live from
    the supply counters, which every supply call moves), then its reports and authorizations."""
    operator = selectors.public_operator(pk)

    def head():
        return {"operator": operator, "products": list(selectors.listed_products(operator))}

    def tail():
        authorizations = list(
            selectors.public_authorization_rows(
                selectors.public_authorizations(selectors.DisclosureQuery(operator=operator.pk))
            )
        )
        selectors.attach_public_resources(authorizations)
        reports = list(selectors.published_reports(operator))
        return {
            "authorizations": authorizations,
            "reports": [r for r in reports if r.state == "published"],
            "pending": [r for r in reports if r.state != "published"],
        }

    return render(
        request,
        "authorization/operation/public/operator.html",
        {
            "head": _fragment(
                request,
                f"operator:{pk}:head",
                "authorization/operation/public/_operator.html",
                head,
            ),
            "months": selectors.monthly_usage(operator),
            # Art. 22: a selected pilot's priced-but-free trial (dated, so never cached).
            "trial": trial_for(operator),
            "tail": _fragment(
                request,
                f"operator:{pk}:tail",
                "authorization/operation/public/_operator_tail.html",
                tail,
            ),
        },
    )


@require_GET
def public_fees(request):
    def build():
        return {"caps": selectors.fee_caps(), "operators": list(selectors.disclosed_operators())}

    body = _fragment(request, "fees", "authorization/operation/public/_fees.html", build)
    return render(request, "authorization/operation/public/page.html", {"body": body})


@require_GET
def public_report(request, pk: int):
    from .models import YearlyDisclosure

    report = (
        YearlyDisclosure.objects.filter(pk=pk, state=YearlyDisclosure.State.PUBLISHED)
        .select_related("operator")
        .first()
    )
    if report is None:
        raise Http404
    return render(request, "authorization/operation/public/report.html", {"report": report})


FEED_ITEMS = 100


def _feed_items(request):
    rows = selectors.attach_public_resources(
        selectors.public_authorization_rows(selectors.public_authorizations())[:FEED_ITEMS]
    )
    for a in rows:
        a.url = request.build_absolute_uri(reverse("disclosures:authorization", args=[a.pk]))
    return rows


@require_GET
def feed_json(request):
    key = _cache_key("json", request)
    body = cache.get(key)
    if body is None:
        items = [
            {
                "id": a.pk,
                "url": a.url,
                "operator": a.operator.name,
                "authorizing_body": a.authorizing_body.name,
                "kind": a.kind,
                "scope": a.scope,
                "starts_on": a.starts_on,
                "ends_on": a.ends_on,
                "state": a.state,
                "decided_at": a.decided_at,
                "ended_at": a.ended_at,
                "resources": a.public_resources,
            }
            for a in _feed_items(request)
        ]
        caps = [
            {"basis": c.basis, "amount": str(c.amount), "rule": c.rule}
            for c in selectors.fee_caps()
        ]
        body = json.dumps(
            {"authorizations": items, "fee_caps": caps, "generated_at": timezone.now()},
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
        )
        cache.set(key, body, settings.OPERATION_DISCLOSURE_CACHE_SECONDS)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


@require_GET
def feed_atom(request):
    key = _cache_key("atom", request)
    body = cache.get(key)
    if body is None:
        feed = feedgenerator.Atom1Feed(
            title=_("Authorized operation disclosures"),
            link=request.build_absolute_uri(reverse("disclosures:list")),
            description=_("Authorizations of public data operation (Art. 20)."),
            language=get_language(),
        )
        for a in _feed_items(request):
            names = ", ".join(f"{r['code']} {r['name']}" for r in a.public_resources[:20])
            feed.add_item(
                title=f"{a.operator.name} · {a.get_kind_display()} · {a.get_state_display()}",
                link=a.url,
                unique_id=a.url,
                description=f"{a.scope}\n{a.starts_on} – {a.ends_on}\n{names}",
                pubdate=a.decided_at,
                updateddate=a.ended_at or a.decided_at,
                author_name=a.authorizing_body.name,
            )
        body = feed.writeString("utf-8")
        cache.set(key, body, settings.OPERATION_DISCLOSURE_CACHE_SECONDS)
    return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")
