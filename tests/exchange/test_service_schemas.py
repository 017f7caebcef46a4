"""Data services carry their request and response schemas, read from the provider's OpenAPI document."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.publications import read_registries
from panjereh.exchange import selectors, service
from panjereh.registries.services import published_services


def test_publishing_stores_each_services_schemas_standing_alone(seeded: Session) -> None:
    person = selectors.get_service_by_code(seeded, "civil-registry.person")
    assert person.request_schema is None  # a GET: no body
    schema = person.response_schema
    assert schema is not None and schema["title"] == "PersonOut"
    assert {"national_code", "first_name", "birth_date", "alive", "address"} <= set(schema["properties"])
    assert "postal_code" in schema["properties"]["address"]["properties"]  # a nested $ref, resolved
    match = selectors.get_service_by_code(seeded, "civil-registry.identity-match")
    assert match.request_schema is not None
    assert set(match.request_schema["required"]) == {"national_code", "birth_date"}
    described = [s for s in selectors.list_services(seeded) if s.response_schema]
    assert len(described) == len(selectors.list_services(seeded))
    assert all("$ref" not in json.dumps(s.response_schema) for s in described)


def test_the_api_and_the_directory_show_the_schemas(seeded: Session, client: TestClient) -> None:
    out = client.get("/api/v1/exchange/services/civil-registry.person").json()
    assert "first_name" in out["response_schema"]["properties"] and out["request_schema"] is None
    page = client.get("/exchange/services?provider=nocr").text
    assert '<details class="schemas mt-1" data-service="civil-registry.person">' in page
    assert "&#34;first_name&#34;" in page or '"first_name"' in page


def test_a_system_down_at_publishing_is_described_later(seeded: Session, settings: Settings) -> None:
    service.publish_registries(
        seeded, settings.registries_url, read_registries(published_services()), fetch=lambda _: None
    )
    person = selectors.get_service_by_code(seeded, "civil-registry.person")
    assert person.response_schema is not None  # a failed fetch keeps what was known
    person.request_schema = person.response_schema = None
    seeded.flush()
    assert service.describe_missing(seeded, fetch=lambda _: None) == 0  # still down
    assert person.response_schema is None
    assert service.describe_missing(seeded) >= 1
    assert person.response_schema is not None and "first_name" in person.response_schema["properties"]


def test_reading_the_directory_never_calls_out(client, seeded: Session, monkeypatch) -> None:
    person = selectors.get_service_by_code(seeded, "civil-registry.person")
    person.request_schema = person.response_schema = None
    seeded.commit()

    def refuse(_url: str) -> None:
        raise AssertionError("a page view called an agency's system")

    monkeypatch.setattr(service, "fetch_openapi", refuse)
    assert client.get("/exchange/services").status_code == 200
    assert client.get("/api/v1/exchange/services").status_code == 200
    assert person.response_schema is None


def test_recursive_and_nested_refs_are_resolved() -> None:
    LEAF = {"$ref": "#/components/schemas/Leaf"}  # noqa: N806
    document = {
        "components": {
            "schemas": {
                "Node": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}}},
                "Box": {"type": "object", "properties": {"items": {"type": "array", "items": LEAF}}},
                "Leaf": {"type": "string"},
            }
        }
    }  # fmt: skip
    node = service.resolve_refs({"$ref": "#/components/schemas/Node"}, document)
    assert node["properties"]["child"]["description"].startswith("recursive")
    box = service.resolve_refs({"$ref": "#/components/schemas/Box", "description": "kept"}, document)
    assert box["properties"]["items"]["items"] == {"type": "string"} and box["description"] == "kept"
