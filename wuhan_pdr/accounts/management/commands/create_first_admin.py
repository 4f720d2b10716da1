"""`manage.py create_first_admin --username NAME`: the platform's first system administrator,
who then creates everyone else on the portal (including the security administrator and the
auditor, who must be other people). Refused once a system administrator exists, and for an
existing account holding the security administrator's or the auditor's role.

The password comes from FIRST_ADMIN_PASSWORD in the environment, or is asked twice at the
terminal; it must pass the password policy."""

from __future__ import annotations

import getpass
import os

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from wuhan_pdr.accounts.duties import check_separation_of_duties
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role, user_roles
from wuhan_pdr.kernel.errors import DomainError


class Command(BaseCommand):
    help = "Create the first system administrator (refused if one exists)."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--full-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--organization", type=int, default=None, help="id of the administrator's organization"
        )
        parser.add_argument(
            "--no-input",
            action="store_true",
            help="never ask: the password must be in FIRST_ADMIN_PASSWORD",
        )

    def _password(self, no_input: bool) -> str:
        password = os.environ.get("FIRST_ADMIN_PASSWORD", "")
        if password:
            return password
        if no_input:
            raise CommandError("Set FIRST_ADMIN_PASSWORD, or run without --no-input.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return first

    @transaction.atomic
    def handle(self, *args, **options):
        if User.objects.filter(groups__name=Role.SYSTEM_ADMIN, is_active=True).exists():
            raise CommandError(
                "A system administrator exists already: they create the other accounts."
            )
        organization = None
        if options["organization"] is not None:
            organization = Organization.objects.filter(pk=options["organization"]).first()
            if organization is None:
                raise CommandError(f"No organization with id {options['organization']}.")
        user = User.objects.filter(username=options["username"]).first()
        if user is not None:
            try:
                check_separation_of_duties(
                    user_roles(user) | {str(Role.SYSTEM_ADMIN)}, is_superuser=user.is_superuser
                )
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
        else:
            user = User(
                username=options["username"],
                full_name=options["full_name"],
                email=options["email"],
                organization=organization,
            )
        password = self._password(options["no_input"])
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        user.set_password(password)
        user.is_staff = True
        user.is_active = True
        if organization is not None:
            user.organization = organization
        user.save()
        user.groups.add(Group.objects.get(name=Role.SYSTEM_ADMIN))
        self.stdout.write(
            self.style.SUCCESS(f"System administrator “{user.username}” is ready to log in.")
        )
