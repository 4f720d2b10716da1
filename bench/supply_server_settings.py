"""Settings of the benchmark's gunicorn (bench_supply.py): the local settings, with the URL
table of supply_server.py (the portal's, plus the baseline view)."""

from wuhan_pdr.settings.local import *  # noqa: F403

ROOT_URLCONF = "supply_server"
