"""Persian search keys and display digits against the vectors of domain.md §5."""

from decimal import Decimal

import pytest

from panjereh.core.persian import (
    fold_digits,
    fold_number,
    format_number_fa,
    matches,
    search_key,
    search_keys_variants,
    to_persian_digits,
    tokenize,
)


def test_fold_digits_folds_persian_and_arabic_indic() -> None:
    assert fold_digits("۰۱۲۳۴۵۶۷۸۹-٠١٢٣٤٥٦٧٨٩-x") == "0123456789-0123456789-x"


@pytest.mark.parametrize("other", ["²", "①", "१", "𝟙", "Ⅻ", "½"])
def test_only_latin_persian_and_arabic_indic_decimals_are_digits(other: str) -> None:
    # Unicode gives each of these a digit or numeric value; none of them is a digit here.
    assert fold_digits(f"1{other}2") == f"1{other}2"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("كارت ملي", "کارت ملی"),
        ("مُحَمَّد", "محمد"),
        ("پاسـپـورت", "پاسپورت"),
        ("١٤٠٢", "1402"),
        ("۱۴۰۲", "1402"),
        ("گواهی‌نامه", "گواهی نامه"),
        ("موسى", "موسی"),
        ("مدرسة", "مدرسه"),
        ("خانۀ", "خانه"),
        ("ەلف", "هلف"),
        ("أحمد إبراهيم ٱلف", "احمد ابراهیم الف"),
        ("مؤسسه", "موسسه"),
        ("قرآن", "قرآن"),  # alef madda is not folded
        ("بِسْمِ", "بسم"),
        ("\u0627\u0670", "ا"),  # superscript alef
        ("ﻛﺘﺎﺏ", "کتاب"),  # presentation forms, folded by NFKC
        ("a\u200db", "ab"),
        ("  Passport   ID\t\n", "passport id"),
        ("", ""),
        (None, ""),
    ],
)
def test_search_key(raw: str | None, key: str) -> None:
    assert search_key(raw) == key


def test_arabic_and_persian_spellings_fold_to_one_key() -> None:
    assert search_key("كارت ملي") == search_key("کارت ملی")


def test_variants_give_spaced_and_joined_forms() -> None:
    assert search_keys_variants("گواهی‌نامه") == ("گواهی نامه", "گواهینامه")
    assert search_keys_variants("کارت ملی") == ("کارت ملی",)
    assert search_keys_variants("") == ()


@pytest.mark.parametrize("query", ["گواهینامه", "گواهی نامه", "گواهی‌نامه", "گواهي‌نامه"])
def test_zwnj_word_matches_every_spelling(query: str) -> None:
    assert matches(query, "صدور گواهی‌نامه رانندگی")


def test_zwnj_query_matches_joined_and_spaced_texts() -> None:
    assert matches("گواهی‌نامه", "گواهینامه")
    assert matches("گواهی‌نامه", "گواهی نامه")


def test_unrelated_query_does_not_match() -> None:
    assert not matches("پاسپورت", "گواهی‌نامه رانندگی")
    assert not matches("", "anything")


def test_tokenize_splits_on_zwnj_and_punctuation() -> None:
    assert tokenize("درخواستِ «گواهی‌نامه»، پایه ۱؛ Test!") == ["درخواست", "گواهی", "نامه", "پایه", "1", "test"]
    assert tokenize(None) == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("1402", "۱۴۰۲"), ("١٤٠٢", "۱۴۰۲"), (1402, "۱۴۰۲"), ("کد 0499-370899", "کد ۰۴۹۹-۳۷۰۸۹۹")],
)
def test_to_persian_digits(raw: object, shown: str) -> None:
    assert to_persian_digits(raw) == shown


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, "۰"),
        (999, "۹۹۹"),
        (1000, "۱٬۰۰۰"),
        (1234567, "۱٬۲۳۴٬۵۶۷"),
        (-25000, "-۲۵٬۰۰۰"),
        (1234.5, "۱٬۲۳۴٫۵"),
        (Decimal("12000000.25"), "۱۲٬۰۰۰٬۰۰۰٫۲۵"),
    ],
)
def test_format_number_fa(n: int | float | Decimal, shown: str) -> None:
    assert format_number_fa(n) == shown


@pytest.mark.parametrize(
    ("typed", "folded"),
    [("۵٫۵", "5.5"), ("۱٬۲۳۴٫۵", "1234.5"), ("5.5", "5.5"), ("١٢", "12"), ("۵,۵", "5,5"), ("abc", "abc")],
)
def test_fold_number_reads_the_persian_separators(typed: str, folded: str) -> None:
    assert fold_number(typed) == folded
