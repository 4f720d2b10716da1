"""What authorization.sandbox registers with the kernel and other apps, called from AppConfig.ready()."""


def register() -> None:
    from . import functions, queues

    functions.register()
    queues.register()
    from . import demo  # noqa: F401  (registers its seeder)
