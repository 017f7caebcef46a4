"""Templates: three common shapes render a whole definition the store accepts, at level 5, tests passing."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from panjereh.delivery import engine, loading, service, templates
from panjereh.delivery.exceptions import InvalidDefinition

PERSON_FILE = {
    "key": "file",
    "service": "energy-files.person",
    "label": {"fa": "پروندهٔ مشترک", "en": "Customer file"},
    "why_fa": "برای یافتن پروندهٔ اشتراک شما",
}
CERTIFICATE: dict[str, Any] = {
    "slug": "energy-customer-certificate",
    "agency": "energy",
    "title": {"fa": "گواهی اشتراک", "en": "Customer certificate"},
    "answer": PERSON_FILE,
    "found_expression": "file.in_good_standing == true",
    "claims": {"file_number": "file_number"},
    "tests": [
        {
            "name": "ok",
            "facts": {"person": {"alive": True}, "file": {"in_good_standing": True}},
            "decision": "approve",
            "reasons": [],
        },
        {
            "name": "no",
            "facts": {"person": {"alive": True}, "file": {"found": False}},
            "decision": "refuse",
            "reasons": ["no_record"],
        },
        {
            "name": "dead",
            "facts": {"person": {"alive": False}, "file": {"in_good_standing": True}},
            "decision": "refuse",
            "reasons": ["deceased"],
        },
    ],
}
ELIGIBILITY: dict[str, Any] = {
    "slug": "student-discount",
    "agency": "education",
    "title": {"fa": "تخفیف دانش‌آموزی", "en": "Student discount"},
    "answers": [
        {
            "key": "enrollment",
            "service": "education.enrollment",
            "label": {"fa": "ثبت‌نام", "en": "Enrollment"},
            "why_fa": "x",
        },
        {"key": "tax", "service": "tax.clearance", "label": {"fa": "مالیات", "en": "Tax"}, "why_fa": "y"},
    ],
    "conditions": [
        {
            "code": "not_enrolled",
            "expression": "enrollment.enrolled == true",
            "reason_fa": "ثبت‌نام نشده",
            "reason_en": "Not enrolled",
        },
        {
            "code": "tax_debt",
            "expression": "tax.cleared == true",
            "reason_fa": "بدهی مالیاتی",
            "reason_en": "Tax debt",
        },
    ],
    "document": {"claims": {"school": "enrollment.enrollment.school"}},
    "tests": [
        {
            "name": "both hold",
            "facts": {"person": {"alive": True}, "enrollment": {"enrolled": True}, "tax": {"cleared": True}},
            "decision": "approve",
            "reasons": [],
        },
        {
            "name": "neither",
            "facts": {"person": {"alive": True}},
            "decision": "refuse",
            "reasons": ["not_enrolled", "tax_debt"],
        },
    ],
}
CHANGE: dict[str, Any] = {
    "slug": "energy-billing-address",
    "agency": "energy",
    "title": {"fa": "تغییر نشانی قبض", "en": "Billing address change"},
    "record": PERSON_FILE,
    "new_value": {
        "key": "postal_code",
        "type": "postal_code",
        "label": {"fa": "کد پستی تازه", "en": "New postal code"},
    },
    "check": {
        "key": "address",
        "service": "post.address",
        "label": {"fa": "نشانی کد پستی", "en": "Address"},
        "why_fa": "z",
        "path_params": {"postal_code": "{inputs.postal_code}"},
    },
}


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("certificate_from_registry", CERTIFICATE),
        ("eligibility_from_answers", ELIGIBILITY),
        ("change_in_registry", CHANGE),
    ],
)
def test_each_template_renders_a_level_5_definition_the_store_accepts(
    seeded: Session, name: str, params: dict[str, Any]
) -> None:
    document, model = templates.render(name, params)
    record = service.create_draft(
        seeded, agency_code=params["agency"], author="1111111111", document=document, model=model
    )
    assert (record.derived_level, record.is_smart, record.flags) == (5, True, [])
    results = engine.run_test_cases(loading.loaded_from_record(record))
    assert results and all(r.passed for r in results), results
    assert {e["source"] for e in record.body["evidence"]} == {"inquiry"}
    assert record.body["evidence"][0]["service"] == "civil-registry.person"  # alive first, by default


def test_change_in_registry_carries_the_new_value() -> None:
    document, _ = templates.render("change_in_registry", CHANGE)
    assert [i["key"] for i in document["inputs"]] == ["postal_code"]
    assert document["outcomes"]["document"]["claims"]["new_value"] == "inputs.postal_code"
    assert document["evidence"][-1]["path_params"] == {"postal_code": "{inputs.postal_code}"}


def test_bad_parameters_are_refused_with_reasons() -> None:
    with pytest.raises(templates.UnknownTemplate):
        templates.render("anything", {})
    with pytest.raises(ValidationError, match="slug"):
        templates.render("certificate_from_registry", {**CERTIFICATE, "slug": "Not A Slug"})
    with pytest.raises(ValidationError, match="conditions"):
        templates.render("eligibility_from_answers", {**ELIGIBILITY, "conditions": []})
    with pytest.raises(ValidationError, match="must read the new value"):
        templates.render("change_in_registry", {**CHANGE, "check": {**CHANGE["check"], "path_params": {}}})
    with pytest.raises(ValidationError, match="lower_snake_case"):
        templates.render(
            "certificate_from_registry", {**CERTIFICATE, "answer": {**PERSON_FILE, "key": "File"}}
        )


def test_a_rendered_definition_is_still_checked_by_the_store(seeded: Session) -> None:
    document, model = templates.render(
        "certificate_from_registry", {**CERTIFICATE, "answer": {**PERSON_FILE, "service": "energy.nothing"}}
    )
    with pytest.raises(InvalidDefinition, match="unknown data service"):
        service.create_draft(
            seeded, agency_code="energy", author="1111111111", document=document, model=model
        )
