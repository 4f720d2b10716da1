"""Validation of codes that organizations carry."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError


def normalize_credit_code(value: str) -> str:
    return uscc.compact(value or "")


def validate_credit_code(value: str) -> None:
    """A unified social credit code per GB 32100-2015 (python-stdnum's `cn.uscc`), unless it
    is on the allow-list of legacy codes kept by system administrators."""
    from .models import LegacyCreditCode

    code = normalize_credit_code(value)
    try:
        uscc.validate(code)
    except StdnumError as exc:
        if LegacyCreditCode.objects.filter(code=code).exists():
            return
        if isinstance(exc, InvalidLength):
            msg = _("A unified social credit code has 18 characters; this one has %(n)d.") % {
                "n": len(code)
            }
        elif isinstance(exc, InvalidFormat):
            msg = _(
                "A unified social credit code uses digits and the capital letters "
                "ABCDEFGHJKLMNPQRTUWXY only (no I, O, S, V or Z)."
            )
        elif isinstance(exc, InvalidChecksum):
            msg = _(
                "The check character of this unified social credit code is wrong: please "
                "check for a typing error. A legacy code can be added to the allow-list by a "
                "system administrator."
            )
        else:
            msg = _("This is not a valid unified social credit code.")
        raise ValidationError(msg, code="credit_code") from exc
