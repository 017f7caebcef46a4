"""The agencies API: the hierarchy, connection status, problems for unknown codes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.usefixtures("agencies")


def test_list_agencies_ministries_first(client: TestClient) -> None:
    body = client.get("/api/v1/agencies").json()
    assert len(body) == 41
    assert body[0]["kind"] == "ministry" and body[0]["parent_code"] is None
    codes = [a["code"] for a in body]
    assert {"justice", "energy", "ict", "welfare", "agri-ivo"} <= set(codes)
    disconnected = client.get("/api/v1/agencies", params={"status": "disconnected"}).json()
    assert [a["code"] for a in disconnected] == ["welfare"]
    lost = client.get("/api/v1/agencies", params={"status": "standard_lost"}).json()
    assert {a["code"] for a in lost} == {"agri-ivo", "agri-ppo"}
    assert client.get("/api/v1/agencies", params={"status": "sleepy"}).status_code == 422


def test_agency_detail_with_hierarchy(client: TestClient) -> None:
    ivo = client.get("/api/v1/agencies/agri-ivo").json()
    assert ivo["parent_code"] == "agriculture" and [a["code"] for a in ivo["ancestors"]] == ["agriculture"]
    assert ivo["connection_status"] == "standard_lost" and ivo["name_fa"] == "سازمان دامپزشکی کشور"
    ministry = client.get("/api/v1/agencies/agriculture").json()
    assert {"agri-ivo", "agri-ppo", "agri-gtc"} <= {a["code"] for a in ministry["children"]}


def test_unknown_agency_is_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/agencies/atlantis")
    assert response.status_code == 404 and response.json()["code"] == "agencies.not_found"
