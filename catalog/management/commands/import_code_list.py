"""Import an official code list (CSV or XLSX) into a code list, as the city data bureau.

    manage.py import_code_list GB/T2260-AREAS tests/data/admin-divisions/areas.csv \\
        --name 县级行政区划代码 --effective-date 2022-10-31 --user demo_city_reviewer \\
        --parent-column cityCode

The list is created when it does not exist yet (give --name). Values valid on the effective
date are replaced by the file's (see catalog.standards.importers.code_list_import); when any
row is wrong, every problem is listed and nothing is imported.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog.standards.importers import ImportRefused, code_list_import
from catalog.standards.models import CodeList
from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.history import audited_save

SHOWN_ERRORS = 100


class Command(BaseCommand):
    help = "Import a code list from a CSV or XLSX file (values dated from an effective date)."

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="identifier of the code list, e.g. GB/T 2261.1-2003")
        parser.add_argument("file", help="CSV (UTF-8 or GB18030) or XLSX file")
        parser.add_argument(
            "--effective-date",
            required=True,
            type=dt.date.fromisoformat,
            help="first day the file's values are valid (YYYY-MM-DD)",
        )
        parser.add_argument(
            "--user", required=True, help="user name of the city data bureau reviewer acting"
        )
        parser.add_argument("--name", help="name of the list, to create it if it is missing")
        parser.add_argument("--source", default="", help="source standard of a new list")
        parser.add_argument("--parent-column", help="header of the parent code column")
        parser.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="FIELD=HEADER",
            help="map a field (code, name, parent_code, valid_from, valid_to) to a header",
        )
        parser.add_argument("--reason", default="", help="note kept in the list's history")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        columns = {}
        for mapping in options["column"]:
            field, sep, header = mapping.partition("=")
            if not sep or not field or not header:
                raise CommandError(f"--column takes FIELD=HEADER, not {mapping!r}")
            columns[field.strip()] = header.strip()
        code_list = CodeList.objects.filter(identifier=options["identifier"]).first()
        if code_list is None:
            if not options["name"]:
                raise CommandError(
                    f"there is no code list {options['identifier']!r}: give --name to create it"
                )
            code_list = CodeList(
                identifier=options["identifier"],
                name=options["name"],
                source=options["source"],
                owner=user.organization,
            )
        try:
            with transaction.atomic():  # a refused import leaves no new, empty list behind
                if code_list.pk is None:
                    audited_save(code_list, acting_user=user, reason="import_code_list")
                summary = code_list_import(
                    code_list=code_list,
                    rows_source=options["file"],
                    effective_date=options["effective_date"],
                    acting_user=user,
                    columns=columns or None,
                    parent_column=options["parent_column"],
                    reason=options["reason"],
                )
        except ImportRefused as refused:
            for error in refused.errors[:SHOWN_ERRORS]:
                self.stderr.write(str(error))
            if len(refused.errors) > SHOWN_ERRORS:
                self.stderr.write(f"... and {len(refused.errors) - SHOWN_ERRORS} more")
            raise CommandError(str(refused)) from refused
        except DomainError as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(
            self.style.SUCCESS(
                f"{code_list.identifier}: {summary.added} added, {summary.closed} closed, "
                f"{summary.changed} changed, {summary.unchanged} unchanged"
            )
        )
