"""The password policy of MLPS level 3 (GB/T 22239-2019 8.1.4.1 a: identification and
authentication; decision "password-policy"): complexity, no reuse of recent passwords, and a
maximum age. The validators sit in AUTH_PASSWORD_VALIDATORS, so every form and service that
sets a password applies them."""

from __future__ import annotations

import string
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def character_classes(password: str) -> int:
    """How many of the four classes (capital letters, small letters, digits, other
    characters) `password` uses. Letters without case (Chinese) count as "other"."""
    classes = set()
    for ch in password:
        if ch.isupper():
            classes.add("upper")
        elif ch.islower():
            classes.add("lower")
        elif ch in string.digits or ch.isdigit():
            classes.add("digit")
        else:
            classes.add("other")
    return len(classes)


class CharacterClassValidator:
    """At least `min_classes` of: capital letters, small letters, digits, other characters."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if character_classes(password) < self.min_classes:
            raise ValidationError(self.message(), code="password_too_simple")

    def message(self) -> str:
        return _(
            "The password must use at least %(n)d of these four kinds of character: capital "
            "letters, small letters, digits and other characters (such as - or !)."
        ) % {"n": self.min_classes}

    def get_help_text(self):
        return self.message()


class PasswordHistoryValidator:
    """None of the user's last `count` passwords (the current one included) may be chosen
    again. Keeps the hashes in PasswordHistory when a password is set."""

    def __init__(self, count: int = 5):
        self.count = count

    def _recent_hashes(self, user) -> list[str]:
        from .models import PasswordHistory

        hashes = list(
            PasswordHistory.objects.filter(user=user)
            .order_by("-created_at", "-pk")
            .values_list("password", flat=True)[: self.count]
        )
        current = user.__class__.objects.filter(pk=user.pk).values_list("password", flat=True)
        return [*hashes, *current]

    def validate(self, password, user=None):
        if self.count <= 0 or user is None or not getattr(user, "pk", None):
            return
        for encoded in self._recent_hashes(user):
            if encoded and check_password(password, encoded):
                raise ValidationError(
                    ngettext(
                        "You used this password recently: choose one that differs from your "
                        "last %(count)d password.",
                        "You used this password recently: choose one that differs from your "
                        "last %(count)d passwords.",
                        self.count,
                    )
                    % {"count": self.count},
                    code="password_reused",
                )

    def password_changed(self, password, user=None):
        """Called by Django whenever a user with a new password is saved."""
        from .models import PasswordHistory

        if user is None or not user.pk or not user.has_usable_password():
            return
        PasswordHistory.objects.create(user=user, password=user.password)
        keep = list(
            PasswordHistory.objects.filter(user=user)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)[: max(self.count, 1)]
        )
        PasswordHistory.objects.filter(user=user).exclude(pk__in=keep).delete()

    def get_help_text(self):
        return ngettext(
            "You cannot reuse your last %(count)d password.",
            "You cannot reuse any of your last %(count)d passwords.",
            self.count,
        ) % {"count": self.count}


def password_expired(user) -> bool:
    """Whether `user`'s password is older than PASSWORD_MAX_AGE_DAYS (0: never)."""
    days = settings.PASSWORD_MAX_AGE_DAYS
    changed = getattr(user, "password_changed_at", None)
    if not days or changed is None:
        return False
    return timezone.now() - changed > timedelta(days=days)
