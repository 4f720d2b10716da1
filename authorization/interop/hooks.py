"""What authorization.interop registers with the kernel and other apps, called from
AppConfig.ready()."""

from django.db.models.signals import post_save


def register() -> None:
    from catalog.models import CatalogEntry
    from catalog.negotiation import register_catalog_representation

    from .services import identity_ensure
    from .views import catalog_list_representation

    register_catalog_representation("dcat", catalog_list_representation)

    def _entry_saved(sender, instance, **kwargs):
        identity_ensure(instance.resource_id)

    post_save.connect(
        _entry_saved, sender=CatalogEntry, weak=False, dispatch_uid="interop_identity"
    )
