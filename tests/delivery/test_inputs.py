"""A citizen's inputs: digits folded by the one rule, and a number is written in digits only."""

from __future__ import annotations

import pytest

from panjereh.delivery import definitions as defs
from panjereh.delivery.exceptions import InvalidApplication
from panjereh.delivery.service import clean_inputs

EXCAVATION = defs.load_file(defs.DEFINITIONS_DIR / "excavation-permit.yaml")


def _inputs(**overrides: object) -> dict[str, object]:
    """The excavation permit's two inputs (postal code, length), with `overrides`."""
    return {"postal_code": "1193653471", "length_m": "12"} | overrides


@pytest.mark.parametrize(
    ("typed", "kept"), [("۱۲", 12), ("١٢.٥", 12.5), ("۵٫۵", 5.5), ("۱٬۲۰۰", 1200), ("-0", 0), ("7", 7)]
)
def test_numbers_in_persian_or_arabic_indic_digits_are_read(typed: str, kept: float) -> None:
    assert clean_inputs(EXCAVATION, _inputs(length_m=typed))["length_m"] == kept


@pytest.mark.parametrize("typed", ["١²", "①", "१२", "1e9", "inf", "nan", "12a", "۵٫٫۵", "٫"])
def test_anything_else_is_not_a_number(typed: str) -> None:
    with pytest.raises(InvalidApplication) as refused:
        clean_inputs(EXCAVATION, _inputs(length_m=typed))
    assert "عدد نیست" in refused.value.extra["errors"]["length_m"]


def test_a_postal_code_takes_persian_digits_but_no_superscripts() -> None:
    assert clean_inputs(EXCAVATION, _inputs(postal_code="۱۱۹۳۶-۵۳۴۷۱"))["postal_code"] == "1193653471"
    with pytest.raises(InvalidApplication):
        clean_inputs(EXCAVATION, _inputs(postal_code="119365347¹"))
