"""Jinja2 set-up: message catalogs, Jalali dates and Persian digits for every page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from panjereh.core import jalali, persian
from panjereh.core.config import Settings
from panjereh.core.cookies import CSRF_COOKIE, LOCALE_COOKIE, LOCALE_MAX_AGE, read_cookie, set_cookie
from panjereh.core.i18n import negotiate_locale, translations
from panjereh.web.csrf import csrf_context

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

ContextProcessor = Callable[[Request], dict[str, Any]]


class Templates:
    """Renders pages in the request's locale; domains add context (the signed-in user, CSRF token)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(["html", "xml"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
        self.env.filters.update({name: _in_page_locale(fn) for name, fn in PAGE_FILTERS.items()})
        # `{% if value is date_value %}`: a date a registry sent, to be shown in Jalali.
        self.env.tests["date_value"] = lambda value: isinstance(value, date)
        self.context_processors: list[ContextProcessor] = [csrf_context]

    def locale_of(self, request: Request) -> str:
        """The locale this request is served in."""
        return negotiate_locale(request.query_params.get("lang"), read_cookie(request, LOCALE_COOKIE))

    def render(
        self, request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
    ) -> HTMLResponse:
        """A full page, in the request's locale."""
        locale = self.locale_of(request)
        catalog = translations(locale)
        values: dict[str, Any] = {
            "request": request,
            "locale": locale,
            "dir": "rtl" if locale == "fa" else "ltr",
            "settings": self.settings,
            "gettext": catalog.gettext,
            "ngettext": catalog.ngettext,
            "_": catalog.gettext,
            "list_separator": list_separator(locale),
            "percent_sign": "٪" if locale == "fa" else "%",
            "other_locale_url": locale_switch_url(request, "en" if locale == "fa" else "fa"),
        }
        for processor in self.context_processors:
            values.update(processor(request))
        values.update(context or {})
        html = self.env.get_template(name).render(values)
        response = HTMLResponse(html, status_code=status_code)
        nonce = getattr(request.state, "csrf_nonce", None)
        if nonce is not None:  # a form on this page needs the matching cookie
            set_cookie(response, self.settings, CSRF_COOKIE, nonce)
        if request.query_params.get("lang") in ("fa", "en"):
            set_cookie(response, self.settings, LOCALE_COOKIE, locale, max_age=LOCALE_MAX_AGE)
        return response

    def render_problem(self, request: Request, problem: dict[str, Any], status: int) -> Response:
        """The browser face of a problem: the same code and instance, as a Persian page."""
        return self.render(request, "error.html", {"problem": problem}, status_code=status)


def render_private(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """A page about one person (his wallet, whom he acts for): the app's templates, kept by no cache."""
    templates: Templates = request.app.state.templates
    response = templates.render(request, name, context, status_code=status_code)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def locale_switch_url(request: Request, locale: str) -> str:
    """This page in another locale: the same query (a search, its filters, the page) with `lang` set."""
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    return "?" + urlencode([*query, ("lang", locale)])


def _is_fa(context_locale: str | None) -> bool:
    return context_locale != "en"


def list_separator(locale: str = "fa") -> str:
    """What separates the items of a list: the Persian comma «، » on Persian pages, ", " on English ones."""
    return "، " if _is_fa(locale) else ", "


def format_digits(value: Any, locale: str = "fa") -> str:
    """Show digits in the reader's script (identifiers stay as they are stored)."""
    text = "" if value is None else str(value)
    return persian.to_persian_digits(text) if _is_fa(locale) else text


def format_number(value: int | float | None, locale: str = "fa") -> str:
    """A number with thousands separators, in Persian digits for Persian pages."""
    if value is None:
        return "—"
    if _is_fa(locale):
        return persian.format_number_fa(value)
    return f"{value:,}"


def format_date(value: date | datetime | None, locale: str = "fa") -> str:
    """A Jalali date; an instant is first converted to Tehran time, and only its day is shown."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = jalali.to_tehran(value).date()
    fa = _is_fa(locale)
    return jalali.format_jalali(value, persian_digits=fa, with_month_name=True, english=not fa)


def format_datetime(value: datetime | None, locale: str = "fa") -> str:
    """A Jalali date with the Tehran clock time."""
    if value is None:
        return "—"
    local = jalali.to_tehran(value)
    clock = local.strftime("%H:%M")
    return f"{format_date(local, locale)}{list_separator(locale)}{format_digits(clock, locale)}"


def format_money(rials: int | None, locale: str = "fa") -> str:
    """An amount in rials, and in tomans (a tenth) as people say it: «۱٬۱۵۰٬۰۰۰ ریال (۱۱۵٬۰۰۰ تومان)»."""
    if rials is None:
        return "—"
    if _is_fa(locale):
        return f"{persian.format_number_fa(rials)} ریال ({persian.format_number_fa(rials // 10)} تومان)"
    return f"{rials:,} rials ({rials // 10:,} tomans)"


PAGE_FILTERS: dict[str, Callable[..., str]] = {
    "jdate": format_date,
    "jdatetime": format_datetime,
    "num": format_number,
    "money": format_money,
    "digits": format_digits,
}


def _in_page_locale(fn: Callable[..., str]) -> Callable[..., str]:
    """Wrap a formatter so templates write `{{ when|jdate }}` and get the page's locale."""

    @pass_context
    def filter_(context: Context, value: Any) -> str:
        return fn(value, context.get("locale", "fa"))

    return filter_
