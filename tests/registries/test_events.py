"""The civil registry's life-events feed: derived from the population, gated by the clock."""

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from panjereh.core.jalali import age_on
from panjereh.registries.events import eighteenth_birthday
from panjereh.registries.population import get_population


def _feed(client: httpx.Client, **params) -> dict:
    response = client.get("/civil-registry/events", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_ids_grow_and_pages_chain(client: httpx.Client) -> None:
    first = _feed(client, limit=50)
    second = _feed(client, limit=50, after=first["last_id"])
    ids = [e["id"] for e in first["events"] + second["events"]]
    assert ids == sorted(ids) and len(set(ids)) == 100
    assert first["has_more"] and first["last_id"] == ids[49]


def test_nothing_after_the_clock(client: httpx.Client, at) -> None:
    page = _feed(client, since="2026-03-01", limit=1000)
    assert page["events"] and not page["has_more"]
    assert all(datetime.fromisoformat(e["occurred_at"]) <= at.now for e in page["events"])


def test_turned_18_appears_when_the_clock_passes_it(client: httpx.Client, at) -> None:
    population = get_population(1402, 20_000)
    teen = next(
        p for p in population.people[20:] if date(2026, 4, 1) < eighteenth_birthday(p.birth_date) and p.alive
    )
    day = eighteenth_birthday(teen.birth_date)
    assert age_on(teen.birth_date, day) == 18 and age_on(teen.birth_date, day - timedelta(days=1)) == 17
    params = {"since": day.isoformat(), "types": "turned_18", "limit": 1000}
    assert teen.national_code not in {e["national_code"] for e in _feed(client, **params)["events"]}
    at.now = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    codes = {e["national_code"] for e in _feed(client, **params)["events"]}
    assert teen.national_code in codes


def test_types_and_since_filter(client: httpx.Client) -> None:
    page = _feed(client, since="2024-01-15", types="death_registered", limit=5)
    assert page["events"][0]["national_code"] == "1583250689"
    assert page["events"][0]["occurred_on"] == "2024-01-15"
    assert {e["type"] for e in page["events"]} == {"death_registered"}


@pytest.mark.parametrize("params", [{"since": "yesterday"}, {"limit": 0}, {"limit": 5000}, {"after": "x"}])
def test_bad_parameters(client: httpx.Client, params: dict) -> None:
    response = client.get("/civil-registry/events", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


def test_injected_death_is_published_and_recorded(client: httpx.Client, admin: httpx.Client) -> None:
    population = get_population(1402, 20_000)
    subject = next(p for p in population.people[5000:] if p.alive)
    latest = _feed(client, since="2026-03-01", limit=1000)["events"][-1]["id"]
    response = admin.post(
        "/civil-registry/_admin/events",
        json={"type": "death_registered", "national_code": subject.national_code},
    )
    assert response.status_code == 201
    event = response.json()
    assert event["id"] > latest
    tail = _feed(client, after=latest)["events"]
    assert [e["id"] for e in tail] == [event["id"]]
    person = client.get(f"/civil-registry/persons/{subject.national_code}").json()
    assert person["alive"] is False and person["death_date"] == event["occurred_on"]
    second = admin.post(
        "/civil-registry/_admin/events",
        json={"type": "address_changed", "national_code": subject.national_code},
    ).json()
    assert second["id"] > event["id"]


def test_injection_needs_admin_and_valid_input(client: httpx.Client, admin: httpx.Client) -> None:
    body = {"type": "death_registered", "national_code": "0499370899"}
    assert client.post("/civil-registry/_admin/events", json=body).status_code == 401
    assert admin.post("/civil-registry/_admin/events", json={**body, "type": "wedding"}).status_code == 400
    assert (
        admin.post("/civil-registry/_admin/events", json={**body, "national_code": "123"}).status_code == 400
    )
    assert client.get("/civil-registry/persons/0499370899").json()["alive"] is True
