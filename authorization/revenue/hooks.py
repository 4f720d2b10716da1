"""What authorization.revenue registers with the kernel and other apps, called from
AppConfig.ready()."""


def register() -> None:
    return None
