"""Signed-in browsers for page tests: a citizen row, a session as a login would open it, a TestClient."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.identity import sessions
from panjereh.identity.sessions import SESSION_COOKIE
from tests.support.factories import create_citizen


@contextmanager
def signed_in_browsers(db: Session, app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A factory of browsers, each signed in (level 2) as the citizen with that national code; each
    citizen is made on first use. The browsers are closed when the block ends."""
    browsers: list[TestClient] = []

    def sign_in(national_code: str) -> TestClient:
        citizen = create_citizen(db, national_code)
        _, token = sessions.open_session(db, citizen, level=2, amr=["otp"])
        db.commit()
        browser = TestClient(app, base_url="http://testserver")
        browser.__enter__()
        browser.cookies.set(SESSION_COOKIE, token)
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
