"""Checks over HTTP against each agency system: health, OpenAPI, authentication, errors, latency, TLS."""

from __future__ import annotations

import asyncio
import math
import re
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from panjereh.conformance.checks.base import (
    Outcome,
    ProbeContext,
    SystemCheck,
    describe_error,
    failed,
    passed,
    warned,
)
from panjereh.conformance.checks.suite import register

PROBLEM_JSON = "application/problem+json"
# Values put into path parameters of the probed operation; the call is refused before they are read.
PROBE_PARAMETERS = {"national_code": "0499370899", "postal_code": "1193653471"}


def _detail_of(response: httpx.Response) -> str:
    """The problem detail (or the start of the body) of a failed answer, for the reason text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:80]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or "")[:160]
    return ""


@register
class Reachable(SystemCheck):
    """The system answers its health check with 200 and a JSON body."""

    id = "reachable"
    name_en = "Reachable and healthy"
    name_fa = "در دسترس و سالم"
    order = 10
    gate = True

    async def run(self, ctx: ProbeContext) -> Outcome:
        url = ctx.target.health
        try:
            response = await ctx.http.get(url)
        except httpx.HTTPError as exc:
            return failed(
                f"The health check {url} failed: {describe_error(exc)}.",
                f"بررسی سلامت {url} ناموفق بود: پاسخی نیامد یا اتصال برقرار نشد.",
                unreachable=True,
                url=url,
            )
        if response.status_code >= 500:
            detail = _detail_of(response)
            return failed(
                f"The health check {url} answered HTTP {response.status_code}"
                + (f" ({detail})" if detail else "")
                + ".",
                f"بررسی سلامت {url} با کد HTTP {response.status_code} پاسخ داد؛ سامانه از دسترس خارج است.",
                unreachable=True,
                url=url,
                http_status=response.status_code,
            )
        if response.status_code != 200:
            return failed(
                f"The health check {url} answered HTTP {response.status_code}, not 200.",
                f"بررسی سلامت {url} به جای ۲۰۰ با کد HTTP {response.status_code} پاسخ داد.",
                url=url,
                http_status=response.status_code,
            )
        try:
            body = response.json()
        except ValueError:
            return failed(
                f"The health check {url} answered 200 with a body that is not JSON.",
                f"بررسی سلامت {url} کد ۲۰۰ داد اما پاسخ آن JSON نیست.",
                url=url,
            )
        status = body.get("status") if isinstance(body, dict) else None
        if status not in (None, "ok", "pass", "up"):
            return warned(
                f"The health check {url} answered 200 but reports status {status!r}.",
                f"بررسی سلامت {url} کد ۲۰۰ داد اما وضعیت خود را «{status}» اعلام کرد.",
                url=url,
            )
        return passed(
            f"The health check {url} answered 200.", f"بررسی سلامت {url} با کد ۲۰۰ پاسخ داد.", url=url
        )


@register
class OpenApiValid(SystemCheck):
    """The system publishes a valid OpenAPI description of what it answers."""

    id = "openapi"
    name_en = "OpenAPI description valid"
    name_fa = "توصیف OpenAPI معتبر"
    order = 20

    async def run(self, ctx: ProbeContext) -> Outcome:
        fetched = await ctx.openapi()
        url = ctx.target.openapi
        if fetched.document is None:
            return failed(
                f"No OpenAPI description: {fetched.reason_en}.",
                f"توصیف OpenAPI در دسترس نیست: {fetched.reason_fa}",
                url=url,
            )
        document = fetched.document
        try:
            # The validator walks the whole document; keep it off the event loop.
            await asyncio.to_thread(validate, document)
        except OpenAPIValidationError as exc:
            message = str(getattr(exc, "message", exc)).splitlines()[0][:200]
            return failed(
                f"The OpenAPI description at {url} is not valid: {message}",
                f"توصیف OpenAPI در {url} معتبر نیست: {message}",
                url=url,
            )
        except Exception as exc:  # the validator raises more than its own errors on odd documents
            return failed(
                f"The OpenAPI description at {url} could not be validated ({type(exc).__name__}).",
                f"توصیف OpenAPI در {url} قابل اعتبارسنجی نیست.",
                url=url,
            )
        version = str(document.get("openapi") or document.get("swagger") or "?")
        paths = len(document.get("paths") or {})
        return passed(
            f"The OpenAPI {version} description at {url} is valid ({paths} paths).",
            f"توصیف OpenAPI نسخهٔ {version} در {url} معتبر است ({paths} مسیر).",
            url=url,
            openapi_version=version,
            paths=paths,
        )


def protected_operation(document: dict[str, Any]) -> tuple[str, str] | None:
    """A (method, path) the document says needs credentials, GET preferred, with parameters filled in."""
    global_security = document.get("security") or []
    candidates: list[tuple[str, str]] = []
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            security = operation.get("security", global_security)
            if security:
                candidates.append((method.upper(), path))
    if not candidates:
        return None
    candidates.sort(key=lambda pair: (pair[0] != "GET", pair[1]))
    method, path = candidates[0]
    filled = re.sub(r"\{([^}]+)\}", lambda match: PROBE_PARAMETERS.get(match.group(1), "probe"), path)
    return method, filled


@register
class AuthenticationEnforced(SystemCheck):
    """A protected operation refuses a call without credentials (401 or 403)."""

    id = "authentication"
    name_en = "Authentication enforced"
    name_fa = "احراز هویت الزامی"
    order = 30

    async def run(self, ctx: ProbeContext) -> Outcome:
        fetched = await ctx.openapi()
        if fetched.document is None:
            return warned(
                "Not checked: without an OpenAPI description no protected operation is declared to call.",
                "بررسی نشد: بدون توصیف OpenAPI عملیات محافظت‌شده‌ای برای آزمودن معلوم نیست.",
            )
        operation = protected_operation(fetched.document)
        if operation is None:
            return failed(
                "The OpenAPI description declares no operation that needs credentials.",
                "توصیف OpenAPI هیچ عملیاتی را که به احراز هویت نیاز داشته باشد اعلام نکرده است.",
            )
        method, path = operation
        url = f"{ctx.target.base_url}{path}"
        try:
            response = await ctx.http.request(method, url, json={} if method != "GET" else None)
        except httpx.HTTPError as exc:
            return failed(
                f"The unauthenticated call {method} {path} failed: {describe_error(exc)}.",
                f"فراخوانی بدون احراز هویت {method} {path} ناموفق بود.",
                method=method,
                path=path,
            )
        if response.status_code in (401, 403):
            return passed(
                f"The unauthenticated call {method} {path} was refused with {response.status_code}.",
                f"فراخوانی بدون احراز هویت {method} {path} با کد {response.status_code} رد شد.",
                method=method,
                path=path,
                http_status=response.status_code,
            )
        return failed(
            f"The unauthenticated call {method} {path} answered {response.status_code}, not 401 or 403.",
            f"فراخوانی بدون احراز هویت {method} {path} با کد {response.status_code} پاسخ داد، نه ۴۰۱ یا ۴۰۳.",
            method=method,
            path=path,
            http_status=response.status_code,
        )


@register
class ErrorFormat(SystemCheck):
    """A failure is answered as RFC 9457 application/problem+json whose status matches the HTTP status."""

    id = "error-format"
    name_en = "Error format (problem+json)"
    name_fa = "قالب خطا (problem+json)"
    order = 40

    async def run(self, ctx: ProbeContext) -> Outcome:
        path = f"/conformance-probe-{secrets.token_hex(4)}"
        url = f"{ctx.target.base_url}{path}"
        try:
            response = await ctx.http.get(url, headers={"authorization": f"Bearer {ctx.token}"})
        except httpx.HTTPError as exc:
            return failed(
                f"The call to a missing path failed: {describe_error(exc)}.",
                "فراخوانی یک مسیر ناموجود ناموفق بود.",
                path=path,
            )
        status = response.status_code
        if status < 400:
            return failed(
                f"A path that does not exist ({path}) answered {status}; an error status was expected.",
                f"مسیری که وجود ندارد ({path}) با کد {status} پاسخ داد؛ باید خطا برمی‌گرداند.",
                path=path,
                http_status=status,
            )
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != PROBLEM_JSON:
            return failed(
                f"The error {status} came as {content_type or 'no content type'}, not {PROBLEM_JSON}.",
                f"خطای {status} با نوع محتوای «{content_type or 'نامشخص'}» آمد، نه {PROBLEM_JSON}.",
                path=path,
                http_status=status,
                content_type=content_type,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("title"), str):
            return failed(
                f"The error {status} is labelled problem+json but has no problem object with a title.",
                f"خطای {status} برچسب problem+json دارد اما شیء خطا با عنوان (title) ندارد.",
                path=path,
                http_status=status,
            )
        if body.get("status") not in (None, status):
            return failed(
                f"The problem's status member says {body.get('status')} but the HTTP status is {status}.",
                f"عضو status در پاسخ خطا {body.get('status')} است اما کد HTTP {status} است.",
                path=path,
                http_status=status,
            )
        return passed(
            f"Errors are problem+json (HTTP {status} for a missing path).",
            f"خطاها در قالب problem+json برگردانده می‌شوند (کد {status} برای مسیر ناموجود).",
            path=path,
            http_status=status,
        )


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of the samples (p95: fraction 0.95)."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@register
class LatencyWithinObjective(SystemCheck):
    """The p95 of N health probes is within the latency objective.

    The objective is the one the system's data services publish (the strictest, when several do), or
    `PANJEREH_CONFORMANCE_LATENCY_OBJECTIVE_MS` for a system that publishes none.
    """

    id = "latency"
    name_en = "Latency within the objective"
    name_fa = "زمان پاسخ در حد هدف"
    order = 50

    async def run(self, ctx: ProbeContext) -> Outcome:
        published = ctx.target.latency_objective_ms
        objective = published if published is not None else ctx.config.latency_objective_ms
        probes = ctx.config.latency_probes
        samples: list[float] = []
        failures = 0
        # One after another: the figure is the latency a single caller sees, not the system under load.
        for _ in range(probes):
            started = time.perf_counter()
            try:
                response = await ctx.http.get(ctx.target.health)
                ok = response.status_code < 500
            except httpx.HTTPError:
                ok = False
            samples.append((time.perf_counter() - started) * 1000)
            failures += 0 if ok else 1
        p95 = round(percentile(samples, 0.95), 1)
        figures = {
            "p95_ms": p95,
            "objective_ms": objective,
            "objective_from": "services" if published is not None else "settings",
            "probes": probes,
            "failed_probes": failures,
        }
        if failures:
            return failed(
                f"{failures} of {probes} latency probes failed (p95 {p95} ms).",
                f"{failures} از {probes} کاوش زمان پاسخ ناموفق بود (صدک ۹۵: {p95} میلی‌ثانیه).",
                **figures,
            )
        if p95 > objective:
            return failed(
                f"p95 of {probes} probes is {p95} ms, above the objective of {objective:g} ms.",
                f"صدک ۹۵ زمان پاسخ در {probes} کاوش {p95} میلی‌ثانیه است؛ بیش از هدف {objective:g} میلی‌ثانیه.",
                **figures,
            )
        return passed(
            f"p95 of {probes} probes is {p95} ms, within the objective of {objective:g} ms.",
            f"صدک ۹۵ زمان پاسخ در {probes} کاوش {p95} میلی‌ثانیه است؛ در حد هدف {objective:g} میلی‌ثانیه.",
            **figures,
        )


@register
class TransportSecurity(SystemCheck):
    """In production every address of the system is https; plain http is allowed only in development."""

    id = "tls"
    name_en = "TLS in production"
    name_fa = "TLS در محیط عملیاتی"
    order = 60

    async def run(self, ctx: ProbeContext) -> Outcome:
        target = ctx.target
        plain = sorted(
            {
                url
                for url in (target.base_url, target.openapi, target.health)
                if urlsplit(url).scheme != "https"
            }
        )
        if not plain:
            return passed("Every address of the system is https.", "همهٔ نشانی‌های سامانه https هستند.")
        if ctx.production:
            return failed(
                f"Plain http in production: {', '.join(plain)}; production requires https.",
                f"نشانی بدون رمزنگاری در محیط عملیاتی: {', '.join(plain)}؛ محیط عملیاتی https لازم دارد.",
                plain=plain,
            )
        return passed(
            f"Plain http accepted only because the platform runs in {ctx.settings.env} mode; "
            "production requires https.",
            "نشانی http فقط در حالت توسعه و آزمون پذیرفته می‌شود؛ محیط عملیاتی https لازم دارد.",
            plain=plain,
            env=ctx.settings.env,
        )
