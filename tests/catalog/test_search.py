"""Persian catalog search: folding (domain.md §5), ZWNJ, prefixes, a typo, ranking, filters, invalidation."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from panjereh.catalog import service
from panjereh.catalog.models import LifeEvent
from panjereh.catalog.schemas import ServiceCardIn
from panjereh.catalog.search import IndexHolder, SearchFilters
from tests.support.factories import create_card

pytestmark = pytest.mark.usefixtures("agencies")


def slugs(holder: IndexHolder, db: Session, query: str, **filters: object) -> list[str]:
    result = holder.get(db).search(query, SearchFilters(**filters), limit=50)  # type: ignore[arg-type]
    return [hit.slug for hit in result.hits]


@pytest.fixture
def holder() -> IndexHolder:
    return IndexHolder()


@pytest.mark.parametrize(
    ("title", "query"),
    [
        ("صدور کارت ملی هوشمند", "كارت ملي"),  # Arabic Kaf and Yeh in the query
        ("صدور كارت ملي هوشمند", "کارت ملی"),  # ... or in the card
        ("ثبت نام مُحَمَّد در دفتر", "محمد"),  # diacritics
        ("ثبت نام محمد در دفتر", "مُحَمَّد"),
        ("تمدید پاسـپـورت", "پاسپورت"),  # tatweel
        ("تمدید پاسپورت", "پاسـپـورت"),
        ("گزارش سال ١٤٠٢", "۱۴۰۲"),  # Arabic-Indic and Persian digits
        ("گزارش سال ۱۴۰۲", "1402"),
        ("گزارش سال 1402", "١٤٠٢"),
        ("صدور گواهی‌نامهٔ رانندگی", "گواهینامه"),  # ZWNJ written, joined typed
        ("صدور گواهی‌نامهٔ رانندگی", "گواهی نامه"),  # ZWNJ written, space typed
        ("صدور گواهی‌نامهٔ رانندگی", "گواهی‌نامه"),
        ("صدور گواهینامهٔ رانندگی", "گواهی نامه"),  # joined written, space typed
        ("صدور گواهینامهٔ رانندگی", "گواهی‌نامه"),
        ("پرداخت زکات مؤسسه", "موسسه"),  # hamza on waw
        ("ثبت مؤسسهٔ خيريه", "موسسه خیریه"),
        ("تأیید مدرک", "تایید مدرک"),
    ],
)
def test_every_folding_pair_matches(db: Session, holder: IndexHolder, title: str, query: str) -> None:
    card = create_card(db, title_fa=title)
    create_card(db, title_fa="خدمت بی‌ربط دیگر")
    assert slugs(holder, db, query) == [card.slug]


def test_prefix_while_typing_and_one_typo_in_longer_words(db: Session, holder: IndexHolder) -> None:
    card = create_card(db, title_fa="درخواست انشعاب برق")
    other = create_card(db, title_fa="درخواست انشعاب گاز")
    assert set(slugs(holder, db, "انشع")) == {card.slug, other.slug}
    assert slugs(holder, db, "انشعاب بر") == [card.slug]  # the last word is still being typed
    assert slugs(holder, db, "انشعاب بر ") == []  # a finished word is a word, not a prefix
    assert set(slugs(holder, db, "انشغاب")) == {card.slug, other.slug}  # one typo (ع → غ)
    assert slugs(holder, db, "برف") == []  # a short word gets no typo allowance
    assert slugs(holder, db, "انشغاپپ") == []  # two typos are too many


def test_ranking_title_over_keywords_over_description(db: Session, holder: IndexHolder) -> None:
    in_description = create_card(
        db, title_fa="خدمت اول", description_fa="دربارهٔ مهریه و نفقه", yearly_requests=900
    )
    in_keywords = create_card(db, title_fa="خدمت دوم", keywords=["مهریه"], yearly_requests=500)
    in_title = create_card(db, title_fa="اجرای مهریه", yearly_requests=1)
    assert slugs(holder, db, "مهریه") == [in_title.slug, in_keywords.slug, in_description.slug]


def test_english_titles_are_searchable(db: Session, holder: IndexHolder) -> None:
    card = create_card(db, title_fa="صدور گذرنامه", title_en="Passport issue")
    assert slugs(holder, db, "PASSPORT") == [card.slug]
    assert slugs(holder, db, "pass") == [card.slug]


def test_filters(db: Session, holder: IndexHolder) -> None:
    smart = create_card(
        db, "ict", title_fa="گواهی هوشمند", maturity_level=5, channels=["web", "app"], life_event="documents"
    )
    online = create_card(db, "ict", title_fa="گواهی برخط", maturity_level=3, channels=["web"])
    offline = create_card(db, "agri-ivo", title_fa="گواهی حضوری", maturity_level=1, channels=["in_person"])
    declared = create_card(db, "ict", title_fa="گواهی اعلامی", maturity_level=5)  # declared, not derived
    service.record_derived_maturity(db, smart.slug, 5, source="delivery", flags=[])
    assert set(slugs(holder, db, "گواهی")) == {smart.slug, online.slug, offline.slug, declared.slug}
    assert declared.slug not in slugs(holder, db, "گواهی", smart_only=True)
    assert set(slugs(holder, db, "گواهی", online_only=True)) == {smart.slug, online.slug, declared.slug}
    assert slugs(holder, db, "گواهی", smart_only=True) == [smart.slug]
    assert slugs(holder, db, "گواهی", channel="in_person") == [offline.slug]
    assert slugs(holder, db, "گواهی", life_event="documents") == [smart.slug]
    # A ministry's filter takes in its subsidiaries.
    assert slugs(holder, db, "", agency="agriculture") == [offline.slug]
    assert set(slugs(holder, db, "", agency="ict")) == {smart.slug, online.slug, declared.slug}
    assert slugs(holder, db, "گواهی", agency="no-such-agency") == []


def test_empty_and_junk_queries(db: Session, holder: IndexHolder) -> None:
    busy = create_card(db, title_fa="خدمت پرمراجعه", yearly_requests=1000)
    quiet = create_card(db, title_fa="خدمت کم‌مراجعه", yearly_requests=1)
    assert slugs(holder, db, "") == [busy.slug, quiet.slug]
    assert slugs(holder, db, "   ") == [busy.slug, quiet.slug]
    for junk in ("؟؟؟", "\u200c\u200c", "ـــ", "\u064b\u064c", "'; DROP TABLE service_card; --", "🙂" * 50):
        assert slugs(holder, db, junk) in ([], [busy.slug, quiet.slug])
    assert slugs(holder, db, "x" * 5000) == []


def test_pagination_of_results(db: Session, holder: IndexHolder) -> None:
    for number in range(7):
        create_card(db, title_fa=f"گواهی شمارهٔ {number}", yearly_requests=number)
    index = holder.get(db)
    first = index.search("گواهی", offset=0, limit=3)
    last = index.search("گواهی", offset=6, limit=3)
    beyond = index.search("گواهی", offset=30, limit=3)
    assert first.total == last.total == beyond.total == 7
    assert len(first.hits) == 3 and len(last.hits) == 1 and beyond.hits == []


def test_index_is_rebuilt_when_a_card_changes(db: Session, holder: IndexHolder, agencies) -> None:
    card = create_card(db, title_fa="صدور پروانهٔ شکار")
    assert slugs(holder, db, "شکار") == [card.slug]
    builds = holder.builds
    holder.get(db)
    assert holder.builds == builds  # nothing changed: the same index
    data = ServiceCardIn(
        service_id=card.service_id, slug=card.slug, title_fa="صدور پروانهٔ صید", life_event=LifeEvent.OTHER
    )
    service.upsert_card(db, data, agency=agencies["justice"], actor="officer-1")
    assert slugs(holder, db, "شکار") == []
    assert slugs(holder, db, "صید") == [card.slug]
    assert holder.builds == builds + 1


@pytest.mark.demo_catalog
def test_demo_inventory_finds_the_flagships_however_typed(db: Session, holder: IndexHolder) -> None:
    assert slugs(holder, db, "گواهی عدم سوء پیشینه")[0] == "no-criminal-record"
    assert slugs(holder, db, "سو پیشینه")[0] == "no-criminal-record"
    assert slugs(holder, db, "سيم كارت")[0] == "my-sim-cards"
    assert "tax-clearance" in slugs(holder, db, "مفاصا حساب")[:3]
    assert slugs(holder, db, "criminal record")[0] == "no-criminal-record"
