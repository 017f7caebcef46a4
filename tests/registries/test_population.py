"""The synthetic population: deterministic, valid identifiers, realistic shares, personas first."""

from datetime import timedelta

import pytest

from panjereh.core.identifiers import is_plausible_postal_code, is_valid_mobile, is_valid_national_code
from panjereh.core.jalali import age_on
from panjereh.registries import facts
from panjereh.registries.personas import PERSONAS, PERSONAS_BY_KEY
from panjereh.registries.population import AS_OF, generate_population, get_population


@pytest.fixture(scope="module")
def population():
    return get_population(1402, 20_000)


def _signature(pop):
    return [
        (p.national_code, p.first_name, p.last_name, p.birth_date, p.mobile, p.address) for p in pop.people
    ]


def test_same_seed_same_population(population) -> None:
    assert _signature(generate_population(1402, 20_000)) == _signature(population)


def test_other_seed_other_population(population) -> None:
    other = generate_population(7, 2_000)
    assert _signature(other)[: len(PERSONAS)] == _signature(population)[: len(PERSONAS)]
    assert _signature(other)[len(PERSONAS) :] != _signature(population)[len(PERSONAS) : 2_000]


def test_cached_per_seed_and_size(population) -> None:
    assert get_population(1402, 20_000) is population
    assert len(get_population(1402, 500)) == 500


def test_identifiers_are_valid_and_unique(population) -> None:
    codes = [p.national_code for p in population.people]
    assert len(population) == 20_000 == len(set(codes))
    assert all(is_valid_national_code(c) for c in codes)
    sims = [s for p in population.people for s in p.sims]
    assert len(sims) == len(set(sims))
    assert all(is_valid_mobile(s) and s.startswith("09") and len(s) == 11 for s in sims)
    assert all(is_plausible_postal_code(p.address.postal_code) for p in population.people)


def test_shares_are_realistic(population) -> None:
    minors = sum(age_on(p.birth_date, AS_OF) < 18 for p in population.people) / len(population)
    dead = sum(not p.alive for p in population.people) / len(population)
    women = sum(p.gender == "female" for p in population.people) / len(population)
    assert 0.17 < minors < 0.23
    assert 0.01 < dead < 0.03
    assert 0.45 < women < 0.55


def test_dates_are_coherent(population) -> None:
    for p in population.people:
        assert p.birth_date <= AS_OF
        if p.death_date:
            assert p.birth_date + timedelta(days=18 * 365) < p.death_date <= AS_OF
        if p.address_changed_on:
            assert p.birth_date < p.address_changed_on <= AS_OF


def test_lookups_by_code_and_any_sim(population) -> None:
    person = population.people[1234]
    assert population.person(person.national_code) is person
    for sim in person.sims:
        assert population.owner_of(sim) is person
    assert population.person("0123456789") is None


def test_personas_come_first(population) -> None:
    assert [p.persona for p in population.people[: len(PERSONAS)]] == [p.key for p in PERSONAS]
    assert all(p.persona is None for p in population.people[len(PERSONAS) :])


def test_persona_identifiers_are_valid() -> None:
    for persona in PERSONAS:
        assert is_valid_national_code(persona.national_code), persona.key
        assert is_valid_mobile(persona.mobile), persona.key
        assert is_plausible_postal_code(persona.address.postal_code), persona.key


@pytest.mark.parametrize(
    ("key", "adult", "alive"),
    [("demo", True, True), ("minor", False, True), ("deceased", True, False), ("student", True, True)],
)
def test_persona_ages_hold_for_years(population, key: str, adult: bool, alive: bool) -> None:
    person = population.person(PERSONAS_BY_KEY[key].national_code)
    assert person.alive is alive
    for years in (0, 3):
        on = AS_OF + timedelta(days=365 * years)
        assert (age_on(person.birth_date, on) >= 18) is adult


def test_demo_persona_matches_the_brief(population) -> None:
    demo = population.person("0499370899")
    assert demo.mobile == "09121234567"
    assert population.owner_of("09121234567") is demo
    assert facts.criminal_records(demo, 1402) == []
    assert facts.tax(demo, 1402)["debt_rials"] == 0


def test_facts_are_deterministic_and_plausible(population) -> None:
    kinds = [
        facts.tax,
        facts.vehicles,
        facts.driving_licence,
        facts.criminal_records,
        facts.health_insurance,
        facts.education_enrollment,
        facts.education_degrees,
        facts.disability,
        facts.properties,
        facts.social_security,
    ]
    sample = population.people[len(PERSONAS) : len(PERSONAS) + 3000]
    for p in sample:
        for kind in kinds:
            assert kind(p, 1402) == kind(p, 1402)
        if age_on(p.birth_date, AS_OF) < 18:
            assert facts.vehicles(p, 1402) == [] and facts.properties(p, 1402) == []
            assert facts.driving_licence(p, 1402) is None and facts.social_security(p, 1402) is None
        if facts.vehicles(p, 1402):
            assert facts.driving_licence(p, 1402) is not None
    owners = sum(bool(facts.vehicles(p, 1402)) for p in sample) / len(sample)
    debtors = sum(facts.tax(p, 1402)["debt_rials"] > 0 for p in sample) / len(sample)
    assert 0.2 < owners < 0.45
    assert 0.03 < debtors < 0.12
    assert any(facts.tax(p, 1402) != facts.tax(p, 99) for p in sample)
