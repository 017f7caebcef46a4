"""Identifier normalization and validation against the vectors of domain.md §4."""

import random

import pytest

from panjereh.core.identifiers import (
    InvalidIdentifier,
    compact,
    format_postal_code,
    group_digits,
    is_plausible_postal_code,
    is_valid_legal_entity_id,
    is_valid_mobile,
    is_valid_national_code,
    legal_entity_check_digit,
    make_national_code,
    national_code_check_digit,
    normalize_legal_entity_id,
    normalize_mobile,
    normalize_national_code,
)

VALID_NATIONAL_CODES = [
    "0499370899",
    "0790419904",
    "1583250689",
    "0684159414",
    "0084575948",
    "0067749828",
    "4032152314",
    "0076229645",
    "7400076205",
    "2540201288",
]
INVALID_NATIONAL_CODES = [
    "1234567890",
    "0000000000",
    "1111111111",
    "0010000000",
    "0684159415",
    "4271427685",
    "0123000000",
]
VALID_LEGAL_IDS = ["10380284790", "10100387143", "77111986110", "18061055669", "42118547230", "97006806007"]
INVALID_LEGAL_IDS = ["10380284792", "10380285692", "11111111111", "09748208301", "84735069516"]


def test_compact_folds_digits_and_drops_typed_separators() -> None:
    assert compact("۰۹۱۲ ۳۴۵\u200c۶۷۸۹–x") == "09123456789x"
    assert compact("1404/12/01", "/") == "14041201"
    assert compact("1404/12/01") == "1404/12/01"


def test_group_digits_reads_in_groups() -> None:
    assert group_digits("140412345678901") == "1404-1234-5678-901"
    assert group_digits("1193653471", 5) == "11936-53471"


@pytest.mark.parametrize("typed", ["0499370⁸99", "①583250689", "25402012⁸8"])
def test_superscripts_and_circled_numbers_are_not_digits(typed: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_national_code(typed)
    assert caught.value.reason == "not_digits"


@pytest.mark.parametrize("code", VALID_NATIONAL_CODES)
def test_valid_national_codes(code: str) -> None:
    assert is_valid_national_code(code)
    assert normalize_national_code(code) == code


@pytest.mark.parametrize("code", INVALID_NATIONAL_CODES)
def test_invalid_national_codes(code: str) -> None:
    assert not is_valid_national_code(code)
    with pytest.raises(InvalidIdentifier) as info:
        normalize_national_code(code)
    assert info.value.kind == "national_code"
    assert info.value.code.startswith("invalid_national_code.")


def test_eight_digit_code_is_left_padded() -> None:
    assert normalize_national_code("68415941") == "0068415941"


def test_nine_digit_code_is_left_padded() -> None:
    assert normalize_national_code("499370899") == "0499370899"


def test_checksum_only_code_passes() -> None:
    assert is_valid_national_code("0123456789")


@pytest.mark.parametrize(
    "raw",
    ["۰۴۹۹۳۷۰۸۹۹", "٠٤٩٩٣٧٠٨٩٩", "049-937089-9", " 0499 370 899 ", "۰۴۹۹–۳۷۰۸۹۹", "0499\u200c370899"],
)
def test_national_code_accepts_persian_digits_and_separators(raw: str) -> None:
    assert normalize_national_code(raw) == "0499370899"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty"),
        ("", "empty"),
        ("  - ", "empty"),
        (499370899, "not_a_string"),
        ("04993708x9", "not_digits"),
        ("０４９９３７０８９９", "not_digits"),  # full-width digits are not folded
        ("1234567", "length"),
        ("04993708990", "length"),
        ("0000000000", "repeated_digits"),
        ("0010000000", "zero_serial"),
        ("0123000000", "checksum"),
        ("0499370898", "checksum"),
    ],
)
def test_national_code_rejections_carry_a_reason(raw: object, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalize_national_code(raw)  # type: ignore[arg-type]
    assert info.value.reason == reason
    assert isinstance(info.value, ValueError)


def test_check_digit_matches_vectors() -> None:
    for code in VALID_NATIONAL_CODES:
        assert national_code_check_digit(code[:9]) == int(code[9])


def test_check_digit_rejects_wrong_length() -> None:
    with pytest.raises(InvalidIdentifier):
        national_code_check_digit("12345678")


def test_make_national_code_is_valid_and_deterministic() -> None:
    codes = [make_national_code(random.Random(7)) for _ in range(3)]
    assert len(set(codes)) == 1
    rng = random.Random(1402)
    many = [make_national_code(rng) for _ in range(2000)]
    assert all(is_valid_national_code(c) and len(c) == 10 for c in many)
    assert any(c.startswith("0") for c in many)


@pytest.mark.parametrize("code", VALID_LEGAL_IDS)
def test_valid_legal_entity_ids(code: str) -> None:
    assert is_valid_legal_entity_id(code)
    assert legal_entity_check_digit(code[:10]) == int(code[10])


@pytest.mark.parametrize("code", INVALID_LEGAL_IDS)
def test_invalid_legal_entity_ids(code: str) -> None:
    assert not is_valid_legal_entity_id(code)


@pytest.mark.parametrize("raw", ["۱۰۳۸۰۲۸۴۷۹۰", "103-8028479-0"])
def test_legal_entity_id_accepts_persian_digits(raw: str) -> None:
    assert normalize_legal_entity_id(raw) == "10380284790"


@pytest.mark.parametrize("raw", [None, "", "1038028479", "103800000001", "10300000000"])
def test_legal_entity_id_rejects_junk(raw: str | None) -> None:
    assert not is_valid_legal_entity_id(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "+989121234567",
        "00989121234567",
        "989121234567",
        "09121234567",
        "9121234567",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "+۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷",
        "0912-123-4567",
        "(0912) 123 4567",
    ],
)
def test_mobile_prefixes_normalize(raw: str) -> None:
    assert normalize_mobile(raw) == "09121234567"


def test_mobile_without_prefix_starting_98() -> None:
    assert normalize_mobile("9812345678") == "09812345678"


@pytest.mark.parametrize(
    "raw", [None, "", "0812345678", "091212345678", "+9809121234567", "0912123456a", "+18005550100", "12+98"]
)
def test_mobile_rejections(raw: str | None) -> None:
    assert not is_valid_mobile(raw)
    with pytest.raises(InvalidIdentifier):
        normalize_mobile(raw)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["1193653471", "۱۱۹۳۶۵۳۴۷۱", "11936-53471"])
def test_plausible_postal_codes(code: str) -> None:
    assert is_plausible_postal_code(code)
    assert format_postal_code(code) == "11936-53471"


@pytest.mark.parametrize(
    "code", ["142386473", "1111111111", "0423437584", "1203653471", None, "", "11936x3471"]
)
def test_implausible_postal_codes(code: str | None) -> None:
    assert not is_plausible_postal_code(code)


def test_format_postal_code_rejects_implausible() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        format_postal_code("0423437584")
    assert info.value.code == "invalid_postal_code.implausible"
