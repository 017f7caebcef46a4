"""Every registry over real HTTP: happy paths per persona, auth, unknown people, bad identifiers."""

import random

import httpx
import pytest

from panjereh.core.identifiers import make_national_code
from panjereh.registries.population import get_population
from panjereh.registries.services import load_services

PERSON_PATHS = [
    f"{r.prefix}{s.path}"
    for r in load_services()
    for s in r.services
    if s.method == "GET" and "{national_code}" in s.path
]


def _unknown_code() -> str:
    population, rng = get_population(1402, 20_000), random.Random(5)
    while (code := make_national_code(rng)) in population.by_code:
        pass
    return code


def _is_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "code", "detail"} <= body.keys()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code
    return body


def test_civil_registry_person(client: httpx.Client) -> None:
    body = client.get("/civil-registry/persons/0499370899").json()
    assert body["first_name"] == "علی" and body["last_name"] == "رضایی" and body["father_name"] == "محمد"
    assert body["gender"] == "male" and body["birth_date"] == "1985-06-12"
    assert body["alive"] is True and body["death_date"] is None
    assert body["address"]["postal_code"] == "1193653471"
    assert body["address"]["text"].startswith("استان تهران")


def test_civil_registry_deceased(client: httpx.Client) -> None:
    body = client.get("/civil-registry/persons/1583250689").json()
    assert body["alive"] is False and body["death_date"] == "2024-01-15"


def test_persian_digit_codes_are_accepted(client: httpx.Client) -> None:
    assert client.get("/civil-registry/persons/۰۴۹۹۳۷۰۸۹۹").json()["national_code"] == "0499370899"


@pytest.mark.parametrize(("birth_date", "matched"), [("1985-06-12", True), ("1985-06-13", False)])
def test_identity_match(client: httpx.Client, birth_date: str, matched: bool) -> None:
    body = client.post(
        "/civil-registry/identity-match", json={"national_code": "0499370899", "birth_date": birth_date}
    ).json()
    assert body["matched"] is matched


@pytest.mark.parametrize(
    ("national_code", "mobile", "matched"),
    [
        ("0499370899", "09121234567", True),
        ("0499370899", "+98 935 123 4567", True),  # the demo citizen's second SIM
        ("0499370899", "09121234568", False),  # his daughter's SIM
        ("1583250689", "09131234569", True),  # the deceased keeps his registration
    ],
)
def test_shahkar_match(client: httpx.Client, national_code: str, mobile: str, matched: bool) -> None:
    body = client.post("/shahkar/match", json={"national_code": national_code, "mobile": mobile}).json()
    assert body == {"matched": matched}


def test_shahkar_unknown_code_does_not_match(client: httpx.Client) -> None:
    body = client.post(
        "/shahkar/match", json={"national_code": _unknown_code(), "mobile": "09121234567"}
    ).json()
    assert body == {"matched": False}


def test_shahkar_rejects_bad_mobile(client: httpx.Client) -> None:
    response = client.post("/shahkar/match", json={"national_code": "0499370899", "mobile": "0812345678"})
    _is_problem(response, 400, "invalid_mobile.pattern")


def test_shahkar_sims(client: httpx.Client) -> None:
    body = client.get("/shahkar/sims/0499370899").json()
    assert [s["mobile"] for s in body["sims"]] == ["09121234567", "09351234567"]


def test_post_address(client: httpx.Client) -> None:
    body = client.get("/post/postal-codes/11936-53471").json()
    assert body["formatted_postal_code"] == "11936-53471" and body["city"] == "تهران" and body["plaque"] == 12


