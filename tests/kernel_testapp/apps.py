from django.apps import AppConfig


class KernelTestAppConfig(AppConfig):
    name = "tests.kernel_testapp"
    label = "kernel_testapp"
    default_auto_field = "django.db.models.BigAutoField"
