"""Signed-in browsers for page tests: a citizen row, a session as a login would open it, a TestClient."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.cookies import SESSION_COOKIE
from panjereh.identity import selectors as identity_selectors
from panjereh.identity import sessions
from tests.support.factories import create_citizen

# What a login at each level records (identity.service): the SMS code, then the second factor.
AMR_BY_LEVEL = {1: ["sms"], 2: ["sms", "otp", "mfa"]}


@contextmanager
def signed_in_browsers(
    db: Session, app: FastAPI, *, accept: str | None = None
) -> Iterator[Callable[..., TestClient]]:
    """A factory of browsers, each signed in as the citizen with that national code at `level` (1: SMS
    only; 2, the default: with the second factor); a citizen is made on first use. `accept` is the header
    every browser sends (pages: "text/html"). The browsers are closed when the block ends."""
    browsers: list[TestClient] = []

    def sign_in(national_code: str, level: int = 2) -> TestClient:
        citizen = identity_selectors.get_citizen_by_national_code(db, national_code)
        if citizen is None:
            # End the read first: on SQLite a write in a transaction whose snapshot predates another
            # connection's commit (the app's log writer) is refused at once ("database is locked").
            db.commit()
            citizen = create_citizen(db, national_code)
        _, token = sessions.open_session(db, citizen, level=level, amr=AMR_BY_LEVEL[level])
        db.commit()
        browser = TestClient(app, base_url="http://testserver")
        browser.__enter__()
        browser.cookies.set(SESSION_COOKIE, token)
        if accept is not None:
            browser.headers["accept"] = accept
        browsers.append(browser)
        return browser

    try:
        yield sign_in
    finally:
        for browser in browsers:
            browser.__exit__(None, None, None)


def csrf_token(browser: TestClient, path: str) -> str:
    """The CSRF token of the first form on the page at `path`."""
    page = browser.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)
