"""What authorization.sandbox registers with the kernel and other apps, called from AppConfig.ready()."""


def register() -> None:
    from . import functions, queues
    from . import tasks as _tasks  # noqa: F401  (celery task "sandbox.daily")

    functions.register()
    queues.register()
    from . import demo  # noqa: F401  (registers its seeder)
