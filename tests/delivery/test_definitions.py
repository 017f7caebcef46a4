"""Definitions: every shipped one validates and passes its own test cases on the real zen-engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from panjereh.delivery import definitions as defs
from panjereh.delivery import engine
from panjereh.delivery.exceptions import InvalidDefinition
from panjereh.registries.services import published_services

BUNDLED = defs.load_all()


def test_the_flagship_services_are_executable() -> None:
    smart = [s for s, d in BUNDLED.items() if d.definition.is_smart]
    human = [s for s, d in BUNDLED.items() if not d.definition.is_smart]
    assert len(BUNDLED) >= 12
    assert len(smart) >= 8
    assert {"farmer-card", "excavation-permit", "business-licence"} <= set(human)
    for slug in (
        "no-criminal-record",
        "my-sim-cards",
        "health-insurance-coverage",
        "student-enrollment",
        "utility-address-change",
        "vehicle-ownership",
        "tax-clearance",
        "property-ownership",
    ):
        assert slug in smart


@pytest.mark.parametrize("slug", sorted(BUNDLED))
def test_definition_test_cases_pass(slug: str) -> None:
    results = engine.run_test_cases(BUNDLED[slug])
    assert results, "every definition ships test cases"
    failures = [(r.name, r.expected, r.actual) for r in results if not r.passed]
    assert failures == []


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "tax-clearance")
    path = folder / "tax-clearance.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["tests"][1]["expect"] = {"decision": "approve"}  # a debtor approved: the model must disagree
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    results = engine.run_test_cases(defs.load_file(path))
    assert [r.passed for r in results] == [True, False, True]


def test_smart_by_construction() -> None:
    assert defs.derive_maturity(BUNDLED["no-criminal-record"].definition).level == 5
    assert defs.derive_maturity(BUNDLED["business-licence"].definition).level == 3
    assert defs.derive_maturity(BUNDLED["excavation-permit"].definition).level == 2


def test_declared_level_beyond_the_definition_is_flagged() -> None:
    derivation = defs.derive_maturity(BUNDLED["business-licence"].definition, declared_level=5)
    assert "declared_level_unsupported" in derivation.flags
    assert defs.derive_maturity(BUNDLED["tax-clearance"].definition, declared_level=5).flags == []


def test_asking_the_citizen_for_what_a_registry_has_is_flagged() -> None:
    derivation = defs.derive_maturity(BUNDLED["farmer-card"].definition)
    assert "once_only_violation" in derivation.flags
    assert any("ثبت احوال" in r or "civil-registry" in r for r in derivation.reasons_fa)
    assert "once_only_violation" not in defs.derive_maturity(BUNDLED["excavation-permit"].definition).flags


def _copy(tmp_path: Path, slug: str) -> Path:
    for suffix in (".yaml", ".decision.json"):
        shutil.copy(defs.DEFINITIONS_DIR / f"{slug}{suffix}", tmp_path / f"{slug}{suffix}")
    return tmp_path


def _broken(tmp_path: Path, change) -> InvalidDefinition:
    folder = _copy(tmp_path, "no-criminal-record")
    path = folder / "no-criminal-record.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw, folder)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidDefinition) as caught:
        defs.load_file(path)
    return caught.value


def test_unknown_data_service_is_refused(tmp_path: Path) -> None:
    def change(raw, _folder):
        raw["evidence"][1]["service"] = "judiciary.horoscope"

    assert "judiciary.horoscope" in str(_broken(tmp_path, change))


def test_inquiry_without_service_is_refused(tmp_path: Path) -> None:
    def change(raw, _folder):
        del raw["evidence"][1]["service"]

    assert "names no data service" in str(_broken(tmp_path, change))


def test_missing_decision_model_is_refused(tmp_path: Path) -> None:
    def change(raw, _folder):
        raw["decision"]["model"] = "nowhere.json"

    assert "missing" in str(_broken(tmp_path, change))


def test_malformed_model_is_refused(tmp_path: Path) -> None:
    def change(_raw, folder):
        (folder / "no-criminal-record.decision.json").write_text(json.dumps({"nodes": []}))

    assert "contentType" in str(_broken(tmp_path, change))


def test_path_parameter_from_an_undeclared_input_is_refused(tmp_path: Path) -> None:
    def change(raw, _folder):
        raw["evidence"][1]["path_params"] = {"national_code": "{inputs.nope}"}

    assert "nope" in str(_broken(tmp_path, change))


def test_test_cases_are_required(tmp_path: Path) -> None:
    def change(raw, _folder):
        raw["tests"] = []

    assert "tests" in str(_broken(tmp_path, change))


def test_decision_explains_itself() -> None:
    loaded = BUNDLED["no-criminal-record"]
    from datetime import date

    context = engine.decision_context(
        {"purpose": "employment"}, {"person": {"alive": True}, "criminal": {"has_criminal_record": True}},
        national_code="0684159414", today=date(2025, 1, 1),
    )  # fmt: skip
    decision = engine.evaluate(loaded, context)
    assert decision.decision == "refuse"
    assert [r.code for r in decision.reasons] == ["has_record"]
    assert decision.reasons[0].legal_ref == "penal-records-regulation"
    assert [f["rule"] for f in decision.rules_fired] == ["R-record"]
    assert decision.rule_version == "no-criminal-record/1402.1"
    assert decision.inputs_digest == engine.digest(context)


def test_each_definition_belongs_to_the_agency_its_service_card_names() -> None:
    from panjereh.catalog.seed import load_flagship

    cards = {record["slug"]: record["agency"] for record in load_flagship()}
    for slug, loaded in BUNDLED.items():
        assert slug in cards, f"{slug} has a definition but no service card"
        assert loaded.definition.agency == cards[slug], f"{slug}: definition and card name different agencies"


def test_every_data_service_delivery_understands_is_published_by_the_registries() -> None:
    published = {
        service["code"] for registry in published_services()["registries"] for service in registry["services"]
    }
    assert defs.data_service_codes() <= published