def test_post_errors(client: httpx.Client) -> None:
    _is_problem(client.get("/post/postal-codes/0423437584"), 400, "invalid_postal_code.implausible")
    _is_problem(client.get("/post/postal-codes/1193653472"), 404, "postal_code_not_found")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/tax/clearance/0084575948", {"cleared": False, "debt_rials": 125_000_000}),
        ("/tax/clearance/0499370899", {"cleared": True, "debt_rials": 0}),
        ("/judiciary/criminal-records/0684159414", {"has_criminal_record": True}),
        ("/judiciary/criminal-records/0499370899", {"has_criminal_record": False, "records": []}),
        ("/police/driving-licences/0067749828", {"has_licence": True}),
        ("/police/driving-licences/0790419904", {"has_licence": False, "valid": False, "licence": None}),
        ("/health-insurance/coverage/0499370899", {"covered": True, "active": True, "insurer_code": "ihio"}),
        ("/health-insurance/coverage/0068415941", {"covered": True, "active": False}),
        ("/education/enrollments/0076229645", {"enrolled": True}),
        ("/education/enrollments/0790419904", {"enrolled": True}),
        ("/education/enrollments/0499370899", {"enrolled": False, "enrollment": None}),
        ("/education/degrees/0499370899", {"highest": "کارشناسی"}),
        ("/welfare/disability-records/7400076205", {"has_disability_record": True}),
        ("/welfare/disability-records/0499370899", {"has_disability_record": False}),
        ("/deeds/properties/0499370899", {"properties": []}),
        (
            "/social-security/insurance-records/2540201288",
            {"insured": True, "status": "retired", "months": 360},
        ),
        ("/social-security/insurance-records/0790419904", {"insured": False, "status": "none", "months": 0}),
    ],
)
def test_inquiry_registries(client: httpx.Client, path: str, expected: dict) -> None:
    response = client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["national_code"] == path.rsplit("/", 1)[1]
    assert expected.items() <= body.items()


def test_vehicle_owner(client: httpx.Client) -> None:
    vehicles = client.get("/police/vehicles/0067749828").json()["vehicles"]
    assert len(vehicles) == 1 and vehicles[0]["model"] == "پژو ۲۰۶" and vehicles[0]["plate"]["region"] == "68"


def test_property_owner(client: httpx.Client) -> None:
    properties = client.get("/deeds/properties/4032152314").json()["properties"]
    assert [p["kind"] for p in properties] == ["آپارتمان", "زمین"]


def test_licence_validity_follows_the_clock(client: httpx.Client, at) -> None:
    # The vehicle owner's licence expires on 2026-10-11.
    assert client.get("/police/driving-licences/0067749828").json()["valid"] is True
    at.now = at.now.replace(year=2027)
    assert client.get("/police/driving-licences/0067749828").json()["valid"] is False


@pytest.mark.parametrize("path", PERSON_PATHS)
def test_every_person_route_enforces_the_contract(
    client: httpx.Client, anonymous: httpx.Client, path: str
) -> None:
    good = path.replace("{national_code}", "0499370899")
    assert client.get(good).status_code == 200
    response = anonymous.get(good)
    _is_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    _is_problem(anonymous.get(good, headers={"Authorization": "Bearer wrong"}), 401)
    _is_problem(anonymous.get(good, headers={"Authorization": "Basic dGVzdA=="}), 401)
    _is_problem(client.get(path.replace("{national_code}", _unknown_code())), 404, "person_not_found")
    _is_problem(
        client.get(path.replace("{national_code}", "1234567890")), 400, "invalid_national_code.checksum"
    )
    _is_problem(client.get(path.replace("{national_code}", "12ab")), 400, "invalid_national_code.not_digits")


@pytest.mark.parametrize("path", ["/shahkar/match", "/civil-registry/identity-match"])
def test_post_routes_need_a_token_and_a_valid_code(
    client: httpx.Client, anonymous: httpx.Client, path: str
) -> None:
    body = {"national_code": "1234567890", "mobile": "09121234567", "birth_date": "1985-06-12"}
    _is_problem(anonymous.post(path, json=body), 401)
    _is_problem(client.post(path, json=body), 400, "invalid_national_code.checksum")
    _is_problem(client.post(path, json={"mobile": "09121234567"}), 400, "invalid_request")


@pytest.mark.parametrize("registry", load_services(), ids=lambda r: r.code)
def test_health_and_openapi_are_public(anonymous: httpx.Client, registry) -> None:
    # The agencies' own files share one app (and its health check) under /agency-files.
    shared = "agency-files" if registry.prefix == "/agency-files" else registry.code
    assert anonymous.get(f"{registry.prefix}/healthz").json() == {"status": "ok", "registry": shared}
    document = anonymous.get(f"{registry.prefix}/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for service in registry.services:
        assert service.method.lower() in document["paths"][service.path], service.code
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_unknown_route_is_a_problem(client: httpx.Client) -> None:
    _is_problem(client.get("/tax/nowhere"), 404, "not_found")


def test_root_index_lists_every_registry(anonymous: httpx.Client) -> None:
    codes = [r["code"] for r in anonymous.get("/").json()["registries"]]
    assert codes == [r.code for r in load_services()]
    assert anonymous.get("/healthz").json()["status"] == "ok"
