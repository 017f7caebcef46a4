"""The catalog API: search with filters and pagination, cards, versions, OpenAPI, problems."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from panjereh.catalog.seed import load_flagship

pytestmark = pytest.mark.usefixtures("flagship")
# What the expected figures are made of: the flagship file itself, never a count copied from it.
FLAGSHIP = load_flagship()


@pytest.mark.usefixtures("smart_flagship")
def test_search_with_persian_variants_and_filters(client: TestClient) -> None:
    body = client.get("/api/v1/services", params={"q": "گواهي عدم سوء پيشينه"}).json()
    assert (
        body["items"][0]["slug"] == "no-criminal-record" and body["items"][0]["service_id"] == "11030100001"
    )
    assert body["items"][0]["agency"]["code"] == "judiciary" and body["items"][0]["smart"] is True
    smart = client.get("/api/v1/services", params={"smart": "true", "per_page": 100}).json()
    declared_smart = sum(record["maturity_level"] == 5 for record in FLAGSHIP)
    assert smart["total"] == declared_smart and all(item["maturity_level"] == 5 for item in smart["items"])
    business = client.get("/api/v1/services", params={"online": "true", "life_event": "business"}).json()
    assert (
        {item["slug"] for item in business["items"]}
        == {r["slug"] for r in FLAGSHIP if r["life_event"] == "business" and r["maturity_level"] >= 3}
        >= {"business-licence", "company-good-standing"}
    )
    assert client.get("/api/v1/services", params={"agency": "agriculture"}).json()["total"] == 1
    assert client.get("/api/v1/services", params={"channel": "sms"}).json()["total"] == 3


def test_pagination_bounds(client: TestClient) -> None:
    total = len(FLAGSHIP)
    pages = math.ceil(total / 5)
    page = client.get("/api/v1/services", params={"per_page": 5, "page": pages}).json()
    assert (page["total"], page["pages"], len(page["items"])) == (total, pages, total - 5 * (pages - 1))
    assert client.get("/api/v1/services", params={"per_page": 5, "page": pages + 1}).json()["items"] == []
    for params in ({"page": 0}, {"per_page": 0}, {"per_page": 101}, {"page": "x"}, {"life_event": "wedding"}):
        response = client.get("/api/v1/services", params=params)
        assert response.status_code == 422 and response.headers["content-type"].startswith(
            "application/problem+json"
        )
    assert client.get("/api/v1/services", params={"q": "ا" * 201}).status_code == 422


def test_service_card_by_id_slug_and_persian_digits(client: TestClient) -> None:
    card = client.get("/api/v1/services/11030100001").json()
    assert card["slug"] == "no-criminal-record" and card["legal_basis"] and card["required_documents"]
    assert card["version"] == 1 and card["executable"] is False and card["derived_maturity_level"] is None
    assert client.get("/api/v1/services/۱۱۰۳۰۱۰۰۰۰۱").json()["slug"] == "no-criminal-record"
    assert client.get("/api/v1/services/no-criminal-record").json()["service_id"] == "11030100001"
    versions = client.get("/api/v1/services/11030100001/versions").json()
    assert versions == [
        {"version": 1, "changed_at": versions[0]["changed_at"], "changed_by": "seed", "note": "created"}
    ]


def test_unknown_service_is_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/services/99999999999")
    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == "catalog.service_not_found" and problem["title_fa"]


def test_openapi_describes_the_catalog_and_agencies(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/services",
        "/api/v1/services/{service_id}",
        "/api/v1/agencies",
        "/api/v1/agencies/{code}",
    ):
        assert path in document["paths"]
    schemas = document["components"]["schemas"]
    assert {"ServicePage", "ServiceCardOut", "AgencyOut", "AgencyDetailOut"} <= set(schemas)
    ok = document["paths"]["/api/v1/services"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["$ref"].endswith("/ServicePage")
