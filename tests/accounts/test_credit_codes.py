"""Unified social credit codes (GB 32100): valid ones pass, each kind of mistake has its own
message, and legacy codes on the allow-list pass although they fail the checksum."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tests.accounts.factories import LegacyCreditCodeFactory, credit_code, division
from wuhan_pdr.accounts.demo import demo_credit_code
from wuhan_pdr.accounts.forms import OrganizationForm
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.validators import normalize_credit_code, validate_credit_code

pytestmark = pytest.mark.django_db

VALID = "91110000600037341L"  # a published example


def refusal(value: str) -> str:
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        validate_credit_code(value)
    assert exc.value.code == "credit_code"
    return " ".join(exc.value.messages)


@pytest.mark.parametrize(
    "code",
    [
        VALID,
        demo_credit_code("1", "1", "420100", 10_000_001),
        demo_credit_code("9", "1", "420111", 10_000_048),
        credit_code(7, "420117"),
    ],
)
def test_valid_credit_codes_pass(code):
    assert validate_credit_code(code) is None


def test_spaces_dashes_and_lower_case_are_normalised():
    messy = " 9111-0000 6000-3734 1l "
    assert validate_credit_code(messy) is None
    assert normalize_credit_code(messy) == VALID


@pytest.mark.parametrize("code, length", [(VALID[:-1], 17), (VALID + "0", 19), ("", 0)])
def test_wrong_length_is_refused_saying_how_long_it_is(code, length):
    message = refusal(code)
    assert "18 characters" in message
    assert f"this one has {length}" in message


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_letters_outside_the_charset_are_refused(letter):
    code = VALID[:10] + letter + VALID[11:]
    assert "no I, O, S, V or Z" in refusal(code)


def test_wrong_check_character_is_refused():
    assert "check character" in refusal(VALID[:-1] + "M")


def test_legacy_code_on_the_allow_list_passes():
    legacy = VALID[:-1] + "M"
    assert "check character" in refusal(legacy)
    LegacyCreditCodeFactory(code=legacy)
    assert validate_credit_code(legacy) is None
    assert validate_credit_code(legacy.lower()) is None


def test_allow_list_accepts_only_the_listed_code():
    LegacyCreditCodeFactory(code=VALID[:-1] + "M")
    assert "check character" in refusal(VALID[:-1] + "N")


def organization_data(code: str) -> dict:
    return {
        "name": "武汉市测试中心",
        "kind": Organization.Kind.CITY_AGENCY,
        "division": division().pk,
        "credit_code": code,
        "is_active": "on",
    }


def test_organization_form_shows_the_credit_code_message_next_to_the_field():
    with translation.override("en"):
        form = OrganizationForm(data=organization_data(VALID[:-1] + "M"))
        assert not form.is_valid()
        assert "check character" in " ".join(form.errors["credit_code"])


def test_organization_stores_the_normalised_code():
    form = OrganizationForm(data=organization_data(" 91110000600037341l "))
    assert not form.errors.get("credit_code")
    assert form.is_valid(), form.errors
    org = form.save()
    assert org.credit_code == VALID
