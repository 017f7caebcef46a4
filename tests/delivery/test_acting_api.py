"""The acting-for-others API (/api/v1/acting): the same rules as the portal's switch and delegation pages,
checked live against the real registries over HTTP (docs/protocols/representation.md § API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from panjereh.delivery.models import ServiceRequest
from panjereh.representation.models import Delegation, RepresentationAct
from tests.delivery.conftest import CONVICTED, DEMO, TAX_DEBTOR
from tests.delivery.test_acting import COMPANY, MINOR, UNINSURED, _apply, _apply_page

API = "/api/v1/acting"
PROBLEM = "application/problem+json"


def _problem(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    body = answer.json()
    assert body["code"] == code and body["title"] and body["title_fa"], body
    return body


def _refused(answer, reason: str) -> None:
    body = _problem(answer, 403, "representation.not_allowed")
    assert body["reason"] == reason, body


def _by_token(listing: dict) -> dict[str, dict]:
    return {s["on_behalf_of"]: s for s in listing["subjects"]}


def test_the_subjects_are_read_live_with_their_grounds(login) -> None:
    listing = login(DEMO).get(f"{API}/subjects")
    assert listing.status_code == 200, listing.text
    subjects = _by_token(listing.json())
    assert listing.json()["current"] == "self" and listing.json()["unavailable"] == []
    assert subjects["self"]["code"] == DEMO and subjects["self"]["relation"] == "self"
    child = subjects[f"person:{MINOR}"]
    assert (child["relation"], child["basis_fa"], child["live"]) == ("parent", "ولی: پدر", True)
    assert child["name"] == "زهرا رضایی" and child["services"] is None
    company = subjects[f"company:{COMPANY}"]
    assert (company["relation"], company["kind"], company["live"]) == ("company", "company", True)
    # A former chair is listed with why his right ended; a board member who may not sign, with his.
    former = _by_token(login(TAX_DEBTOR).get(f"{API}/subjects").json())[f"company:{COMPANY}"]
    assert (former["live"], former["reason_en"]) == (False, "the term has ended") and former["reason_fa"]
    member = _by_token(login(UNINSURED).get(f"{API}/subjects").json())[f"company:{COMPANY}"]
    assert (member["live"], member["reason_en"]) == (False, "no right to sign")


def test_switching_checks_the_right_and_shares_the_portals_choice(login) -> None:
    parent = login(DEMO)
    assert parent.get(API).json() == {
        "on_behalf_of": "self",
        "live": True,
        "reason_fa": None,
        "reason_en": None,
        "grounds": [],
    }
    switched = parent.put(API, json={"on_behalf_of": f"person:{MINOR}"})
    assert switched.status_code == 200, switched.text
    assert switched.json()["live"] is True
    assert [g["relation"] for g in switched.json()["grounds"]] == ["parent"]
    assert parent.cookies.get("acting") == f"person:{MINOR}"
    assert parent.get(API).json()["on_behalf_of"] == f"person:{MINOR}"
    assert parent.get(f"{API}/subjects").json()["current"] == f"person:{MINOR}"
    # The portal's apply form preselects the subject chosen through the API (one switch, one cookie).
    assert f'value="person:{MINOR}" selected' in _apply_page(parent).text
    to_company = parent.put(API, json={"on_behalf_of": f"company:{COMPANY}"})
    assert to_company.json()["grounds"][0]["name"] == "شرکت نمونه فناوری آریا"
    back = parent.delete(API)
    assert back.status_code == 200 and back.json()["on_behalf_of"] == "self"
    assert parent.cookies.get("acting") is None
    assert parent.put(API, json={"on_behalf_of": "self"}).json()["on_behalf_of"] == "self"


@pytest.mark.parametrize(
    ("actor", "subject", "reason"),
    [
        (CONVICTED, f"person:{MINOR}", "no recorded link"),  # another person's child
        (TAX_DEBTOR, f"company:{COMPANY}", "the term has ended"),  # no longer a signatory
        (UNINSURED, f"company:{COMPANY}", "no right to sign"),
        ("4032152314", "company:97006806007", "the company is not active"),  # dissolved since
        (DEMO, "company:10380284790", "no recorded link"),  # another's company
        (DEMO, f"person:{TAX_DEBTOR}", "no recorded link"),  # an adult without a delegation
    ],
)
def test_a_switch_without_a_live_right_is_refused_and_kept(
    login, seeded: Session, actor: str, subject: str, reason: str
) -> None:
    client = login(actor)
    _refused(client.put(API, json={"on_behalf_of": subject}), reason)
    assert client.cookies.get("acting") is None  # the choice is left as it was
    seeded.rollback()
    kept = seeded.scalars(select(RepresentationAct).where(RepresentationAct.actor_code == actor)).all()
    assert [(k.action, f"{k.subject_kind}:{k.subject_code}") for k in kept] == [("refused", subject)]
    assert kept[0].detail["reason"] == f"switch: {reason}"


def test_acting_for_oneself_by_code_is_refused(login) -> None:
    _problem(login(DEMO).put(API, json={"on_behalf_of": f"person:{DEMO}"}), 403, "representation.not_allowed")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"on_behalf_of": "person:0790419905"}, "representation.invalid_subject"),  # bad check digit
        ({"on_behalf_of": "company:10380284792"}, "representation.invalid_subject"),
        ({"on_behalf_of": "nobody:0790419904"}, "representation.invalid_subject"),
        ({"on_behalf_of": "person:"}, "representation.invalid_subject"),
        ({"on_behalf_of": "person:۰۷۹۰۴۱۹۹۰۵"}, "representation.invalid_subject"),  # Persian digits, bad
        ({"on_behalf_of": "x" * 41}, "client.validation"),
        ({"on_behalf_of": 790419904}, "client.validation"),
        ({"on_behalf_of": None}, "client.validation"),
        ({}, "client.validation"),
        ([f"person:{MINOR}"], "client.validation"),
    ],
)
def test_a_malformed_switch_is_a_client_problem(login, body, code: str) -> None:
    answer = login(DEMO).put(API, json=body)
    problem = _problem(answer, 422, code)
    assert problem["instance"].startswith("urn:panjereh:request:")


def test_persian_digits_name_the_same_subject(login) -> None:
    persian = "person:" + MINOR.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    switched = login(DEMO).put(API, json={"on_behalf_of": persian})
    assert switched.status_code == 200 and switched.json()["on_behalf_of"] == f"person:{MINOR}"


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe{",
        b'{"on_behalf_of": NaN}',
        b"[" * 5000 + b"]" * 5000,
        b'{"on_behalf_of": "' + b"9" * 300_000 + b'"}',
    ],
)
def test_undecodable_deep_or_huge_bodies_are_refused(login, raw: bytes) -> None:
    answer = login(DEMO).put(API, content=raw, headers={"content-type": "application/json"})
    assert 400 <= answer.status_code < 500 and answer.headers["content-type"].startswith(PROBLEM)


def test_state_changes_from_another_site_are_refused(login) -> None:
    parent = login(DEMO)
    body = {"on_behalf_of": f"person:{MINOR}"}
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        answer = parent.put(API, json=body, headers=headers)
        assert answer.status_code == 403 and answer.json()["code"] == "client.cross_site"
        assert parent.delete(API, headers=headers).status_code == 403
        grant = {"delegate": DEMO, "services": ["tax-clearance"], "days": 5}
        assert parent.post(f"{API}/delegations", json=grant, headers=headers).status_code == 403
    assert parent.cookies.get("acting") is None
    assert parent.put(API, json=body, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_signed_out_callers_get_401(client) -> None:
    for method, path in (
        ("GET", f"{API}/subjects"),
        ("GET", API),
        ("PUT", API),
        ("GET", f"{API}/delegations"),
    ):
        answer = client.request(method, path, json={"on_behalf_of": "self"})
        _problem(answer, 401, "identity.login_required")


def test_a_cookie_naming_someone_no_longer_represented_reads_as_not_live(login) -> None:
    client = login(TAX_DEBTOR)
    client.cookies.set("acting", f"company:{COMPANY}")
    current = client.get(API).json()
    assert (current["live"], current["reason_en"]) == (False, "the term has ended") and current["reason_fa"]
    client.cookies.set("acting", "garbage:<script>")
    assert client.get(API).json()["on_behalf_of"] == "self"


def test_registry_down_the_list_says_so_and_a_switch_is_503(login, faults) -> None:
    parent = login(DEMO)
    faults("civil-registry", down=True)
    listing = parent.get(f"{API}/subjects")
    assert listing.status_code == 200 and listing.json()["unavailable"] == ["family"]
    assert f"company:{COMPANY}" in _by_token(listing.json())  # the companies registry still answers
    _problem(
        parent.put(API, json={"on_behalf_of": f"person:{MINOR}"}), 503, "representation.registry_unavailable"
    )
    assert parent.cookies.get("acting") is None


# --- delegations ------------------------------------------------------------------------------------------


def _grant(client, **changes):
    body = {"delegate": DEMO, "services": ["tax-clearance"], "days": 30, **changes}
    return client.post(f"{API}/delegations", json=body)


def test_a_delegation_through_the_api_grant_accept_act_and_revoke(login, seeded: Session) -> None:
    grantor, delegate = login(TAX_DEBTOR), login(DEMO)
    made = _grant(grantor)
    assert made.status_code == 201, made.text
    delegation = made.json()
    assert (delegation["status"], delegation["in_force"]) == ("pending", False)
    assert delegation["reason_en"] == "the delegation is not yet accepted"
    assert delegation["services"] == [
        {
            "slug": "tax-clearance",
            "title_fa": "مفاصاحساب مالیاتی",
            "title_en": "Tax clearance certificate",
        }
    ]
    held = delegate.get(f"{API}/delegations").json()["held"]
    assert [d["id"] for d in held] == [delegation["id"]]
    pending = _by_token(delegate.get(f"{API}/subjects").json())[f"person:{TAX_DEBTOR}"]
    assert (pending["live"], pending["relation"]) == (False, "delegate")
    _refused(
        delegate.put(API, json={"on_behalf_of": f"person:{TAX_DEBTOR}"}), "the delegation is not yet accepted"
    )
    # Only the delegate accepts; to anyone else the delegation is unknown.
    _problem(
        grantor.post(f"{API}/delegations/{delegation['id']}/accept"),
        404,
        "representation.delegation_not_found",
    )
    _problem(
        login(CONVICTED).delete(f"{API}/delegations/{delegation['id']}"),
        404,
        "representation.delegation_not_found",
    )
    accepted = delegate.post(f"{API}/delegations/{delegation['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["in_force"] is True
    switched = delegate.put(API, json={"on_behalf_of": f"person:{TAX_DEBTOR}"})
    assert switched.status_code == 200, switched.text
    ground = switched.json()["grounds"][0]
    assert (ground["relation"], ground["delegation_id"]) == ("delegate", delegation["id"])
    assert [s["slug"] for s in ground["services"]] == ["tax-clearance"]
    assert _apply(delegate, f"person:{TAX_DEBTOR}", slug="tax-clearance").status_code == 303
    # The grantor revokes: the switch, the current choice and the next act all see it at once.
    revoked = grantor.delete(f"{API}/delegations/{delegation['id']}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert revoked.json()["ended_by"] == TAX_DEBTOR and revoked.json()["in_force"] is False
    current = delegate.get(API).json()
    assert (current["live"], current["reason_en"]) == (False, "the delegation was revoked")
    _refused(delegate.put(API, json={"on_behalf_of": f"person:{TAX_DEBTOR}"}), "the delegation was revoked")
    assert _apply(delegate, f"person:{TAX_DEBTOR}", slug="tax-clearance", key="after").status_code == 403
    _problem(grantor.delete(f"{API}/delegations/{delegation['id']}"), 409, "representation.delegation_closed")
    granted = grantor.get(f"{API}/delegations").json()["granted"]
    assert [(d["id"], d["status"]) for d in granted] == [(delegation["id"], "revoked")]


def test_an_expired_delegation_is_refused(login, seeded: Session) -> None:
    grantor, delegate = login(TAX_DEBTOR), login(DEMO)
    made = _grant(grantor, days=1).json()
    assert delegate.post(f"{API}/delegations/{made['id']}/accept").status_code == 200
    assert delegate.put(API, json={"on_behalf_of": f"person:{TAX_DEBTOR}"}).status_code == 200
    seeded.rollback()
    past = datetime.now(UTC) - timedelta(minutes=1)
    seeded.execute(update(Delegation).where(Delegation.id == made["id"]).values(valid_until=past))
    seeded.commit()
    _refused(delegate.put(API, json={"on_behalf_of": f"person:{TAX_DEBTOR}"}), "the delegation has expired")
    listed = _by_token(delegate.get(f"{API}/subjects").json())[f"person:{TAX_DEBTOR}"]
    assert (listed["live"], listed["reason_en"]) == (False, "the delegation has expired")
    _problem(delegate.post(f"{API}/delegations/{made['id']}/accept"), 409, "representation.delegation_closed")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"days": 0}, "representation.invalid_delegation"),
        ({"days": 367}, "representation.invalid_delegation"),
        ({"days": 10**30}, "representation.invalid_delegation"),
        ({"days": -5}, "representation.invalid_delegation"),
        ({"delegate": TAX_DEBTOR}, "representation.invalid_delegation"),  # to oneself
        ({"delegate": "123"}, "representation.invalid_delegation"),
        ({"delegate": "۰۴۹۹۳۷۰۸۹۸"}, "representation.invalid_delegation"),  # Persian digits, bad check digit
        ({"services": []}, "representation.invalid_delegation"),
        ({"services": ["no-such-service"]}, "representation.invalid_delegation"),
        ({"services": [f"s{i}" for i in range(21)]}, "representation.invalid_delegation"),
        ({"services": ["tax-clearance"] * 51}, "client.validation"),
        ({"services": "tax-clearance"}, "client.validation"),
        ({"days": "NaN"}, "client.validation"),
        ({"days": 1.5}, "client.validation"),
        ({"delegate": "0" * 21}, "client.validation"),
    ],
)
def test_a_malformed_delegation_is_refused_and_nothing_is_kept(login, seeded: Session, changes, code) -> None:
    _problem(_grant(login(TAX_DEBTOR), **changes), 422, code)
    seeded.rollback()
    assert seeded.scalar(select(Delegation).where(Delegation.grantor_code == TAX_DEBTOR)) is None


def test_persian_digits_name_the_delegate(login) -> None:
    persian = DEMO.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    made = _grant(login(TAX_DEBTOR), delegate=persian)
    assert made.status_code == 201 and made.json()["delegate_code"] == DEMO


@pytest.mark.parametrize("delegation_id", ["x" * 33, "../../x", "ABC"])
def test_a_malformed_delegation_id_is_a_client_problem(login, delegation_id: str) -> None:
    answer = login(DEMO).post(f"{API}/delegations/{delegation_id}/accept")
    assert answer.status_code in (404, 422) and answer.headers["content-type"].startswith(PROBLEM)


def test_the_api_is_documented(client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths[API]) == {"get", "put", "delete"}
    assert "get" in paths[f"{API}/subjects"] and set(paths[f"{API}/delegations"]) == {"get", "post"}
    assert "post" in paths[f"{API}/delegations/{{delegation_id}}/accept"]
    assert "delete" in paths[f"{API}/delegations/{{delegation_id}}"]
    assert paths[API]["put"]["tags"] == ["acting"]


def test_a_business_service_is_not_applied_for_oneself(login, seeded: Session) -> None:
    """The shipped G2B service's subject is a company: applied for oneself, through the portal or the API,
    it is refused before anything is written."""
    director = login(DEMO)
    _problem(_apply(director, "", slug="company-good-standing", key="self-1"), 422, "delivery.wrong_audience")
    api = director.post("/api/v1/services/company-good-standing/requests", json={"inputs": {}})
    _problem(api, 422, "delivery.wrong_audience")
    seeded.rollback()
    assert seeded.scalar(select(ServiceRequest).where(ServiceRequest.slug == "company-good-standing")) is None
