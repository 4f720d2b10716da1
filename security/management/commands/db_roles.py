"""`manage.py db_roles`: create or update the database's least-privilege roles (idempotent).

Runs over DATABASE_ADMIN_URL (default: DATABASE_URL), an administrator's connection, on the
database of DATABASE_URL. Passwords for the login roles are set from DATABASE_PASSWORD_OWNER,
DATABASE_PASSWORD_WEB and DATABASE_PASSWORD_WORKER where given (docs/operations.md)."""

from __future__ import annotations

import os

import environ
import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from security.dbroles import PROCESS_KINDS, roles_ensure


class Command(BaseCommand):
    help = "Create or update the least-privilege database roles (owner, web, worker, zones)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            default=settings.DATABASES["default"]["NAME"],
            help="The database whose roles to create (default: that of DATABASE_URL).",
        )

    def handle(self, *args, database: str, verbosity: int = 1, **options):
        admin = environ.Env.db_url_config(settings.DATABASE_ADMIN_URL)
        params = {
            "dbname": database,
            "user": admin.get("USER") or None,
            "password": admin.get("PASSWORD") or None,
            "host": admin.get("HOST") or None,
            "port": admin.get("PORT") or None,
            "connect_timeout": 10,
            "application_name": "db_roles",
        }
        passwords = {
            kind: os.environ[f"DATABASE_PASSWORD_{kind.upper()}"]
            for kind in PROCESS_KINDS
            if os.environ.get(f"DATABASE_PASSWORD_{kind.upper()}")
        }
        try:
            conn = psycopg.connect(**{k: v for k, v in params.items() if v is not None})
        except psycopg.OperationalError as exc:
            raise CommandError(
                f"cannot connect to {database!r} as the administrator: {exc}"
            ) from exc
        try:
            with conn, conn.transaction(), conn.cursor() as cur:
                # One run at a time per server: two setups granting at once may collide.
                cur.execute("SELECT pg_advisory_xact_lock(hashtext('pdr.db_roles'))")
                done = roles_ensure(cur, database=database, passwords=passwords)
        except psycopg.Error as exc:
            raise CommandError(f"creating the roles of {database!r} failed: {exc}") from exc
        if verbosity:
            created = ", ".join(done["created"]) or "none"
            self.stdout.write(
                f"roles of {database}: {', '.join(done['roles'].values())} "
                f"(created: {created}; objects adopted: {done['adopted']})"
            )
