"""Prometheus metrics: request counts and latency per route, one registry per application."""

from __future__ import annotations

import hmac
import time
from re import Pattern
from typing import Annotated, Any

from fastapi import Security
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from panjereh.core.errors import NotFound, Unauthenticated

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


metrics_bearer = HTTPBearer(
    scheme_name="metricsToken",
    description="The Prometheus scraper's token (`PANJEREH_METRICS_TOKEN`); unset, /metrics is off (404).",
    auto_error=False,  # a missing or wrong token is one problem (401 with WWW-Authenticate), as below
)
MetricsCredentials = Annotated[HTTPAuthorizationCredentials | None, Security(metrics_bearer)]


class HttpMetrics:
    """The collectors the portal exports at /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "panjereh_http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "panjereh_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def render(self, request: Request, credentials: MetricsCredentials) -> Response:
        """The Prometheus text exposition, to the holder of the metrics token alone (off without one)."""
        token = request.app.state.settings.resolved_metrics_token
        if token is None:
            raise NotFound()
        sent = credentials.credentials.strip() if credentials is not None else ""
        if not sent or not hmac.compare_digest(sent.encode(), token.encode()):
            raise Unauthenticated(headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """A pure ASGI middleware (no per-request task overhead) that times every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        application = scope.get("app")  # read now: a mounted sub-application may replace it in the scope

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = self.routes.template(scope, application)
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route, scope["method"]).observe(time.perf_counter() - started)


class RouteTemplates:
    """The full path template of the matched route, the metrics label ("/api/v1/services/{slug}").

    The template keeps label cardinality bounded; unmatched paths share one label. The route in the scope
    is not enough: a router included with a prefix leaves there its own route, whose path lacks the prefix
    (so `/api/v1/agencies` and the page `/agencies` would share a label), and Starlette routes and mounts
    (the API document, the vendored assets) leave only their endpoint. Both are looked up in a map read
    from the application's routes, each with its prefixes.
    """

    def __init__(self) -> None:
        # id(route or endpoint) -> (the object, kept so the id stays its own; [(path regex, template), ...])
        self._templates: dict[int, tuple[object, list[tuple[Pattern[str], str]]]] = {}

    def template(self, scope: Scope, application: Any) -> str:
        """The label of the request this scope served."""
        route, endpoint = scope.get("route"), scope.get("endpoint")
        for key in (route, endpoint):
            if key is None:
                continue
            entry = self._templates.get(id(key))
            if entry is None:
                self._read(application)  # routes added since the map was read (tests add some)
                entry = self._templates.setdefault(id(key), (key, []))
            candidates = entry[1]
            if len(candidates) == 1:
                return candidates[0][1]
            if candidates:  # one router included under two prefixes: the path tells which
                path = scope["path"].removeprefix(scope.get("app_root_path", ""))
                for regex, template in candidates:
                    if regex.match(path):
                        return template
        return getattr(route, "path", None) or "<unmatched>"

    def _read(self, application: Any) -> None:
        # Keys known to have no template stay known, so an unknown route costs one read, not one per request.
        templates = {key: entry for key, entry in self._templates.items() if not entry[1]}
        for context in iter_route_contexts(getattr(application, "routes", [])):
            template, regex = context.path_format, getattr(context, "path_regex", None)
            if template is None or regex is None:
                continue
            original = context.original_route
            # FastAPI leaves its route in the scope; Starlette routes leave their endpoint, and mounts the
            # application they serve.
            if isinstance(original, APIRoute):
                key: object = original
            elif isinstance(original, Mount):
                key = original.app
            else:
                key = context.endpoint or original
            entry = templates.get(id(key))
            if entry is None or not entry[1]:
                templates[id(key)] = entry = (key, [])
            entry[1].append((regex, template))
        self._templates = templates
