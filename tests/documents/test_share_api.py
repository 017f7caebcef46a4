"""The holder's shares API (`/api/v1/documents/...`): make a share (link once, 201, Location, step-up,
Idempotency-Key), list mine (never a link), revoke (idempotent), the openings; every boundary (signed out,
another citizen, a cross-site request, a session below two factors) and every malformed body."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.documents import sharing
from panjereh.documents.models import DocumentShare, IssuedDocument
from tests.documents.conftest import OTHER, OWNER, issue, sign_in

THIRD_PARTY = ("203.0.113.57", 41000)
SAME_SITE = {"sec-fetch-site": "same-origin"}  # what a browser sends with a page's own fetch()


def shares_url(document: IssuedDocument) -> str:
    return f"/api/v1/documents/{document.number}/shares"


def make(
    browser: TestClient, document: IssuedDocument, body: dict[str, Any] | None = None, **headers: str
) -> Any:
    body = body if body is not None else {"claims": ["purpose"], "lifetime_minutes": 60}
    return browser.post(shares_url(document), json=body, headers=SAME_SITE | headers)


def count(db: Session, document: IssuedDocument) -> int:
    db.expire_all()
    return db.query(DocumentShare).filter_by(document_id=document.id).count()


def assert_problem(answer: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = answer.json()
    assert problem["title"] and problem["title_fa"] and problem["instance"]
    if code is not None:
        assert problem["code"] == code, problem
    return problem


def test_make_list_open_revoke(
    owner_client: TestClient, app: FastAPI, db: Session, document: IssuedDocument
) -> None:
    made = make(
        owner_client,
        document,
        {"claims": ["purpose", "holder_name"], "lifetime_minutes": 1440, "recipient": "بانک ملت"},
    )
    assert made.status_code == 201 and "no-store" in made.headers["cache-control"]
    data = made.json()
    [row] = db.query(DocumentShare).filter_by(document_id=document.id).all()
    assert data["share_id"] == row.id and data["status"] == "valid" and data["openings"] == 0
    assert made.headers["location"] == f"/api/v1/documents/{document.number}/shares/{row.id}"
    assert data["token"] not in made.headers["location"]  # the link is in the body alone
    assert sharing.hash_token(data["token"]) == row.token_hash and len(data["token"]) == 43
    assert data["url"].endswith(f"/shared/{data['token']}") and data["api_url"].endswith(data["token"])
    assert data["claims"] == {"holder_name": "علی رضایی", "purpose": "employment"}
    assert data["recipient"] == "بانک ملت" and data["document_number"] == document.number
    with TestClient(app, client=THIRD_PARTY) as bank:
        assert bank.get(f"/api/v1/documents/shares/{data['token']}").status_code == 200
        assert bank.get(f"/shared/{data['token']}", headers={"accept": "text/html"}).status_code == 200

    mine = owner_client.get("/api/v1/documents/shares")
    assert mine.status_code == 200 and "no-store" in mine.headers["cache-control"]
    [listed] = mine.json()
    assert listed["share_id"] == row.id and listed["openings"] == 2 and listed["status"] == "valid"
    assert "token" not in listed and data["token"] not in mine.text  # never the link again

    one = owner_client.get(made.headers["location"])
    assert one.status_code == 200 and one.json() == listed and "no-store" in one.headers["cache-control"]
    openings = owner_client.get(f"{made.headers['location']}/openings")
    assert openings.status_code == 200 and sorted(o["channel"] for o in openings.json()) == ["api", "page"]
    assert all(o["network"] == "203.0.113.0/24" and o["outcome"] == "valid" for o in openings.json())
    assert "203.0.113.57" not in openings.text

    for _ in range(2):  # idempotent: revoking a revoked share is the state asked for
        revoked = owner_client.delete(made.headers["location"], headers=SAME_SITE)
        assert revoked.status_code == 204 and revoked.content == b""
    with TestClient(app, client=THIRD_PARTY) as bank:
        assert_problem(bank.get(f"/api/v1/documents/shares/{data['token']}"), 410, "documents.share_revoked")
    [listed] = owner_client.get("/api/v1/documents/shares").json()
    assert listed["status"] == "revoked" and listed["revoked_at"]


def test_a_session_below_two_factors_is_asked_to_step_up(
    client: TestClient, db: Session, document: IssuedDocument
) -> None:
    sign_in(db, client, OWNER, level=1)
    problem = assert_problem(make(client, document), 403, "identity.step_up_required")
    assert problem["required_level"] == 2 and problem["current_level"] == 1
    assert count(db, document) == 0
    # Reading and revoking what one already made need no step-up.
    assert client.get("/api/v1/documents/shares").status_code == 200


def test_another_citizen_and_the_signed_out_reach_nothing(
    owner_client: TestClient, app: FastAPI, db: Session, settings: Settings, document: IssuedDocument
) -> None:
    share_id = make(owner_client, document).json()["share_id"]
    my_share = f"/api/v1/documents/{document.number}/shares/{share_id}"
    theirs = issue(db, settings, subject_national_code=OTHER, subject_name="مریم احمدی")
    db.commit()
    with TestClient(app) as other:
        sign_in(db, other, OTHER, "مریم احمدی")
        assert_problem(make(other, document), 404, "documents.not_found")
        for path in (my_share, f"{my_share}/openings"):
            assert_problem(other.get(path), 404, "documents.not_found")
        assert_problem(other.delete(my_share, headers=SAME_SITE), 404, "documents.not_found")
        # His own document's number with my share's id: still not his share.
        under_his = f"/api/v1/documents/{theirs.number}/shares/{share_id}"
        for path in (under_his, f"{under_his}/openings"):
            assert_problem(other.get(path), 404, "documents.share_not_found")
        assert_problem(other.delete(under_his, headers=SAME_SITE), 404, "documents.share_not_found")
        assert other.get("/api/v1/documents/shares").json() == []
        # A level-1 stranger learns nothing from a step-up prompt: the document is unknown first.
        sign_in(db, other, OTHER, "مریم احمدی", level=1)
        assert_problem(make(other, document), 404, "documents.not_found")
    with TestClient(app) as anonymous:
        assert_problem(make(anonymous, document), 401)
        assert_problem(anonymous.get("/api/v1/documents/shares"), 401)
        assert_problem(anonymous.get(my_share), 401)
        assert_problem(anonymous.delete(my_share), 401)
        assert_problem(anonymous.get(f"{my_share}/openings"), 401)
    for unknown in ("0" * 32, "x" * 5000, "..%2F"):
        unknown_share = f"/api/v1/documents/{document.number}/shares/{unknown}"
        assert_problem(owner_client.delete(unknown_share, headers=SAME_SITE), 404)
    assert count(db, document) == 1
    db.expire_all()
    assert db.get(DocumentShare, share_id).revoked_at is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
    ],
)
def test_a_cross_site_request_makes_and_revokes_nothing(
    owner_client: TestClient, db: Session, document: IssuedDocument, headers: dict[str, str]
) -> None:
    share_id = make(owner_client, document).json()["share_id"]
    forged = owner_client.post(
        shares_url(document), json={"claims": ["purpose"], "lifetime_minutes": 60}, headers=headers
    )
    assert_problem(forged, 403, "client.cross_site")
    assert_problem(
        owner_client.delete(f"/api/v1/documents/{document.number}/shares/{share_id}", headers=headers),
        403,
        "client.cross_site",
    )
    assert count(db, document) == 1
    db.expire_all()
    assert db.get(DocumentShare, share_id).revoked_at is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"claims": ["birth_date_year"], "lifetime_minutes": 60}, "documents.share_invalid"),  # unknown claim
        ({"claims": [], "lifetime_minutes": 60}, "documents.share_invalid"),
        (
            {"claims": ["purpose"] * 2 + [f"x{i}" for i in range(30)], "lifetime_minutes": 60},
            "documents.share_invalid",
        ),
        ({"claims": ["purpose"], "lifetime_minutes": 59}, "documents.share_invalid"),  # under an hour
        (
            {"claims": ["purpose"], "lifetime_minutes": 30 * 24 * 60 + 1},
            "documents.share_invalid",
        ),  # past 30 days
        ({"claims": ["purpose"], "lifetime_minutes": -60}, "documents.share_invalid"),  # in the past
        ({"claims": ["purpose"], "lifetime_minutes": 10**9}, "documents.share_invalid"),  # far future
        (
            {"claims": ["purpose"], "lifetime_minutes": 10**400},
            "documents.share_invalid",
        ),  # past any timedelta
        ({"claims": ["purpose"], "lifetime_minutes": 60.5}, "client.validation"),
        ({"claims": ["purpose"], "lifetime_minutes": "60"}, "client.validation"),
        ({"claims": ["purpose"], "lifetime_minutes": True}, "client.validation"),
        ({"claims": ["purpose"], "lifetime_minutes": None}, "client.validation"),
        ({"claims": ["purpose"]}, "client.validation"),
        ({"claims": "purpose", "lifetime_minutes": 60}, "client.validation"),
        ({"claims": [1, {"a": 1}], "lifetime_minutes": 60}, "client.validation"),
        ({"claims": ["x" * 61], "lifetime_minutes": 60}, "client.validation"),
        ({"claims": ["purpose"] * 101, "lifetime_minutes": 60}, "client.validation"),
        ({"claims": ["purpose"], "lifetime_minutes": 60, "recipient": "ب" * 101}, "documents.share_invalid"),
        ({"claims": ["purpose"], "lifetime_minutes": 60, "recipient": "ب" * 1001}, "client.validation"),
        ({"claims": ["purpose"], "lifetime_minutes": 60, "expires_at": "2999-01-01"}, "client.validation"),
        ([["purpose"], 60], "client.validation"),
    ],
)
def test_malformed_bodies_are_problems_and_make_nothing(
    owner_client: TestClient, db: Session, document: IssuedDocument, body: Any, code: str
) -> None:
    assert_problem(make(owner_client, document, body), 422, code)
    assert count(db, document) == 0


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (
            b'{"claims": ["purpose"], "lifetime_minutes": NaN}',
            "application/json",
            400,
            "client.malformed_body",
        ),
        (
            b'{"claims": ["purpose"], "lifetime_minutes": Infinity}',
            "application/json",
            400,
            "client.malformed_body",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "client.malformed_body"),  # very deep
        (b"[" * 5_000 + b"]" * 5_000, "application/json", 400, "client.malformed_body"),  # deep
        (
            b'{"claims": ["\xff\xfe"], "lifetime_minutes": 60}',
            "application/json",
            400,
            "client.malformed_body",
        ),
        (b'{"claims": ["purpose"], "lifetime_minutes": 6', "application/json", 400, "client.malformed_body"),
        (b'{"claims": ["purpose"], "lifetime_minutes": 60}', "text/plain", 422, "client.validation"),
        (
            b"claims=purpose&lifetime_minutes=60",
            "application/x-www-form-urlencoded",
            422,
            "client.validation",
        ),
        (b'{"claims": ["purpose"], "lifetime_minutes": ' + b"9" * 5000 + b"}", "application/json", 400, None),
        (
            b'{"recipient": "' + b"a" * 2 * 1024 * 1024 + b'"}',
            "application/json",
            413,
            "client.payload_too_large",
        ),
    ],
)
def test_unreadable_bodies_are_problems_and_make_nothing(
    owner_client: TestClient,
    db: Session,
    document: IssuedDocument,
    content: bytes,
    content_type: str,
    status: int | None,
    code: str | None,
) -> None:
    answer = owner_client.post(
        shares_url(document), content=content, headers=SAME_SITE | {"content-type": content_type}
    )
    assert 400 <= answer.status_code < 500, answer.text[:300]
    if status is not None:
        assert answer.status_code == status
    assert_problem(answer, answer.status_code, code)
    assert count(db, document) == 0


def test_a_retry_with_the_same_idempotency_key_makes_no_second_share(
    owner_client: TestClient, app: FastAPI, db: Session, document: IssuedDocument
) -> None:
    body = {"claims": ["purpose"], "lifetime_minutes": 60, "recipient": "کارفرما"}
    first = make(owner_client, document, body, **{"idempotency-key": "retry-1"})
    assert first.status_code == 201 and first.json()["token"]
    retried = make(owner_client, document, body, **{"idempotency-key": "retry-1"})
    assert retried.status_code == 200 and retried.json()["share_id"] == first.json()["share_id"]
    assert retried.json()["token"] is None and retried.json()["url"] is None  # the link was shown once
    assert first.json()["token"] not in retried.text
    assert count(db, document) == 1
    # The same key for another request is a conflict, not a silent answer about a different share.
    other_body = body | {"lifetime_minutes": 120}
    assert_problem(
        make(owner_client, document, other_body, **{"idempotency-key": "retry-1"}),
        409,
        "documents.share_idempotency_conflict",
    )
    # Another key, or none, is another share; another citizen's equal key never meets this one.
    assert make(owner_client, document, body, **{"idempotency-key": "retry-2"}).status_code == 201
    assert make(owner_client, document, body).status_code == 201
    assert make(owner_client, document, body).status_code == 201
    assert count(db, document) == 4
    assert_problem(
        make(owner_client, document, body, **{"idempotency-key": "k" * 81}), 422, "client.validation"
    )


def test_the_api_document_describes_the_holders_endpoints(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    made = paths["/api/v1/documents/{number}/shares"]["post"]
    assert "201" in made["responses"] and any(p["name"] == "Idempotency-Key" for p in made["parameters"])
    assert "get" in paths["/api/v1/documents/shares"]
    assert {"get", "delete"} <= set(paths["/api/v1/documents/{number}/shares/{share_id}"])
    assert "get" in paths["/api/v1/documents/{number}/shares/{share_id}/openings"]
    # No two templates for one address: the third party's /shares/{token} stands alone (OpenAPI §4.8.8).
    assert set(paths["/api/v1/documents/shares/{token}"]) == {"get"}
    assert "lifetime_minutes" in json.dumps(spec["components"]["schemas"]["ShareCreate"])


def test_my_shares_come_a_page_at_a_time_newest_first(
    owner_client: TestClient, db: Session, document: IssuedDocument
) -> None:
    made = [make(owner_client, document, {"claims": ["purpose"], "lifetime_minutes": 60}) for _ in range(5)]
    assert {answer.status_code for answer in made} == {201}
    everything = owner_client.get("/api/v1/documents/shares").json()
    assert len(everything) == 5
    url = "/api/v1/documents/shares"
    pages = [owner_client.get(url, params={"limit": 2, "offset": at}).json() for at in (0, 2, 4)]
    assert [len(page) for page in pages] == [2, 2, 1]
    paged = [share["share_id"] for page in pages for share in page]
    assert paged == [share["share_id"] for share in everything]
    assert owner_client.get("/api/v1/documents/shares", params={"offset": 5}).json() == []
    full = owner_client.get(url, params={"limit": 2, "offset": 2})
    assert full.headers["link"] == '</api/v1/documents/shares?limit=2&offset=4>; rel="next"'
    assert "link" not in owner_client.get(url, params={"limit": 2, "offset": 4}).headers  # the last page
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "NaN"}, {"limit": "1e9"}):
        assert_problem(owner_client.get("/api/v1/documents/shares", params=bad), 422)
