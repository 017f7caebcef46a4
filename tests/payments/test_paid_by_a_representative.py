"""A fee paid by someone acting for another (a parent for a child) is the payer's: his payment, his
receipt, his window; the child (who has no login) is the request's subject and stays so."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.delivery.models import ServiceRequest
from panjereh.payments import selectors
from panjereh.payments.models import Payment
from tests.delivery.conftest import DEMO, run_jobs
from tests.payments.conftest import at_gateway, to_gateway
from tests.support.browsers import csrf_token
from tests.support.factories import create_card

MINOR = "0790419904"  # the demo citizen's daughter (registries.personas)
SLUG = "student-enrollment"


def test_a_parent_pays_for_his_daughter_and_the_payment_is_his(login, worker, seeded: Session) -> None:
    create_card(
        seeded,
        "education",
        slug=SLUG,
        service_id="11990100077",
        title_fa="گواهی اشتغال به تحصیل",
        title_en="Certificate of enrolment",
        cost_rials=250_000,
        offered_through_window=True,
    )
    seeded.commit()
    parent = login(DEMO)
    token = csrf_token(parent, "/account/acting")
    parent.post("/account/acting", data={"csrf_token": token, "on_behalf_of": f"person:{MINOR}"})
    token = csrf_token(parent, f"/services/{SLUG}/apply")
    form = {"csrf_token": token, "idempotency_key": "paid-for-her", "on_behalf_of": f"person:{MINOR}"}
    answer = parent.post(f"/services/{SLUG}/apply", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    code = answer.headers["location"].rsplit("/", 1)[-1]
    seeded.rollback()
    request = seeded.scalars(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()
    assert (request.national_code, request.acted_by, request.state.value) == (MINOR, DEMO, "awaiting_payment")

    callback = at_gateway(to_gateway(parent, code))
    assert parent.get(callback, follow_redirects=False).status_code in (200, 303)
    run_jobs(worker)
    seeded.rollback()
    payment = seeded.scalars(select(Payment).where(Payment.tracking_code == code)).one()
    assert payment.national_code == DEMO  # the payer, not the subject
    assert [p.tracking_code for p in selectors.payments_of(seeded, DEMO)] == [code]
    assert selectors.payments_of(seeded, MINOR) == []
    assert code in parent.get("/window").text  # his payments list names it
