"""Data-access notices: a citizen who asks is told, once, when an agency (not the window itself) looks."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import new_id, utcnow
from panjereh.exchange.models import LedgerEntry
from panjereh.exchange.notices import notify_data_access
from panjereh.notify import selectors as notify_selectors
from panjereh.notify import service as notify_service
from tests.identity import helpers

ALI, ZAHRA = "0499370899", "0790419904"


def _look(db: Session, subject: str, client: str, at: datetime) -> None:
    db.add(
        LedgerEntry(
            message_id=new_id(), subject=subject, at=at, client_agency_code=client,
            service_code="police.vehicles", provider_agency_code="police", purpose="audit", status=200,
        )
    )  # fmt: skip
    db.flush()


def test_only_subscribers_hear_and_only_once(db: Session, settings: Settings) -> None:
    now = utcnow()
    assert (
        notify_data_access(db, settings, now - timedelta(minutes=10)) == 0
    )  # the first run starts the cursor
    notify_service.set_data_access_notices(db, ALI, True)
    _look(db, ALI, "tax", now - timedelta(minutes=5))
    _look(db, ALI, "ito", now - timedelta(minutes=5))  # the window itself, on the citizen's behalf
    _look(db, ZAHRA, "tax", now - timedelta(minutes=5))  # she did not ask to be told
    _look(db, ALI, "police", now)  # still inside the lag: the next run's
    assert notify_data_access(db, settings, now) == 1
    messages = notify_selectors.inbox(db, ALI)
    assert len(messages) == 1 and "• tax:" in messages[0].body_fa and "• police:" not in messages[0].body_fa
    assert messages[0].subject_en == "An agency looked at your data"  # the inbox in English too
    assert messages[0].body_en is not None and messages[0].body_en.startswith("These agencies looked")
    assert "• tax:" in messages[0].body_en
    assert notify_selectors.inbox(db, ZAHRA) == []
    assert notify_data_access(db, settings, now) == 0  # nothing new: nothing sent twice
    assert notify_data_access(db, settings, now + timedelta(minutes=1)) == 1
    assert "• police:" in notify_selectors.inbox(db, ALI)[0].body_fa


def test_the_citizen_turns_notices_on_and_off(
    client: TestClient, db: Session, settings: Settings, seeded: Session
) -> None:
    helpers.login(client, settings)
    page = client.get("/account/data-access")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token and "خبرم کن" in page.text
    response = client.post(
        "/account/data-access/notices",
        data={"csrf_token": token.group(1), "enabled": "1"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert notify_selectors.wants_data_access_notices(db, ALI)
    assert "دیگر خبرم نکن" in client.get("/account/data-access").text
    forged = client.post("/account/data-access/notices", data={"enabled": "0"})
    assert forged.status_code == 403 and notify_selectors.wants_data_access_notices(db, ALI)
