from django.utils import translation
from django.utils.translation import gettext_lazy

from wuhan_pdr.accounts.forms import DeactivateForm
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.forms import add_domain_error


def test_domain_error_carries_message_field_and_code():
    err = DomainError("Not now.", field="comment", code="too_early")
    assert str(err) == "Not now."
    assert err.message == "Not now."
    assert err.field == "comment"
    assert err.code == "too_early"


def test_domain_error_keeps_a_lazy_message_translatable():
    err = DomainError(gettext_lazy("Home"))
    with translation.override("en"):
        assert str(err) == "Home"
    assert err.field is None
    assert err.code == "invalid"


def test_refusals_are_domain_errors():
    assert issubclass(TransitionNotAllowed, DomainError)
    assert issubclass(AccessDenied, DomainError)


def test_add_domain_error_puts_the_message_next_to_its_field_or_above_the_form():
    form = DeactivateForm(data={"reason": "x"})
    assert form.is_valid()
    add_domain_error(form, DomainError("Bad reason.", field="reason"))
    add_domain_error(form, DomainError("Refused.", field="no_such_field"))
    assert form.errors["reason"] == ["Bad reason."]
    assert form.non_field_errors() == ["Refused."]
