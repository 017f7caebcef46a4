"""The grants pages: an agency's officers request (client side) and decide (provider side) in the browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.exchange import selectors
from panjereh.exchange.models import GrantStatus
from tests.support.browsers import csrf_token, signed_in_browsers
from tests.support.factories import create_officer

TAX_OFFICER = "0499370899"
NOCR_OFFICER = "0790419904"
POLICE_OFFICER = "0084575948"
CITIZEN = "0067749828"


@pytest.fixture
def login(seeded: Session, app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A browser signed in as that citizen; tax, nocr and police each have one officer."""
    db = seeded
    for code, agency in ((TAX_OFFICER, "tax"), (NOCR_OFFICER, "nocr"), (POLICE_OFFICER, "police")):
        create_officer(db, code, agency)
    db.commit()
    with signed_in_browsers(db, app) as sign_in:
        yield sign_in


def _request(browser: TestClient, csrf: str, **fields: str) -> httpx.Response:
    data = {
        "csrf_token": csrf,
        "service_code": "civil-registry.person",
        "purposes": "tax-audit، debt-collection",
        "legal_basis": "Direct Taxes Act, article 181",
        "valid_until": "1410-01-01",
        "note": "for the audit of 1403",
        **fields,
    }
    return browser.post("/exchange/grants/tax/request", data=data, follow_redirects=False)


def test_client_officer_requests_and_provider_officer_decides(
    login: Callable[[str], TestClient], seeded: Session
) -> None:
    tax, nocr = login(TAX_OFFICER), login(NOCR_OFFICER)
    tax_csrf = csrf_token(tax, "/exchange/grants/tax")

    sent = _request(tax, tax_csrf)
    assert sent.status_code == 303
    [grant] = selectors.list_grants(seeded, client_agency_code="tax", include_standing=False)
    assert grant.status is GrantStatus.REQUESTED and grant.purposes == ["debt-collection", "tax-audit"]
    assert grant.requested_note == "for the audit of 1403" and grant.valid_until is not None
    assert grant.valid_until.year == 2031  # Jalali 1410-01-01, inclusive: to the end of that day

    provider_page = nocr.get("/exchange/grants/nocr")
    assert f'data-grant="{grant.id}" data-status="requested"' in provider_page.text
    assert f"/exchange/grants/nocr/{grant.id}/approve" in provider_page.text
    nocr_csrf = csrf_token(nocr, "/exchange/grants/nocr")
    approved = nocr.post(
        f"/exchange/grants/nocr/{grant.id}/approve", data={"csrf_token": nocr_csrf, "note": "ok"},
        follow_redirects=False,
    )  # fmt: skip
    assert approved.status_code == 303
    seeded.expire_all()
    assert selectors.get_grant(seeded, grant.id).status is GrantStatus.APPROVED
    assert f'data-grant="{grant.id}" data-status="approved"' in tax.get("/exchange/grants/tax").text

    revoked = nocr.post(f"/exchange/grants/nocr/{grant.id}/revoke", data={"csrf_token": nocr_csrf})
    assert revoked.status_code == 200 and f'data-grant="{grant.id}" data-status="revoked"' in revoked.text

    _request(tax, tax_csrf, purposes="debt-collection")
    second = next(g for g in selectors.list_grants(seeded, client_agency_code="tax") if g.id != grant.id)
    no_reason = nocr.post(f"/exchange/grants/nocr/{second.id}/refuse", data={"csrf_token": nocr_csrf})
    assert no_reason.status_code == 422 and "دلیل رد را بنویسید" in no_reason.text
    refused = nocr.post(
        f"/exchange/grants/nocr/{second.id}/refuse", data={"csrf_token": nocr_csrf, "note": "no basis"}
    )
    assert refused.status_code == 200 and f'data-grant="{second.id}" data-status="refused"' in refused.text
    assert "no basis" in tax.get("/exchange/grants/tax").text


