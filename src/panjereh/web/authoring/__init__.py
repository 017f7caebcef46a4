"""Authoring in the browser: an agency's service definitions, from a template or blank, edited, tried on
the real engine and in the sandbox, submitted, and published by a second person (issue 16, item 3).

`pages` holds the list, the new-definition forms and the editor; `trying` the live checks and the dry run;
`review` the reviewer's page. Every route is under `/workspace/{agency_code}/services` and names the staff
roles it needs (`staff.deps.agency_staff`); every action is audited (`staff.service.audit`)."""

from __future__ import annotations

from fastapi import FastAPI

from panjereh.web.authoring import pages, review, trying


def mount(app: FastAPI) -> None:
    """Attach the authoring pages (the fixed paths before the `{definition_id}` ones)."""
    app.include_router(pages.router)
    app.include_router(trying.router)
    app.include_router(review.router)
