"""`panjereh notify failures` and `status` on a fresh embedded home: the operator's list of what failed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from panjereh import migrations
from panjereh.cli import app
from panjereh.core.config import Settings, get_settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.notify import service
from panjereh.notify.cli import mask
from panjereh.notify.models import Notification, NotificationStatus

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    monkeypatch.delenv("PANJEREH_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_failures_are_listed_with_their_reason_and_masked_recipients(home: Settings) -> None:
    home.ensure_home()
    engine = make_engine(home.resolved_database_url)
    migrations.upgrade(engine)
    with unit_of_work(make_sessionmaker(engine)) as session:
        for mobile in ("09121234567", "09351112233"):
            service.send(
                session, home, national_code="0499370899", mobile=mobile, channels=frozenset({"sms"}),
                subject_fa="درخواست", body_fa="متن", kind="delivery.request",
            )  # fmt: skip
        session.flush()
        first, second = session.query(Notification).order_by(Notification.recipient).all()
        first.last_error = "APIException[411] دریافت کننده نامعتبر است"
        first.attempts = 1
        first.settle(NotificationStatus.FAILED)
        second.settle(NotificationStatus.SENT)
    engine.dispose()
    listed = runner.invoke(app, ["notify", "failures", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.output.splitlines()]
    assert row["recipient"] == "0912****567" and row["reason"].startswith("APIException[411]")
    assert row["attempts"] == 1 and row["kind"] == "delivery.request"
    table = runner.invoke(app, ["notify", "failures"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "1 failed" in table.output and "09121234567" not in table.output
    counts = runner.invoke(app, ["notify", "status"])
    assert counts.exit_code == 0 and set(counts.output.splitlines()) == {"sms\tfailed\t1", "sms\tsent\t1"}


def test_recipients_are_masked() -> None:
    assert mask("09121234567") == "0912****567"
    assert mask("ali.rezaei@example.com") == "a***@example.com"
    assert mask("123") == "****"