def test_the_client_cannot_decide_and_errors_show_in_the_pages_language(
    login: Callable[[str], TestClient], seeded: Session
) -> None:
    tax = login(TAX_OFFICER)
    csrf = csrf_token(tax, "/exchange/grants/tax")
    _request(tax, csrf)
    [grant] = selectors.list_grants(seeded, client_agency_code="tax", include_standing=False)

    own = tax.post(f"/exchange/grants/tax/{grant.id}/approve", data={"csrf_token": csrf})
    assert own.status_code == 403 and 'data-code="client.not_provider"' in own.text
    assert "فقط دستگاه ارائه‌دهندهٔ" in own.text
    tax.cookies.set("lang", "en")
    english = tax.post(f"/exchange/grants/tax/{grant.id}/approve", data={"csrf_token": csrf})
    assert english.status_code == 403 and "Only the providing agency may decide" in english.text
    seeded.expire_all()
    assert selectors.get_grant(seeded, grant.id).status is GrantStatus.REQUESTED

    bad = _request(tax, csrf, legal_basis=" ", purposes="audit")
    assert bad.status_code == 422 and "Cite the legal basis" in bad.text
    tax.cookies.set("lang", "fa")
    bad_date = _request(tax, csrf, valid_until="someday")
    assert bad_date.status_code == 422 and "تاریخ پایان خوانا نیست" in bad_date.text
    assert 'value="Direct Taxes Act, article 181"' not in bad_date.text  # a textarea keeps what was typed
    assert "Direct Taxes Act, article 181</textarea>" in bad_date.text
    assert len(selectors.list_grants(seeded, client_agency_code="tax", include_standing=False)) == 1
    for far in ("9999-12-31", "2201-01-01"):
        overflow = _request(tax, csrf, valid_until=far)
        assert overflow.status_code == 422 and "تاریخ پایان خوانا نیست" in overflow.text


def test_only_the_agencys_officers_see_or_use_its_grants(
    login: Callable[[str], TestClient], seeded: Session, client: TestClient
) -> None:
    tax = login(TAX_OFFICER)
    _request(tax, csrf_token(tax, "/exchange/grants/tax"))
    [grant] = selectors.list_grants(seeded, client_agency_code="tax", include_standing=False)

    citizen = login(CITIZEN)
    assert citizen.get("/exchange/grants/nocr").status_code == 404
    assert citizen.get("/exchange/grants/tax").status_code == 404
    csrf = csrf_token(citizen, "/account/data-access")
    assert (
        citizen.post(f"/exchange/grants/nocr/{grant.id}/approve", data={"csrf_token": csrf}).status_code
        == 404
    )

    police = login(POLICE_OFFICER)
    assert police.get("/exchange/grants/nocr").status_code == 404
    police_csrf = csrf_token(police, "/exchange/grants/police")
    assert "civil-registry.person" not in police.get("/exchange/grants/police").text.split('id="request"')[0]
    # Neither side of the grant: hidden, as in the API.
    hidden = police.post(f"/exchange/grants/police/{grant.id}/approve", data={"csrf_token": police_csrf})
    assert hidden.status_code == 404
    assert client.get("/exchange/grants/nocr", follow_redirects=False).status_code in (302, 303, 401)
    assert client.get("/exchange/services").status_code == 200  # the directory stays public
    seeded.expire_all()
    assert selectors.get_grant(seeded, grant.id).status is GrantStatus.REQUESTED


def test_grant_forms_refuse_a_missing_csrf_token(login: Callable[[str], TestClient], seeded: Session) -> None:
    tax, nocr = login(TAX_OFFICER), login(NOCR_OFFICER)
    tax.get("/exchange/grants/tax")
    missing = _request(tax, "")
    assert missing.status_code == 403
    assert selectors.list_grants(seeded, client_agency_code="tax", include_standing=False) == []

    _request(tax, csrf_token(tax, "/exchange/grants/tax"))
    [grant] = selectors.list_grants(seeded, client_agency_code="tax", include_standing=False)
    nocr.get("/exchange/grants/nocr")
    forged = nocr.post(f"/exchange/grants/nocr/{grant.id}/approve", data={"csrf_token": "x.y"})
    assert forged.status_code == 403
    seeded.expire_all()
    assert selectors.get_grant(seeded, grant.id).status is GrantStatus.REQUESTED


SECOND_NOCR_OFFICER = "0076229645"


def _approve(browser: TestClient, grant_id: str) -> httpx.Response:
    csrf = csrf_token(browser, "/exchange/grants/nocr")
    return browser.post(
        f"/exchange/grants/nocr/{grant_id}/approve",
        data={"csrf_token": csrf, "note": "ok"},
        follow_redirects=False,
    )


