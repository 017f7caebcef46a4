"""The application factory: builds the portal, API, exchange and OIDC provider from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.telemetry import TelemetryConfig
from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from panjereh.agencies import router as agencies_api
from panjereh.analytics.cache import DashboardFigures
from panjereh.analytics.router import router as analytics_router
from panjereh.analytics.visits import VisitMiddleware, VisitRecorder
from panjereh.catalog import router as catalog_api
from panjereh.catalog.search import IndexHolder
from panjereh.core.bodies import BodyGuardMiddleware
from panjereh.core.config import Settings, get_settings
from panjereh.core.cookies import SESSION_COOKIE, cookie_name
from panjereh.core.db import make_engine, make_sessionmaker, ping
from panjereh.core.headers import SecurityHeadersMiddleware, csp_nonce
from panjereh.core.logging import configure_logging, get_logger
from panjereh.core.metrics import HttpMetrics, MetricsMiddleware
from panjereh.core.problems import PROBLEM_RESPONSES, install_problem_handlers
from panjereh.core.redis import make_redis
from panjereh.core.requests import RequestIdMiddleware
from panjereh.delivery.router import router as delivery_api
from panjereh.documents.router import router as documents_api
from panjereh.exchange import gateway as exchange_gateway
from panjereh.exchange import router as exchange_router
from panjereh.exchange.auth import TOKEN_PATH
from panjereh.exchange.client import PlatformClient
from panjereh.exchange.registration import ExchangeRegistrationChecks
from panjereh.identity import deps as identity_deps
from panjereh.identity import ratelimit as identity_ratelimit
from panjereh.jobs import metrics as jobs_metrics
from panjereh.notify.router import router as notify_api
from panjereh.oidc import router as oidc_router
from panjereh.payments import metrics as payments_metrics
from panjereh.payments import providers as payment_providers
from panjereh.payments.router import router as payments_api
from panjereh.web import acting_api as web_acting_api
from panjereh.web import agencies as web_agencies
from panjereh.web import authoring as web_authoring
from panjereh.web import catalog as web_catalog
from panjereh.web import conformance as web_conformance
from panjereh.web import dashboard as web_dashboard
from panjereh.web import delivery as web_delivery
from panjereh.web import documents as web_documents
from panjereh.web import exchange as web_exchange
from panjereh.web import feedback as web_feedback
from panjereh.web import home as web_home
from panjereh.web import identity as web_identity
from panjereh.web import mywindow as web_mywindow
from panjereh.web import notify as web_notify
from panjereh.web import oidc as web_oidc
from panjereh.web import payments as web_payments
from panjereh.web import pwa as web_pwa
from panjereh.web import representation as web_representation
from panjereh.web import wallet as web_wallet
from panjereh.web import workspace as web_workspace
from panjereh.web.templating import Templates
from panjereh.worker import INPROCESS_CONCURRENCY, start_inprocess

log = get_logger(__name__)

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build an application; nothing connects to a database until the app starts serving."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    settings.ensure_home()

    # Before the engine is made: the SQLAlchemy instrumentation traces engines created after it.
    telemetry: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
    if settings.opentelemetry:
        from panjereh.core import otel

        telemetry = {"tracer_provider": otel.install()}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("startup", database=app.state.engine.url.render_as_string(hide_password=True))
        worker = (
            start_inprocess(settings, app.state.sessionmaker, app.state.exchange)
            if settings.inprocess_worker
            else None
        )
        yield
        if worker is not None:
            # Uvicorn has drained the requests by now (PANJEREH_GRACEFUL_TIMEOUT); the jobs in flight get
            # as long again, then go back to the queue for another worker (not after their lease).
            worker.stop(grace=settings.graceful_timeout)
            worker.join(timeout=settings.graceful_timeout + 10)
        await app.state.exchange.aclose()
        app.state.exchange.close()
        app.state.visits.close()
        if app.state.redis is not None:
            app.state.redis.close()
        app.state.engine.dispose()

    app = FastAPI(
        title="Panjereh — national window of smart government services",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by _add_api_docs, under its own content security policy
        redoc_url=None,
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        telemetry=telemetry,
    )
    app.state.settings = settings
    # A delivery job holds a connection while its registries are asked (its outcome's transaction is
    # open beside them, see delivery.processing): the in-process worker's jobs get room of their own.
    worker_room = INPROCESS_CONCURRENCY if settings.inprocess_worker else 0
    app.state.engine = make_engine(
        settings.resolved_database_url, echo=settings.db_echo, pool_size=settings.sql_pool_size + worker_room
    )
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.state.redis = make_redis(settings.redis_url) if settings.redis_url else None
    app.state.login_throttles = identity_ratelimit.throttles(settings)
    app.state.templates = Templates(settings)

    metrics = HttpMetrics()
    app.state.metrics = metrics
    jobs_metrics.register(metrics.registry, lambda: app.state.sessionmaker())
    payments_metrics.register(metrics.registry)
    app.state.payment_provider = payment_providers.from_settings(settings)
    # Resolved per call: tests swap app.state.sessionmaker after the factory returns.
    app.state.exchange = PlatformClient(
        settings, lambda: app.state.sessionmaker(), metrics_registry=metrics.registry
    )
    # Registration asks Shahkar and the civil registry through the exchange (identity names the checks).
    app.state.registration_checks = ExchangeRegistrationChecks(app.state.exchange)
    app.state.catalog_index = IndexHolder()
    app.state.dashboard_figures = DashboardFigures()
    oidc_router.install(app)
    install_problem_handlers(app, html_renderer=app.state.templates.render_problem)
    _add_operations_routes(app, metrics)
    _add_api_docs(app)
    _complete_security_schemes(app, settings)
    # Routes are matched in order: the machine hot paths (the exchange gateway, then the OIDC token and
    # userinfo endpoints) come before the ~100 portal routes.
    app.include_router(exchange_gateway.router)
    app.include_router(oidc_router.router)
    web_home.mount(app, settings)
    app.include_router(delivery_api, prefix=API_PREFIX)
    web_delivery.mount(app)
    web_feedback.mount(app)
    app.include_router(payments_api, prefix=API_PREFIX)
    web_payments.mount(app)
    web_dashboard.mount(app)
    app.include_router(analytics_router, prefix=API_PREFIX)
    # Visits are buffered in memory and written by a background thread (tests flush by hand).
    app.state.visits = VisitRecorder(
        settings, lambda: app.state.sessionmaker, background=settings.env != "test"
    )
    app.add_middleware(VisitMiddleware, recorder=app.state.visits)
    app.include_router(agencies_api.router, prefix=API_PREFIX)
    app.include_router(catalog_api.router, prefix=API_PREFIX)
    app.include_router(web_catalog.router)
    app.include_router(web_agencies.router)
    app.include_router(documents_api, prefix=API_PREFIX)
    web_documents.mount(app)
    web_wallet.mount(app)
    app.include_router(exchange_router.router, prefix=API_PREFIX)
    app.include_router(web_exchange.router)
    identity_deps.install(app)
    web_workspace.mount(app)
    app.include_router(web_identity.router)
    web_mywindow.mount(app)
    web_notify.mount(app)
    app.include_router(notify_api, prefix=API_PREFIX)
    web_representation.mount(app)
    app.include_router(web_acting_api.router, prefix=API_PREFIX)
    web_pwa.mount(app)
    app.include_router(web_oidc.router)
    app.include_router(oidc_router.admin_router, prefix=API_PREFIX)
    web_conformance.mount(app)
    web_authoring.mount(app)

    # Innermost of the edge's middleware: a refused body is still given its headers, counted and its id.
    app.add_middleware(BodyGuardMiddleware, limits=settings.max_body)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.env == "production")
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    if settings.trusted_proxies:
        # Outermost, so every layer (rate limits, logs, sessions) sees the client the proxy saw; uvicorn's
        # own copy is off (cli.serve), which would believe any local peer.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


SWAGGER_CDN = "https://cdn.jsdelivr.net"


def _complete_security_schemes(app: FastAPI, settings: Settings) -> None:
    """The API document's security schemes come from the routes' security dependencies; what only the
    deployment knows is written in here: the session cookie's name (`__Host-` prefixed over HTTPS) and
    the absolute addresses of the OIDC discovery document and the exchange's token endpoint."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemes = generate().get("components", {}).get("securitySchemes", {})
            session = schemes.get(identity_deps.session_cookie.scheme_name)
            if session is not None:
                session["name"] = cookie_name(SESSION_COOKIE, settings.cookies_secure)
            discovery = schemes.get(oidc_router.openid_connect.scheme_name)
            if discovery is not None:
                discovery["openIdConnectUrl"] = settings.base_url + oidc_router.DISCOVERY_PATH
            exchange = schemes.get(exchange_router.exchange_client.scheme_name)
            if exchange is not None:
                exchange["flows"]["clientCredentials"]["tokenUrl"] = settings.base_url + TOKEN_PATH
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _add_api_docs(app: FastAPI) -> None:
    """The API's interactive docs (Swagger UI from its CDN): its one inline script carries a nonce."""

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        nonce = csp_nonce(request.scope.setdefault("state", {}))
        page = get_swagger_ui_html(openapi_url=app.openapi_url or "", title=f"{app.title} — API")
        html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">')
        policy = (
            f"default-src 'self'; script-src 'self' {SWAGGER_CDN} 'nonce-{nonce}'; "
            f"style-src 'self' {SWAGGER_CDN}; "
            "img-src 'self' data: https://fastapi.tiangolo.com; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'"
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})


def _add_operations_routes(app: FastAPI, metrics: HttpMetrics) -> None:
    """Liveness and readiness (kept out of the public API document) and Prometheus metrics."""

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            ping(request.app.state.engine)
            checks["database"] = "ok"
        except Exception as exc:  # readiness reports every failure; it never raises
            checks["database"] = f"error: {type(exc).__name__}"
        if request.app.state.redis is not None:
            try:
                request.app.state.redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"error: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
        )

    # In the API document (with its bearer scheme) so a scraper's operator can read how to call it.
    app.add_api_route(
        "/metrics",
        metrics.render,
        methods=["GET"],
        tags=["operations"],
        summary="Prometheus metrics (text exposition format)",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "The metrics"}},
    )
