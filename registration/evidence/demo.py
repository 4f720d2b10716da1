"""Demo evidence (order 64, after open data at 62): 武汉市民政局's 养老机构信息, open and loaded,
deposited twice by demo_agency_staff: its open distribution as published (the file a visitor
downloads from the deposit's proof and checks on /registration/evidence/verify/) and its data
as a canonical snapshot; both made synchronously and integrated into the evidence log, so the
proofs show without a worker.

Idempotent: a resource with a finished deposit of a kind is left alone."""

from __future__ import annotations

from wuhan_pdr.kernel.demo import Seeder, register_seeder

AGENCY = "武汉市民政局"
RESOURCE = "养老机构信息"
STAFF = "demo_agency_staff"


def seed_evidence(context: dict) -> None:
    from authorization.opendata.models import OpenDataset
    from catalog.models import Resource
    from wuhan_pdr.accounts.models import User
    from wuhan_pdr.kernel.ledger.tree import integrate

    from . import services
    from .models import Deposit

    resource = (
        Resource.objects.filter(
            provider__name=AGENCY,
            published_version__name=RESOURCE,
            datastore__last_loaded_at__isnull=False,
        )
        .select_related("provider")
        .first()
    )
    staff = User.objects.filter(username=STAFF).first()
    if resource is None or staff is None:
        return
    ready = OpenDataset.objects.filter(resource=resource, state=OpenDataset.State.READY).exists()
    kinds = [Deposit.Kind.OPEN_DATA] if ready else []
    kinds.append(Deposit.Kind.RESOURCE_DATA)
    made = False
    for kind in kinds:
        if Deposit.objects.filter(resource=resource, kind=kind, state=Deposit.State.DONE).exists():
            continue
        deposit = services.deposit_request(
            kind=kind, holder=resource.provider, resource=resource, acting_user=staff
        )
        services.deposit_make(deposit_id=deposit.pk)
        made = True
    if made:
        integrate("evidence")
    context["evidence_resource"] = resource


register_seeder(Seeder(name="evidence", order=64, run=seed_evidence))