def test_a_grant_releasing_personal_data_is_active_only_after_a_second_different_approver(
    login: Callable[[str], TestClient], seeded: Session, app: FastAPI
) -> None:
    from panjereh.exchange.exceptions import GrantMissing
    from panjereh.exchange.models import DataService
    from panjereh.exchange.pipeline import Caller

    seeded.query(DataService).filter(DataService.code == "civil-registry.person").update(
        {"grant_approvals": 2}
    )
    create_officer(seeded, SECOND_NOCR_OFFICER, "nocr")
    seeded.commit()
    tax, first, second = login(TAX_OFFICER), login(NOCR_OFFICER), login(SECOND_NOCR_OFFICER)
    assert _request(tax, csrf_token(tax, "/exchange/grants/tax"), purposes="tax-audit").status_code == 303
    [grant] = selectors.list_grants(seeded, client_agency_code="tax", include_standing=False)
    assert grant.approvals_required == 2 and grant.requested_by == TAX_OFFICER

    def ask() -> None:
        exchange = app.state.exchange.exchange
        exchange.prepare(
            Caller("tax-system", "tax", 100),
            "civil-registry.person",
            path_params={"national_code": CITIZEN},
            subject=CITIZEN,
            purpose="tax-audit",
            case=None,
            timeout=None,
        )

    assert _approve(first, grant.id).status_code == 303
    seeded.expire_all()
    grant = selectors.get_grant(seeded, grant.id)
    assert grant.status is GrantStatus.REQUESTED and grant.first_approved_by == NOCR_OFFICER
    assert "second-approver" in first.get("/exchange/grants/nocr").text
    with pytest.raises(GrantMissing):  # one approval does not make it active
        ask()
    again = _approve(first, grant.id)  # the same person twice is not two people
    assert again.status_code == 403 and 'data-code="client.grant_self_approval"' in again.text
    assert _approve(second, grant.id).status_code == 303
    seeded.expire_all()
    grant = selectors.get_grant(seeded, grant.id)
    assert grant.status is GrantStatus.APPROVED and grant.approved_by == SECOND_NOCR_OFFICER
    ask()  # active now


def test_nobody_approves_a_grant_they_asked_for(login: Callable[[str], TestClient], seeded: Session) -> None:
    nocr = login(NOCR_OFFICER)  # the provider asks for its own data service, then tries to approve it
    sent = nocr.post(
        "/exchange/grants/nocr/request",
        data={
            "csrf_token": csrf_token(nocr, "/exchange/grants/nocr"),
            "service_code": "civil-registry.person",
            "purposes": "audit",
            "legal_basis": "Civil registration act",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    [grant] = selectors.list_grants(seeded, client_agency_code="nocr", include_standing=False)
    refused = _approve(nocr, grant.id)
    assert refused.status_code == 403 and 'data-code="client.grant_self_approval"' in refused.text
    seeded.expire_all()
    assert selectors.get_grant(seeded, grant.id).status is GrantStatus.REQUESTED


def test_a_grant_is_asked_for_the_sandbox_and_both_sides_see_its_environment(
    login: Callable[[str], TestClient], seeded: Session
) -> None:
    tax, nocr = login(TAX_OFFICER), login(NOCR_OFFICER)
    tax_csrf = csrf_token(tax, "/exchange/grants/tax")
    assert _request(tax, tax_csrf, environment="sandbox").status_code == 303
    assert _request(tax, tax_csrf, purposes="debt-collection").status_code == 303  # production: the default
    grants = selectors.list_grants(seeded, client_agency_code="tax", include_standing=False)
    by_purpose = {tuple(grant.purposes): grant for grant in grants}
    sandbox, production = by_purpose[("debt-collection", "tax-audit")], by_purpose[("debt-collection",)]
    assert (sandbox.sandbox, production.sandbox) == (True, False)
    for page in (tax.get("/exchange/grants/tax").text, nocr.get("/exchange/grants/nocr").text):
        for grant, environment in ((sandbox, "sandbox"), (production, "production")):
            row = page.split(f'data-grant="{grant.id}"', 1)[1].split("</tr>", 1)[0]
            assert f'data-environment="{environment}"' in row
