"""The definitions store: drafts, review, four eyes, immutability, one published version, import/export."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.config import Settings
from panjereh.delivery import definitions as defs
from panjereh.delivery import loading, selectors, service, store
from panjereh.delivery.constants import DefinitionStatus
from panjereh.delivery.exceptions import (
    DefinitionLifecycleConflict,
    DefinitionNotEditable,
    FourEyesRequired,
    GrantMissing,
    InvalidDefinition,
    ServiceNotExecutable,
    SlugOfAnotherAgency,
)
from panjereh.delivery.models import DefinitionRecord
from panjereh.exchange import selectors as exchange_selectors
from tests.support.factories import create_card, create_grant

AUTHOR, EDITOR, REVIEWER = "1111111111", "2222222222", "3333333333"
SHIPPED = defs.bundled()["no-criminal-record"]


def document(slug: str = "good-conduct", **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    body = SHIPPED.definition.model_dump(mode="json")
    body.update(slug=slug, **changes)
    return body, copy.deepcopy(SHIPPED.model)


def draft(db: Session, slug: str = "good-conduct", author: str = AUTHOR) -> DefinitionRecord:
    body, model = document(slug)
    return service.create_draft(db, agency_code="judiciary", author=author, document=body, model=model)


def published(db: Session, slug: str = "good-conduct") -> DefinitionRecord:
    record = draft(db, slug)
    service.submit_for_review(db, record, by=AUTHOR)
    return service.publish(db, record, by=REVIEWER)


def test_a_draft_is_validated_as_a_file_is(seeded: Session) -> None:
    body, model = document(evidence=[])
    with pytest.raises(InvalidDefinition) as caught:
        service.create_draft(seeded, agency_code="judiciary", author=AUTHOR, document=body, model=model)
    assert "evidence" in str(caught.value)
    body, model = document()
    body["evidence"][1]["service"] = "judiciary.nothing-such"
    with pytest.raises(InvalidDefinition, match="unknown data service"):
        service.create_draft(seeded, agency_code="judiciary", author=AUTHOR, document=body, model=model)
    body, _ = document()
    with pytest.raises(InvalidDefinition, match="contentType"):
        service.create_draft(seeded, agency_code="judiciary", author=AUTHOR, document=body, model={})
    with pytest.raises(InvalidDefinition, match="JSON object"):
        service.create_draft(seeded, agency_code="judiciary", author=AUTHOR, document=[], model=model)  # type: ignore[arg-type]
    with pytest.raises(InvalidDefinition, match="not 'police'"):
        service.create_draft(seeded, agency_code="police", author=AUTHOR, document=body, model=model)


def test_draft_review_publish_and_the_request_records_its_version(
    seeded: Session, settings: Settings
) -> None:
    record = draft(seeded)
    assert (record.status, record.version, record.created_by) == (DefinitionStatus.DRAFT, 1, AUTHOR)
    assert record.derived_level == 5 and record.is_smart
    body, model = document(summary_fa="گواهی تازه")
    service.update_draft(seeded, record, editor=EDITOR, document=body, model=model)
    assert record.updated_by == EDITOR and record.body["summary_fa"] == "گواهی تازه"
    with pytest.raises(ServiceNotExecutable):  # a draft is not offered
        selectors.published_definition(seeded, "good-conduct")
    service.submit_for_review(seeded, record, by=AUTHOR)
    service.publish(seeded, record, by=REVIEWER)
    assert (record.status, record.published_by) == (DefinitionStatus.PUBLISHED, REVIEWER)
    assert selectors.published_definition(seeded, "good-conduct").id == record.id
    seeded.commit()
    request, _ = service.submit(
        seeded,
        settings,
        national_code="0499370899",
        slug="good-conduct",
        inputs={"purpose": "employment"},
        idempotency_key="k1",
    )
    assert request.definition_id == record.id


def test_four_eyes_neither_the_author_nor_the_last_editor_publishes(seeded: Session) -> None:
    record = draft(seeded)
    body, model = document(summary_fa="ویرایش")
    service.update_draft(seeded, record, editor=EDITOR, document=body, model=model)
    service.submit_for_review(seeded, record, by=EDITOR)
    for person in (AUTHOR, EDITOR):
        with pytest.raises(FourEyesRequired):
            service.publish(seeded, record, by=person)
    assert record.status == DefinitionStatus.IN_REVIEW
    service.publish(seeded, record, by=REVIEWER)
    assert record.status == DefinitionStatus.PUBLISHED


def test_a_published_version_never_changes_and_only_drafts_are_edited(seeded: Session) -> None:
    record = published(seeded)
    body, model = document(summary_fa="دیگر")
    with pytest.raises(DefinitionNotEditable):
        service.update_draft(seeded, record, editor=AUTHOR, document=body, model=model)
    with pytest.raises(DefinitionLifecycleConflict):
        service.publish(seeded, record, by="4444444444")
    in_review = draft(seeded)
    service.submit_for_review(seeded, in_review, by=AUTHOR)
    with pytest.raises(DefinitionNotEditable):
        service.update_draft(seeded, in_review, editor=AUTHOR, document=body, model=model)
    with pytest.raises(DefinitionLifecycleConflict):  # one open draft per service
        draft(seeded)
    assert record.body["summary_fa"] == SHIPPED.definition.summary_fa


def test_publishing_retires_the_previous_version(seeded: Session) -> None:
    first = published(seeded)
    second = published(seeded)
    assert (first.status, second.status, second.version) == (
        DefinitionStatus.RETIRED,
        DefinitionStatus.PUBLISHED,
        2,
    )
    assert first.retired_by == REVIEWER
    count = seeded.scalar(
        select(func.count())
        .select_from(DefinitionRecord)
        .where(DefinitionRecord.slug == "good-conduct", DefinitionRecord.status == DefinitionStatus.PUBLISHED)
    )
    assert count == 1
    assert [
        r.version for r in selectors.definitions_of_agency(seeded, "judiciary") if r.slug == "good-conduct"
    ] == [2, 1]
    assert selectors.definition_version(seeded, first.id) is first


def test_reject_sends_back_to_draft_with_a_reason(seeded: Session) -> None:
    record = draft(seeded)
    service.submit_for_review(seeded, record, by=AUTHOR)
    with pytest.raises(InvalidDefinition):
        service.reject(seeded, record, by=REVIEWER, reason="  ")
    service.reject(seeded, record, by=REVIEWER, reason="دلیل حقوقی را بنویسید")
    assert (record.status, record.reviewed_by, record.review_note) == (
        DefinitionStatus.DRAFT,
        REVIEWER,
        "دلیل حقوقی را بنویسید",
    )
    with pytest.raises(DefinitionLifecycleConflict):  # a draft is not rejected
        service.reject(seeded, record, by=REVIEWER, reason="x")


def test_retiring_the_published_version_withdraws_the_service_and_its_badge(seeded: Session) -> None:
    create_card(seeded, "judiciary", slug="good-conduct", maturity_level=2)
    record = published(seeded)
    card = catalog_selectors.get_service_by_slug(seeded, "good-conduct")
    assert (card.derived_maturity_level, card.is_smart) == (5, True)
    service.retire(seeded, record, by=REVIEWER)
    assert record.status == DefinitionStatus.RETIRED
    with pytest.raises(ServiceNotExecutable):
        selectors.published_definition(seeded, "good-conduct")
    assert (card.derived_maturity_level, card.is_smart, card.declared_maturity_level) == (None, False, 2)
    with pytest.raises(DefinitionLifecycleConflict):
        service.retire(seeded, record, by=REVIEWER)


def test_a_slug_belongs_to_one_agency(seeded: Session) -> None:
    create_card(seeded, "police", slug="police-owned")
    body, model = document("police-owned")
    body["agency"] = "judiciary"
    with pytest.raises(SlugOfAnotherAgency):
        service.create_draft(seeded, agency_code="judiciary", author=AUTHOR, document=body, model=model)
    published(seeded, "judiciary-owned")
    body, model = document("judiciary-owned")
    body["agency"] = "police"
    with pytest.raises(SlugOfAnotherAgency):
        service.create_draft(seeded, agency_code="police", author=AUTHOR, document=body, model=model)


def test_a_slug_another_agency_carded_since_the_draft_is_neither_reviewed_nor_published(
    seeded: Session,
) -> None:
    in_review = draft(seeded, "good-conduct")
    service.submit_for_review(seeded, in_review, by=AUTHOR)
    still_draft = draft(seeded, "good-behaviour")
    # The police's inventory names both slugs after the judiciary's drafts were made.
    create_card(seeded, "police", slug="good-conduct")
    create_card(seeded, "police", slug="good-behaviour")
    with pytest.raises(SlugOfAnotherAgency, match="police"):
        service.publish(seeded, in_review, by=REVIEWER)
    with pytest.raises(SlugOfAnotherAgency, match="police"):
        service.submit_for_review(seeded, still_draft, by=AUTHOR)
    assert (in_review.status, still_draft.status) == (DefinitionStatus.IN_REVIEW, DefinitionStatus.DRAFT)
    card = catalog_selectors.get_service_by_slug(seeded, "good-conduct")
    assert (card.agency_code, card.is_smart) == ("police", False)


def test_the_shipped_definitions_arrive_published_and_import_is_idempotent(seeded: Session) -> None:
    records = selectors.published_definitions(seeded)
    assert {r.slug for r in records} == set(defs.bundled())
    assert all(r.published_by == "import:seed" for r in records)
    again = store.import_loaded(seeded, defs.bundled().values(), by="again")
    assert (again.published, sorted(again.unchanged)) == ([], sorted(defs.bundled()))


def test_export_then_import_round_trip(seeded: Session, tmp_path: Path) -> None:
    for record in selectors.published_definitions(seeded):
        store.export_record(record, tmp_path)
    read_back = store.read_files(tmp_path)
    stored = {r.slug: r for r in selectors.published_definitions(seeded)}
    assert {item.slug: item.digest for item in read_back} == {s: r.digest for s, r in stored.items()}
    assert store.import_loaded(seeded, read_back, by="round-trip").published == []
    # A changed file is a new published version; the one before retires.
    path = tmp_path / "tax-clearance.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["summary_fa"] = "مفاصاحساب مالیاتی، نسخهٔ تازه"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = store.import_loaded(seeded, store.read_files(path), by="round-trip")
    assert [(r.slug, r.version) for r in result.published] == [
        ("tax-clearance", stored["tax-clearance"].version + 1)
    ]
    assert stored["tax-clearance"].status == DefinitionStatus.RETIRED


def test_cli_import_and_export(
    seeded: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from panjereh.cli import app

    runner = CliRunner()
    url = str(seeded.get_bind().engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PANJEREH_DATABASE_URL", url)
    monkeypatch.setenv("PANJEREH_HOME", str(settings.home))
    from panjereh.core.config import get_settings

    get_settings.cache_clear()
    try:
        out = tmp_path / "out"
        result = runner.invoke(app, ["definitions", "export", "--all", str(out)])
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in out.glob("*.yaml")) == sorted(f"{s}.yaml" for s in defs.bundled())
        result = runner.invoke(app, ["definitions", "export", str(out)])
        assert result.exit_code == 2
        result = runner.invoke(app, ["definitions", "import", str(out)])
        assert result.exit_code == 0, result.output
        assert f"0 published, {len(defs.bundled())} unchanged" in result.output
        broken = tmp_path / "broken"
        broken.mkdir()
        (broken / "x-y.yaml").write_text("slug: x-y\nversion: 1\n", encoding="utf-8")
        result = runner.invoke(app, ["definitions", "import", str(broken)])
        assert result.exit_code != 0
        # A definition its agency holds no grant for: refused with the reason, nothing imported.
        ungranted = tmp_path / "ungranted"
        body, model = document("police-good-conduct", agency="police")
        body["decision"]["model"] = "police-good-conduct.decision.json"
        ungranted.mkdir()
        (ungranted / "police-good-conduct.yaml").write_text(yaml.safe_dump(body, allow_unicode=True), "utf-8")
        (ungranted / "police-good-conduct.decision.json").write_text(json.dumps(model), "utf-8")
        # The reason names the data service's title: printed as text, never read as Rich markup.
        exchange_selectors.get_service_by_code(
            seeded, "judiciary.criminal-record"
        ).title_en = "Record [/beta]"
        seeded.commit()
        result = runner.invoke(app, ["definitions", "import", str(ungranted)])
        assert result.exit_code == 1 and "judiciary.criminal-record (Record [/beta])" in result.output, (
            result.output
        )
    finally:
        get_settings.cache_clear()


def test_an_import_without_its_grants_is_refused_and_publishes_nothing(seeded: Session) -> None:
    # Police's own certificate of good conduct: it reads the civil registry and the judiciary, and holds
    # neither grant (its shipped definitions read only its own services).
    body, model = document("police-good-conduct", agency="police")
    reads = ["civil-registry.person", "judiciary.criminal-record"]
    with pytest.raises(GrantMissing) as caught:
        store.import_definitions(seeded, [(body, model)], by="test")
    assert caught.value.status == 403 and caught.value.extra["services"] == reads
    assert "judiciary.criminal-record" in str(caught.value.detail_en) and "ask judiciary" in str(
        caught.value.detail_en
    )
    assert "judiciary.criminal-record" in str(caught.value.detail_fa)
    assert not [
        r for r in selectors.definitions_of_agency(seeded, "police") if r.slug == "police-good-conduct"
    ]
    # Sandbox grants serve the sandbox: production publishing needs production's.
    for code in reads:
        create_grant(seeded, "police", code, ["delivery:police-good-conduct"], sandbox=True)
    with pytest.raises(GrantMissing):
        store.import_definitions(seeded, [(body, model)], by="test")
    for code in reads:
        create_grant(seeded, "police", code, ["delivery:police-good-conduct"])
    [record] = store.import_definitions(seeded, [(body, model)], by="test").published
    assert record.status == DefinitionStatus.PUBLISHED
    # The service had no card: the import made one, in the catalog and badged.
    card = catalog_selectors.get_service_by_slug(seeded, "police-good-conduct")
    assert (card.agency_code, card.title_fa, card.title_en) == (
        "police",
        body["title"]["fa"],
        body["title"]["en"],
    )
    assert (card.is_smart, card.offered_through_window, card.channels, card.cost_rials) == (
        True,
        True,
        ["web"],
        0,
    )


def test_a_draft_reads_anything_but_goes_to_review_only_with_its_grants(seeded: Session) -> None:
    body, model = document("police-good-conduct", agency="police")
    record = service.create_draft(seeded, agency_code="police", author=AUTHOR, document=body, model=model)
    assert [m.service for m in selectors.missing_grants(seeded, "police", record.body)] == [
        "civil-registry.person",
        "judiciary.criminal-record",
    ]
    with pytest.raises(GrantMissing, match="judiciary.criminal-record"):
        service.submit_for_review(seeded, record, by=AUTHOR)
    assert record.status == DefinitionStatus.DRAFT
    for code in ("civil-registry.person", "judiciary.criminal-record"):
        create_grant(seeded, "police", code, ["delivery:police-good-conduct"])
    assert selectors.missing_grants(seeded, "police", record.body) == []
    service.submit_for_review(seeded, record, by=AUTHOR)
    service.publish(seeded, record, by=REVIEWER)
    assert catalog_selectors.get_service_by_slug(seeded, "police-good-conduct").is_smart


def test_publishing_keeps_the_card_its_agency_wrote(seeded: Session) -> None:
    create_card(seeded, "judiciary", slug="good-conduct", title_fa="گواهی عدم سوءپیشینه", cost_rials=90_000)
    published(seeded)
    card = catalog_selectors.get_service_by_slug(seeded, "good-conduct")
    assert (card.title_fa, card.cost_rials, card.is_smart) == ("گواهی عدم سوءپیشینه", 90_000, True)


def test_the_demo_agreements_are_not_recorded_in_production(seeded: Session, settings: Settings) -> None:
    body, _ = document("police-good-conduct", agency="police")
    production = settings.model_copy(update={"env": "production"})
    assert loading.agree_demo_grants(seeded, [body], settings=production) == 0
    reads = ["civil-registry.person", "judiciary.criminal-record"]
    assert [m.service for m in selectors.missing_grants(seeded, "police", body)] == reads
    assert loading.agree_demo_grants(seeded, [body], settings=settings) == 2  # the demo's, elsewhere
    assert selectors.missing_grants(seeded, "police", body) == []


def test_definitions_load_in_production_records_no_agreement_and_says_what_is_missing(
    db: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from panjereh.cli import app
    from panjereh.core.config import get_settings
    from tests.support.factories import seed_exchange_data

    seed_exchange_data(db, settings)  # the directory, no definition and no agency's grant yet
    db.commit()
    for name, value in {
        "PANJEREH_ENV": "production", "PANJEREH_SECRET_KEY": "s" * 40, "PANJEREH_REGISTRY_TOKEN": "t" * 40,
        "PANJEREH_PUBLIC_URL": "https://my.example", "PANJEREH_HOME": str(settings.home),
        "PANJEREH_DATABASE_URL": db.get_bind().engine.url.render_as_string(hide_password=False),
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["definitions", "load"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "civil-registry.person" in result.output, result.output
    db.rollback()  # a fresh read: the command wrote through a connection of its own
    assert selectors.published_definitions(db) == []
    assert list(exchange_selectors.list_grants(db, include_standing=False)) == []
