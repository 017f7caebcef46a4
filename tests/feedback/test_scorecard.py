"""The agency's scorecard shows what citizens said: average rating with its count per service and for the
agency under the small-count rule, and the unanswered reports by category; the open data stay unchanged."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.catalog.models import ServiceCard
from panjereh.feedback import service

CODES = ["0499370899", "0790419904", "1583250689", "0684159414", "0084575948"]


def test_the_scorecard_shows_ratings_and_open_reports(
    db: Session, client: TestClient, cards: dict[str, ServiceCard]
) -> None:
    before = client.get("/dashboard/agencies/alpha")
    assert before.status_code == 200
    assert 'data-agency-ratings="0"' in before.text and 'data-average="none"' in before.text
    open_data = client.get("/api/v1/open-data").json()
    export = client.get("/dashboard/export/agency-alpha.csv").text
    for code, stars in zip(CODES, [5, 4, 4, 3, 5], strict=True):
        service.rate(db, national_code=code, slug="alpha-permit", stars=stars)
    service.rate(db, national_code=CODES[0], slug="alpha-renewal", stars=1)
    service.report_problem(
        db, national_code=CODES[0], slug="alpha-permit", category="registry_error", text="x"
    )
    service.report_problem(
        db, national_code=CODES[1], slug="alpha-permit", category="registry_error", text="y"
    )
    service.report_problem(db, national_code=CODES[1], slug="beta-permit", category="page_broken", text="z")
    db.commit()
    page = client.get("/dashboard/agencies/alpha").text
    assert 'data-agency-ratings="6"' in page and 'data-average="3.7"' in page  # 22 / 6
    assert '<tr data-service="alpha-permit">' in page and 'data-average="4.2"' in page
    # One rating of the renewal: too few for an average.
    renewal = page.split('<tr data-service="alpha-renewal">', 1)[1].split("</tr>", 1)[0]
    assert 'data-average="none"' in renewal and "امتیاز کافی نیست" in renewal
    assert 'data-open-reports="2"' in page and 'data-category="registry_error"' in page
    assert 'data-category="page_broken"' not in page  # beta's report is beta's
    english = client.get("/dashboard/agencies/alpha?lang=en").text
    assert "Not enough ratings" in english and "The agency&#39;s system gave an error: 2" in english
    # The open data and the agency's export are the same figures as before: feedback is not a figure of them.
    assert client.get("/api/v1/open-data").json() == open_data
    assert client.get("/dashboard/export/agency-alpha.csv").text == export
