"""What authorization.supply registers with the kernel and other apps, called from AppConfig.ready()."""


def register() -> None:
    from aggregation.loading import register_full_swap_hook
    from security.zones import register_read_function_builder

    from .deletions import record_deleted_keys
    from .functions import BUILDER

    # The supply functions are made, remade and dropped with each table's read functions.
    register_read_function_builder(BUILDER)
    # A full load records the keys it removes, for `changed_since`.
    register_full_swap_hook(record_deleted_keys)
