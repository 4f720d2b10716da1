"""Settings for a developer's machine and the demo portal of `make run`."""

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key-change-me-0123456789abcdef")

# The demo's database-extraction channel reads a stand-in agency table in this database.
AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB = env.bool(
    "AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB", default=True
)

# The README's demo logins work with the password alone; set SECURITY_2FA_REQUIRED=1 to try
# two-factor login locally.
SECURITY_2FA_REQUIRED = env.bool("SECURITY_2FA_REQUIRED", default=False)
# A fixed backup key for the demo and development only; production requires its own.
BACKUP_ENCRYPTION_KEY = env(
    "BACKUP_ENCRYPTION_KEY", default="bG9jYWwtZGV2ZWxvcG1lbnQtYmFja3VwLWtleS0zMmI"
)
# The demo grant of 武汉市公安局 to a 武汉市民政局 resource answers to this fixed key, so the
# README can show a working curl line (authorization/sharing/demo.py). Never in production.
DEMO_SUPPLY_KEY = env(
    "DEMO_SUPPLY_KEY", default="pdr_de0000000001_demo-supply-key-for-the-readme-only-0001"
)
