"""The agency workspace (`/workspace`): staff and roles, the audit trail, the operators' pages, apps."""

from __future__ import annotations

from fastapi import FastAPI

from panjereh.web.workspace import apps, common, connection, feedback, staff


def mount(app: FastAPI) -> None:
    """The workspace's pages (the operators' before an agency's: `/workspace/operator` is not an agency),
    and the header's link for staff."""
    app.state.templates.context_processors.append(common.workspace_link)
    app.include_router(staff.operator_router)
    app.include_router(apps.operator_router)
    app.include_router(staff.router)
    app.include_router(apps.router)
    app.include_router(connection.router)
    app.include_router(feedback.router)
