"""Acting for others (issue 14 item 5): a parent for a minor child, a company's signatory, a delegate.

Every check is made at the act against the real registries over HTTP, through the exchange."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.delivery.models import ServiceRequest
from panjereh.documents import selectors as documents_selectors
from panjereh.exchange.selectors import ledger_for_subject
from panjereh.registries.events import eighteenth_birthday
from panjereh.registries.population import get_population
from panjereh.representation import service
from panjereh.representation.constants import Relation, SubjectKind
from panjereh.representation.exceptions import (
    DelegationClosed,
    DelegationNotFound,
    InvalidDelegation,
    NotRepresentative,
    RepresentationUnavailable,
)
from panjereh.representation.models import RepresentationAct
from tests.delivery.conftest import CONVICTED, DEMO, TAX_DEBTOR, run_jobs
from tests.support.browsers import csrf_token

MINOR = "0790419904"  # the demo citizen's daughter, born 2012-09-23 (1 Mehr 1391)
DECEASED = "1583250689"
UNINSURED = "0068415941"  # a board member of the demo company without the right to sign
RETIREE = "2540201288"
COMPANY = "77111986110"  # شرکت نمونه فناوری آریا: the demo citizen is its managing director
ADMIN = {"Authorization": "Bearer test-registry-token"}
PARENT = frozenset({Relation.PARENT, Relation.DELEGATE})
BUSINESS = frozenset({Relation.COMPANY, Relation.DELEGATE})


@pytest.fixture
def exchange(app):
    """The app's exchange client, used here without a request; closed (its log written) at the end, so no
    writer of this test's outlives it into the next test's database."""
    client = app.state.exchange
    yield client
    client.close()


def _tehran_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 8, 30, tzinfo=UTC)


def _authorize(
    db, exchange, actor, code, *, kind=SubjectKind.PERSON, slug="student-enrollment", accepts=PARENT, now=None
):
    try:
        return service.authorize(
            db, exchange, actor, kind=kind, code=code, slug=slug, accepts=accepts, now=now
        )
    finally:
        # The exchange logs the inquiries on its own connection. On SQLite a write in a transaction whose
        # snapshot is older than that commit is refused at once ("database is locked", SQLITE_BUSY_SNAPSHOT),
        # so the log is written now and this read transaction ends before the test writes again.
        exchange.flush()
        db.commit()


def _minors(n: int) -> list[str]:
    """Generated minors of the test population with no recorded link to the demo citizen."""
    people = get_population(1402, 3000).people
    return [p.national_code for p in people if p.persona is None and p.birth_date > date(2015, 1, 1)][:n]


def _link(registries_url: str, child: str, guardian: str, **extra: object) -> None:
    body = {"child": child, "guardian": guardian, "relation": "guardian", "since": "2020-01-01", **extra}
    httpx.put(
        f"{registries_url}/civil-registry/_admin/family-links",
        json=body,
        headers=ADMIN,
        timeout=60,
    ).raise_for_status()


def _apply_page(client, slug="student-enrollment", acting_for=""):
    """The apply form after choosing on the switch whom to act for (without a choice it asks no registry)."""
    if acting_for:
        token = csrf_token(client, "/account/acting")
        client.post("/account/acting", data={"csrf_token": token, "on_behalf_of": acting_for})
    return client.get(f"/services/{slug}/apply")


def _apply(client, on_behalf: str, slug="student-enrollment", key="acting-1", **inputs):
    token = csrf_token(client, f"/services/{slug}/apply")
    form = {"csrf_token": token, "idempotency_key": key, "on_behalf_of": on_behalf, **inputs}
    return client.post(f"/services/{slug}/apply", data=form, follow_redirects=False)


def test_parent_applies_for_his_minor_daughter(login, worker, seeded: Session) -> None:
    """The child's code is the subject, the parent the actor; the evidence is about the child."""
    parent = login(DEMO)
    assert "on_behalf_of" not in _apply_page(parent).text  # no choice on the switch: no registry asked
    page = _apply_page(parent, acting_for=f"person:{MINOR}").text
    assert f'value="person:{MINOR}"' in page and "زهرا رضایی" in page
    answer = _apply(parent, f"person:{MINOR}")
    assert answer.status_code == 303, answer.text
    code = answer.headers["location"].rsplit("/", 1)[-1]
    request = seeded.scalars(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()
    assert request.representation is not None
    assert (request.national_code, request.acted_by, request.subject_kind) == (MINOR, DEMO, "person")
    assert request.representation["relation"] == "parent"
    seeded.rollback()  # end the read transaction: the worker's commits are seen from here on
    run_jobs(worker)
    request = seeded.scalars(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()
    assert request.state.value == "approved", [e.message_en for e in request.events]
    assert request.facts["enrollment"]["enrollment"]["institution"] == "دبیرستان دخترانه فرزانگان"  # hers
    # The document is the child's; the timeline says who submitted it for whom.
    document = documents_selectors.documents_of(seeded, MINOR, limit=5)[0]
    assert document.subject_national_code == MINOR
    lines = [e.message_fa for e in request.events]
    assert any("ثبت‌شده توسط علی رضایی از طرف زهرا رضایی" in line for line in lines)
    shown = parent.get(f"/account/requests/{code}").text
    assert "ثبت‌شده توسط علی رضایی از طرف زهرا رضایی" in shown
    window = parent.get("/window").text
    assert "از طرف زهرا رضایی" in window or code not in window  # finished requests leave «in progress»
    # The evidence about her is in her ledger; the family link was read about her, for representation.
    purposes = {(row.service_code, row.purpose) for row in ledger_for_subject(seeded, MINOR, limit=20)}
    assert ("education.enrollment", "delivery:student-enrollment") in purposes
    assert ("civil-registry.family", service.PURPOSE) in purposes
    act = seeded.scalars(select(RepresentationAct).where(RepresentationAct.reference == code)).one()
    assert (act.actor_code, act.subject_code, act.relation, act.action) == (DEMO, MINOR, "parent", "apply")
    # The father opens her certificate (his act issued it); a stranger does not.
    assert parent.get(f"/documents/{document.number}").status_code == 200
    # The switch lists the act on both sides.
    assert code in parent.get("/account/acting").text


def test_a_forged_on_behalf_for_a_stranger_is_refused_and_logged(login, seeded: Session) -> None:
    stranger = login(CONVICTED)
    answer = _apply(stranger, f"person:{MINOR}")
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "representation.not_allowed"
    assert seeded.scalar(select(ServiceRequest).where(ServiceRequest.national_code == MINOR)) is None
    refused = seeded.scalars(select(RepresentationAct).where(RepresentationAct.actor_code == CONVICTED)).all()
    assert [(r.action, r.subject_code) for r in refused] == [("refused", MINOR)]


@pytest.mark.parametrize(
    "raw", ["person:0790419905", "company:10380284792", "person:", "nobody:0790419904", "person:" + "9" * 40]
)
def test_malformed_on_behalf_is_a_client_problem(login, seeded: Session, raw: str) -> None:
    answer = _apply(login(DEMO), raw)
    assert answer.status_code in (403, 422)
    assert answer.json()["code"] in ("representation.invalid_subject", "representation.not_allowed")


def test_another_adult_cannot_be_applied_for_without_a_delegation(login, seeded: Session) -> None:
    answer = _apply(login(DEMO), f"person:{TAX_DEBTOR}")
    assert answer.status_code == 403 and answer.json()["code"] == "representation.not_allowed"


def test_the_child_turning_18_ends_it_that_day(exchange, seeded: Session) -> None:
    """She was born on 2 Mehr 1391; 2 Mehr 1409 is her 18th birthday by the Jalali calendar: the day
    before, her father acts for her; from that day, she acts for herself."""
    birthday = eighteenth_birthday(date(2012, 9, 23))
    assert birthday == date(2030, 9, 24)  # 2 Mehr 1409
    eve = _tehran_noon(birthday - timedelta(days=1))
    assert _authorize(seeded, exchange, DEMO, MINOR, now=eve).relation == Relation.PARENT
    with pytest.raises(NotRepresentative) as refused:
        _authorize(seeded, exchange, DEMO, MINOR, now=eve + timedelta(days=1))
    assert refused.value.extra["reason"] == "the child is 18 or older"


def test_an_ended_guardianship_or_a_deceased_guardian_ends_it(
    exchange, registries_url, seeded: Session
) -> None:
    ended_child, dead_child, future_child = _minors(3)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    _link(registries_url, ended_child, RETIREE, ended_on=yesterday)
    _link(registries_url, dead_child, DECEASED)
    _link(registries_url, future_child, RETIREE, ended_on="2099-01-01")  # ends later: still holds
    with pytest.raises(NotRepresentative) as ended:
        _authorize(seeded, exchange, RETIREE, ended_child)
    assert ended.value.extra["reason"] == "the guardianship was ended"
    with pytest.raises(NotRepresentative) as dead:
        _authorize(seeded, exchange, DECEASED, dead_child)
    assert dead.value.extra["reason"] == "the guardian is deceased"
    assert _authorize(seeded, exchange, RETIREE, future_child).code == future_child
    codes = [s.code for s in service.represented_by(seeded, exchange, RETIREE).subjects]
    assert future_child in codes and ended_child not in codes


def test_a_service_that_accepts_no_parents_refuses_one(exchange, seeded: Session) -> None:
    with pytest.raises(NotRepresentative):
        _authorize(seeded, exchange, DEMO, MINOR, accepts=BUSINESS)


def test_company_signatory_acts_and_others_do_not(exchange, seeded: Session) -> None:
    company = SubjectKind.COMPANY
    subject = _authorize(seeded, exchange, DEMO, COMPANY, kind=company, accepts=BUSINESS)
    assert (subject.kind, subject.name, subject.relation) == (
        company,
        "شرکت نمونه فناوری آریا",
        Relation.COMPANY,
    )
    reasons = {}
    for actor, code in (
        (UNINSURED, COMPANY),
        (TAX_DEBTOR, COMPANY),
        (CONVICTED, COMPANY),
        ("4032152314", "97006806007"),
    ):
        with pytest.raises(NotRepresentative) as refused:
            _authorize(seeded, exchange, actor, code, kind=company, accepts=BUSINESS)
        reasons[actor] = refused.value.extra["reason"]
    assert reasons == {
        UNINSURED: "no right to sign",
        TAX_DEBTOR: "the term has ended",
        CONVICTED: "not on the company's board",
        "4032152314": "the company is not active",
    }
    with pytest.raises(NotRepresentative):  # an individuals' service accepts no company representative
        _authorize(seeded, exchange, DEMO, COMPANY, kind=company, accepts=PARENT)
    listed = service.represented_by(seeded, exchange, DEMO).subjects
    assert {(s.kind, s.code) for s in listed} == {(SubjectKind.PERSON, MINOR), (company, COMPANY)}


def test_delegation_is_scoped_bounded_accepted_and_revocable(exchange, seeded: Session) -> None:
    known = {"tax-clearance", "no-criminal-record"}
    grant = service.grant_delegation(
        seeded,
        grantor_code=TAX_DEBTOR,
        grantor_name="مریم احمدی",
        delegate_code=DEMO,
        slugs=["tax-clearance"],
        known_slugs=known,
        days=30,
    )
    seeded.commit()  # no write transaction held while the exchange logs the inquiries below
    with pytest.raises(NotRepresentative):  # not yet accepted
        _authorize(seeded, exchange, DEMO, TAX_DEBTOR, slug="tax-clearance")
    with pytest.raises(DelegationNotFound):  # only the delegate accepts
        service.accept_delegation(seeded, grant.id, delegate_code=CONVICTED, delegate_name="x")
    service.accept_delegation(seeded, grant.id, delegate_code=DEMO, delegate_name="علی رضایی")
    seeded.commit()
    assert _authorize(seeded, exchange, DEMO, TAX_DEBTOR, slug="tax-clearance").relation == Relation.DELEGATE
    with pytest.raises(NotRepresentative):  # another service than the scoped one
        _authorize(seeded, exchange, DEMO, TAX_DEBTOR, slug="no-criminal-record")
    with pytest.raises(NotRepresentative):  # expired
        _authorize(
            seeded,
            exchange,
            DEMO,
            TAX_DEBTOR,
            slug="tax-clearance",
            now=datetime.now(UTC) + timedelta(days=31),
        )
    service.end_delegation(seeded, grant.id, by=TAX_DEBTOR)
    seeded.commit()
    with pytest.raises(NotRepresentative):  # revoked
        _authorize(seeded, exchange, DEMO, TAX_DEBTOR, slug="tax-clearance")
    with pytest.raises(DelegationClosed):
        service.accept_delegation(seeded, grant.id, delegate_code=DEMO, delegate_name="علی رضایی")


@pytest.mark.parametrize(
    ("delegate", "slugs", "days"),
    [
        (DEMO, ["tax-clearance"], 0),
        (DEMO, ["tax-clearance"], 367),
        (TAX_DEBTOR, ["tax-clearance"], 5),
        ("123", ["tax-clearance"], 5),
        (DEMO, [], 5),
        (DEMO, ["no-such-service"], 5),
        (DEMO, ["x"] * 0, 5),
    ],
)
def test_a_delegation_is_bounded(seeded: Session, delegate, slugs, days) -> None:
    with pytest.raises(InvalidDelegation):
        service.grant_delegation(
            seeded,
            grantor_code=TAX_DEBTOR,
            grantor_name="م",
            delegate_code=delegate,
            slugs=slugs,
            known_slugs={"tax-clearance"},
            days=days,
        )


def test_delegation_pages_grant_accept_apply_and_revoke(login, worker, seeded: Session) -> None:
    grantor, delegate = login(TAX_DEBTOR), login(DEMO)
    form = {
        "csrf_token": csrf_token(grantor, "/account/delegations"),
        "delegate": DEMO,
        "days": "30",
        "services": ["tax-clearance"],
    }
    assert grantor.post("/account/delegations", data=form, follow_redirects=False).status_code == 303
    held = delegate.get("/account/delegations").text
    assert "در انتظار پذیرش وکیل" in held
    seeded.rollback()
    delegation_id = [d.id for d in _delegations(seeded, DEMO)][0]
    accept = {"csrf_token": csrf_token(delegate, "/account/delegations")}
    forged = grantor.post(
        f"/account/delegations/{delegation_id}/accept",
        data={"csrf_token": csrf_token(grantor, "/account/delegations")},
    )
    assert forged.status_code == 404  # the grantor cannot accept for the delegate
    assert (
        delegate.post(
            f"/account/delegations/{delegation_id}/accept", data=accept, follow_redirects=False
        ).status_code
        == 303
    )
    missing_csrf = delegate.post(f"/account/delegations/{delegation_id}/end", data={})
    assert missing_csrf.status_code == 403
    answer = _apply(delegate, f"person:{TAX_DEBTOR}", slug="tax-clearance")
    assert answer.status_code == 303, answer.text
    code = answer.headers["location"].rsplit("/", 1)[-1]
    assert "اقدام‌شده از طرف شما توسط" in grantor.get("/account/acting").text  # the delegator sees it
    assert code in grantor.get("/account/requests").text
    refused = _apply(delegate, f"person:{TAX_DEBTOR}", slug="no-criminal-record", key="other")
    assert refused.status_code == 403
    end = {"csrf_token": csrf_token(grantor, "/account/delegations")}
    assert (
        grantor.post(
            f"/account/delegations/{delegation_id}/end", data=end, follow_redirects=False
        ).status_code
        == 303
    )
    again = _apply(delegate, f"person:{TAX_DEBTOR}", slug="tax-clearance", key="again")
    assert again.status_code == 403


def _delegations(db: Session, code: str):
    from panjereh.representation import selectors

    return selectors.delegations_of(db, code)


def test_registry_down_is_a_clear_error_and_nothing_is_lost(login, faults, seeded: Session) -> None:
    parent = login(DEMO)
    token = csrf_token(parent, "/services/student-enrollment/apply")
    faults("civil-registry", down=True)
    answer = parent.post(
        "/services/student-enrollment/apply",
        data={"csrf_token": token, "idempotency_key": "down-1", "on_behalf_of": f"person:{MINOR}"},
        follow_redirects=False,
    )
    assert answer.status_code == 503
    assert answer.json()["code"] == "representation.registry_unavailable"
    assert seeded.scalar(select(ServiceRequest).where(ServiceRequest.national_code == MINOR)) is None
    with pytest.raises(RepresentationUnavailable):
        service.authorize(
            seeded,
            parent.app.state.exchange,
            DEMO,
            kind=SubjectKind.PERSON,
            code=MINOR,
            slug="student-enrollment",
            accepts=PARENT,
        )
    # The switch still shows what it can (the companies registry answers).
    page = parent.get("/account/acting")
    assert page.status_code == 200 and "شرکت نمونه فناوری آریا" in page.text


def test_a_company_representative_applies_for_a_business_service(login, worker, seeded: Session) -> None:
    """The company is the subject (its legal-entity ID), the managing director the actor; the evidence is
    the company's registration; the certificate is the company's."""
    director = login(DEMO)
    page = _apply_page(director, "company-good-standing", acting_for=f"company:{COMPANY}").text
    assert f'value="company:{COMPANY}"' in page and f'value="person:{MINOR}"' not in page  # a G2B service
    answer = _apply(director, f"company:{COMPANY}", slug="company-good-standing")
    assert answer.status_code == 303, answer.text
    code = answer.headers["location"].rsplit("/", 1)[-1]
    seeded.rollback()
    run_jobs(worker)
    request = seeded.scalars(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()
    assert (request.national_code, request.subject_kind, request.acted_by) == (COMPANY, "company", DEMO)
    assert request.state.value == "approved", [e.message_en for e in request.events]
    assert request.facts["company"]["name"] == "شرکت نمونه فناوری آریا"
    document = documents_selectors.documents_of(seeded, COMPANY, limit=5)[0]
    assert document.claims["company"] == "شرکت نمونه فناوری آریا"
    assert director.get(f"/documents/{document.number}").status_code == 200
    assert login(CONVICTED).get(f"/documents/{document.number}").status_code == 404
    shown = director.get(f"/account/requests/{code}").text
    assert "از طرف شرکت نمونه فناوری آریا" in shown


def test_a_board_member_without_the_right_to_sign_is_refused(login, seeded: Session) -> None:
    member = login(UNINSURED)
    page = _apply_page(member, "company-good-standing", acting_for=f"company:{COMPANY}").text
    assert f"company:{COMPANY}" not in page
    answer = _apply(member, f"company:{COMPANY}", slug="company-good-standing")
    assert answer.status_code == 403 and answer.json()["code"] == "representation.not_allowed"
    # A company cannot be named for an individuals' service, even by its director.
    assert _apply(login(DEMO), f"company:{COMPANY}", key="g2c").status_code == 403
    assert seeded.scalar(select(ServiceRequest).where(ServiceRequest.national_code == COMPANY)) is None


def test_the_demo_seeds_a_delegation_in_force(exchange, settings, seeded: Session) -> None:
    """The demo citizen holds a delegation from the property-owner persona (README tour), once."""
    from panjereh.representation import seed as representation_seed
    from tests.support.factories import create_flagship_cards

    create_flagship_cards(seeded)
    for _ in range(2):  # idempotent
        representation_seed.seed_delegations(seeded, settings, lambda _n: None)
    seeded.commit()
    held = [d for d in _delegations(seeded, DEMO) if d.delegate_code == DEMO]
    assert [(d.grantor_code, d.slugs, d.status.value) for d in held] == [
        ("4032152314", ["property-ownership"], "active")
    ]
    subject = _authorize(seeded, exchange, DEMO, "4032152314", slug="property-ownership")
    assert (subject.relation, subject.name) == (Relation.DELEGATE, "فاطمه موسوی")
    with pytest.raises(NotRepresentative):  # only the service delegated
        _authorize(seeded, exchange, DEMO, "4032152314", slug="tax-clearance")
