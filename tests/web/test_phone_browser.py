"""The window on a phone (390×844, headless Chromium) on the demo data: no page wider than the screen,
the header folded into a menu, the installable app (manifest, icons, service worker), a citizen's documents
readable offline (each one opened, and every one his wallet lists once the wallet was shown), gone after
logout and never shown to the next citizen on the same phone."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from panjereh import seeding
from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.core.db import make_sessionmaker, unit_of_work
from panjereh.documents.service import issue_document
from panjereh.identity import sessions
from panjereh.identity.selectors import get_citizen_by_national_code
from panjereh.registries.services import published_services
from panjereh.web import pwa
from panjereh.web.pwa import OFFLINE_DOCUMENTS, shell_version
from tests.support import databases
from tests.support.factories import DEMO_CITIZEN, create_citizen
from tests.support.markers import seeds_whole_demo
from tests.support.servers import free_port, running_server

pytestmark = [pytest.mark.browser, seeds_whole_demo]

PHONE = {"width": 390, "height": 844}
SECOND_CITIZEN = "2540201288"  # a demo officer, here a citizen with a full wallet on the same phone
PAGES = (
    "/",
    "/services",
    "/services/no-criminal-record",
    "/agencies",
    "/dashboard",
    "/dashboard/agencies",
    "/dashboard/mandates",
    "/verify",
    "/window",
    "/account",
    "/account/requests",
    "/documents",
    "/account/data-access",
    "/account/inbox",
    "/account/notices",
    "/account/sessions",
    "/account/my-data",
    "/account/feedback",
    "/services/no-criminal-record/feedback",
    "/status",
    "/accessibility",
)


@pytest.fixture(scope="module")
def phone_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The portal on the demo data, a signed-in session of the demo citizen and one document of theirs."""
    home = tmp_path_factory.mktemp("phone-home")
    port = free_port()
    phone = settings.model_copy(
        update={
            "home": home,
            "database_url": databases.fresh_database("phone", str(home)),
            "port": port,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    engine = databases.migrated_engine(phone.resolved_database_url)
    factory = make_sessionmaker(engine)
    for step in seeding.demo_steps(published_services(), "demo"):
        with unit_of_work(factory) as session:
            step.run(session, phone, lambda _n: None)
    with unit_of_work(factory) as session:
        for national_code in (DEMO_CITIZEN, SECOND_CITIZEN):
            if get_citizen_by_national_code(session, national_code) is None:  # the demo's staff seed made one
                create_citizen(session, national_code)
        document = _issue(session, phone, DEMO_CITIZEN, "گواهی عدم سوء پیشینه")
        number = document.number
        unopened = _issue(session, phone, DEMO_CITIZEN, "گواهی اشتغال به تحصیل").number
        # One more than the worker keeps; the first a day older, so the newest are the other ones.
        second = [_issue(session, phone, SECOND_CITIZEN, "گواهی سکونت") for _ in range(OFFLINE_DOCUMENTS + 1)]
        second[0].issued_at -= timedelta(days=1)
        second_numbers = [item.number for item in second]

    def sign_in(national_code: str = DEMO_CITIZEN) -> str:
        """A new session of the citizen (a test that logs out ends only its own)."""
        with unit_of_work(factory) as session:
            citizen = get_citizen_by_national_code(session, national_code)
            assert citizen is not None
            return sessions.open_session(session, citizen, level=2, amr=["otp"])[1]

    with running_server(create_app(phone), port=port) as url:
        yield {
            "url": url,
            "sign_in": sign_in,
            "number": number,
            "unopened": unopened,
            "second_numbers": second_numbers,
        }
    engine.dispose()


def _issue(session: Any, settings: Settings, national_code: str, title_fa: str) -> Any:
    """A valid document of the citizen's, as a decided request issues one."""
    return issue_document(
        session,
        settings,
        document_type="no-criminal-record",
        title_fa=title_fa,
        title_en="A certificate",
        subject_national_code=national_code,
        subject_name="علی رضایی",
        issuer_agency_code="judiciary",
        claims={"purpose": "employment"},
        valid_until=date.today() + timedelta(days=90),
    )


def _phone(browser: Any, server: dict[str, Any]) -> Any:
    """A phone-sized browser context signed in as the demo citizen."""
    # Not `is_mobile`: Chromium would then widen the layout viewport to fit the page, hiding the overflow.
    context = browser.new_context(viewport=PHONE, has_touch=True)
    context.add_cookies([{"name": SESSION_COOKIE, "value": server["sign_in"](), "url": server["url"]}])
    return context


def test_no_main_page_is_wider_than_a_phone(browser: Any, phone_server: dict[str, Any]) -> None:
    context = _phone(browser, phone_server)
    page = context.new_page()
    wide = {}
    for path in (*PAGES, f"/documents/{phone_server['number']}"):
        response = page.goto(phone_server["url"] + path, wait_until="load")
        assert response is not None and response.status == 200, path
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > min(width[1], PHONE["width"]):
            wide[path] = width
    assert wide == {}, f"pages wider than a 390px phone (scrollWidth, innerWidth): {wide}"
    context.close()


def test_the_header_folds_into_a_menu_with_my_pages(browser: Any, phone_server: dict[str, Any]) -> None:
    context = _phone(browser, phone_server)
    page = context.new_page()
    page.goto(phone_server["url"] + "/window", wait_until="networkidle")
    assert page.locator("#nav-toggler").is_visible()
    assert not page.locator("#site-nav a[href='/services']").is_visible()  # folded away
    menu = _open_user_menu(page)
    for path in (
        "/window",
        "/account/requests",
        "/documents",
        "/account/inbox",
        "/account/data-access",
        "/account/feedback",
    ):
        assert menu.locator(f"a[href='{path}']").is_visible(), path
    context.close()


def _open_user_menu(page: Any) -> Any:
    """Unfold the header (the toggler), then open the menu under the citizen's name."""
    page.locator("#nav-toggler").click()
    page.locator("#user-menu-button").wait_for(state="visible")
    page.wait_for_selector("#site-nav.show:not(.collapsing)")
    page.locator("#user-menu-button").click()
    menu = page.locator("#user-menu .dropdown-menu")
    menu.wait_for(state="visible")
    return menu


def _png_size(body: bytes) -> tuple[int, int]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", body[16:24])
    return width, height


def test_the_manifest_and_the_worker_are_served_with_their_types(phone_server: dict[str, Any]) -> None:
    url = phone_server["url"]
    manifest = httpx.get(url + "/manifest.webmanifest", timeout=60)
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["short_name"] == "پنجره" and body["lang"] == "fa" and body["dir"] == "rtl"
    assert body["start_url"] == "/window" and body["display"] == "standalone"
    sizes = set()
    for icon in body["icons"]:
        png = httpx.get(url + icon["src"], timeout=60)
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert f"{_png_size(png.content)[0]}x{_png_size(png.content)[1]}" == icon["sizes"]
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes
    worker = httpx.get(url + "/sw.js", timeout=60)
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "no-cache" in worker.headers["cache-control"]
    offline = httpx.get(url + "/offline", timeout=60)
    assert offline.status_code == 200 and "به اینترنت وصل نیستید" in offline.text


def _kept(page: Any) -> list[str]:
    """The pages the worker keeps, in any cache of documents (each owner's, and the one that names him)."""
    return page.evaluate(
        """async () => {
            const kept = [];
            for (const name of (await caches.keys()).filter((key) => key.startsWith('pj-documents'))) {
                const cache = await caches.open(name);
                kept.push(...(await cache.keys()).map((r) => new URL(r.url).pathname));
            }
            return kept.filter((path) => path !== '/__pj-owner');
        }"""
    )


def _kept_header(page: Any, path: str, header: str) -> str | None:
    """A header of the worker's kept copy of a page (None when it keeps none)."""
    return page.evaluate(
        """async ([path, header]) => {
            const kept = await caches.match(path);
            return kept ? kept.headers.get(header) : null;
        }""",
        [path, header],
    )


def _owner(page: Any) -> str:
    """Whose documents the worker keeps, wherever it stores that ("" when nobody's)."""
    return page.evaluate(
        """async () => {
            const stored = await caches.match('/__pj-owner');
            return stored ? stored.text() : '';
        }"""
    )


def _wait_until_kept(page: Any, paths: list[str], *, dropped: bool = False) -> None:
    """Wait (up to a minute: the worker works in the background) until it keeps these pages (or none of
    them, `dropped`). Polled from here: `wait_for_function` does not await a promise, so an async check
    would pass at once."""
    for _ in range(240):
        kept = set(_kept(page))
        if kept.isdisjoint(paths) if dropped else kept >= set(paths):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the worker keeps {sorted(kept)[:5]}, not as awaited for {sorted(paths)[:5]}")


def _with_worker(page: Any, url: str) -> None:
    """Open «my window» and wait until the service worker is active for the whole site."""
    page.goto(url + "/window", wait_until="networkidle")
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)") == url + "/"


def test_a_document_reads_offline_after_one_visit_and_is_gone_after_logout(
    browser: Any, phone_server: dict[str, Any]
) -> None:
    url, number = phone_server["url"], phone_server["number"]
    context = _phone(browser, phone_server)
    page = context.new_page()
    _with_worker(page, url)
    page.goto(url + f"/documents/{number}", wait_until="networkidle")
    _wait_until_kept(page, [f"/documents/{number}"])

    context.set_offline(True)
    page.goto(url + f"/documents/{number}")
    shown = page.locator("main").inner_text()
    assert "گواهی عدم سوء پیشینه" in shown
    assert page.locator("main img, main svg").count() >= 1  # the QR code
    page.goto(url + "/services")  # never kept: the offline page
    assert "به اینترنت وصل نیستید" in page.locator("main").inner_text()
    context.set_offline(False)

    page.goto(url + "/window", wait_until="networkidle")
    assert f"/documents/{number}" in _kept(page)
    _open_user_menu(page).locator("button[type=submit]").click()
    page.wait_for_url(url + "/")
    page.wait_for_load_state("networkidle")
    assert _kept(page) == []
    # Logging out removed the worker too (Clear-Site-Data); the one this page registers again keeps nothing.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    context.set_offline(True)
    page.goto(url + f"/documents/{number}")
    shown = page.locator("main").inner_text()
    assert "به اینترنت وصل نیستید" in shown and "گواهی عدم سوء پیشینه" not in shown
    context.close()


def test_the_wallet_shown_once_keeps_every_document_it_lists_for_offline_reading(
    browser: Any, phone_server: dict[str, Any]
) -> None:
    url, unopened = phone_server["url"], phone_server["unopened"]
    context = _phone(browser, phone_server)
    page = context.new_page()
    _with_worker(page, url)
    page.goto(url + "/documents", wait_until="networkidle")
    _wait_until_kept(page, ["/documents", f"/documents/{unopened}", f"/documents/{phone_server['number']}"])

    context.set_offline(True)
    page.goto(url + f"/documents/{unopened}")  # never opened on this phone
    assert "گواهی اشتغال به تحصیل" in page.locator("main h1").inner_text()
    qr = page.locator("main img.document-qr")
    assert (
        qr.get_attribute("src").startswith("data:image/svg+xml")
        and qr.evaluate("(img) => img.naturalWidth") > 0
    )
    note = page.locator("#offline-copy")
    assert note.is_visible() and "ذخیره‌شده در" in note.inner_text()
    page.goto(url + "/documents")
    assert page.locator("#offline-copy").is_visible()
    assert page.locator(f"a[href='/documents/{unopened}']").count() == 1
    context.set_offline(False)

    page.goto(url + f"/documents/{unopened}", wait_until="networkidle")  # online: the page itself, no note
    assert page.locator("#offline-copy").count() == 1 and not page.locator("#offline-copy").is_visible()
    context.close()


def test_the_next_citizen_on_the_same_phone_never_sees_the_first_ones_documents(
    browser: Any, phone_server: dict[str, Any]
) -> None:
    """The first citizen's session ends without a logout (it expired, so no Clear-Site-Data) and another
    signs in on the same phone: the first one's kept documents go at his first page; his own wallet is
    kept, bounded to the newest."""
    url, second = phone_server["url"], phone_server["second_numbers"]
    firsts = [f"/documents/{phone_server['number']}", f"/documents/{phone_server['unopened']}"]
    context = _phone(browser, phone_server)
    page = context.new_page()
    _with_worker(page, url)
    page.goto(url + "/documents", wait_until="networkidle")
    _wait_until_kept(page, firsts)

    context.clear_cookies()
    context.add_cookies(
        [{"name": SESSION_COOKIE, "value": phone_server["sign_in"](SECOND_CITIZEN), "url": url}]
    )
    page.goto(url + "/window", wait_until="networkidle")  # not the wallet: its list would replace them too
    _wait_until_kept(page, ["/documents", *firsts], dropped=True)
    context.set_offline(True)
    page.goto(url + firsts[0])
    shown = page.locator("main").inner_text()
    assert "به اینترنت وصل نیستید" in shown and "گواهی" not in shown
    context.set_offline(False)

    page.goto(url + "/documents", wait_until="networkidle")
    newest = [f"/documents/{item}" for item in second[1:]]
    _wait_until_kept(page, newest)
    assert sorted(_kept(page)) == sorted(["/documents", *newest])  # not the oldest: past the bound
    assert len(newest) == OFFLINE_DOCUMENTS
    context.set_offline(True)
    page.goto(url + newest[-1])
    assert "گواهی سکونت" in page.locator("main h1").inner_text()
    page.goto(url + f"/documents/{second[0]}")
    assert "به اینترنت وصل نیستید" in page.locator("main").inner_text()
    context.set_offline(False)
    context.close()


def test_a_release_keeps_the_owner_and_his_documents(
    browser: Any, phone_server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new shell (any change to a static file is one) replaces the worker and its shell cache; whose the
    documents are is kept with them, so the next page does not take the same citizen for a new one."""
    url, number = phone_server["url"], phone_server["number"]
    context = _phone(browser, phone_server)
    page = context.new_page()
    _with_worker(page, url)
    page.goto(url + f"/documents/{number}", wait_until="networkidle")
    _wait_until_kept(page, [f"/documents/{number}"])
    owner = _owner(page)
    assert owner != ""

    monkeypatch.setattr(pwa, "shell_version", lambda _assets: "0123456789abcdef")  # the next release
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    for _ in range(240):  # installed and activated: the last release's shell cache is gone
        shells = page.evaluate(
            "caches.keys().then((keys) => keys.filter((key) => key.startsWith('pj-shell-')))"
        )
        if shells == ["pj-shell-0123456789abcdef"]:
            break
        page.wait_for_timeout(250)
    assert shells == ["pj-shell-0123456789abcdef"]
    assert _owner(page) == owner and f"/documents/{number}" in _kept(page)

    context.set_offline(True)  # the page names its owner again: the same one, so his documents stay
    for _ in range(2):
        page.goto(url + f"/documents/{number}")
        assert "گواهی عدم سوء پیشینه" in page.locator("main h1").inner_text()
        page.wait_for_timeout(500)  # the worker has heard whose page it is
    context.set_offline(False)
    context.close()


def test_a_page_answered_for_another_citizen_is_never_kept_for_the_one_the_worker_knows(
    browser: Any, phone_server: dict[str, Any]
) -> None:
    """The worker knows the first citizen; the session becomes the second one's without a page telling it
    (a page fetched as he signs in, a store racing a logout): the page the server answers for the second is
    not kept, since its response names him, not the owner the worker knows."""
    url, second = phone_server["url"], phone_server["second_numbers"]
    context = _phone(browser, phone_server)
    page = context.new_page()
    _with_worker(page, url)
    page.goto(url + "/window", wait_until="networkidle")  # controlled by the worker, which knows its owner
    first_owner = _owner(page)
    assert first_owner != "" and page.evaluate("Boolean(navigator.serviceWorker.controller)")

    context.clear_cookies()
    context.add_cookies(
        [{"name": SESSION_COOKIE, "value": phone_server["sign_in"](SECOND_CITIZEN), "url": url}]
    )
    path = f"/documents/{second[-1]}"
    assert page.evaluate("(path) => fetch(path).then((r) => r.status)", path) == 200  # through the worker
    assert path not in _kept(page) and _owner(page) == first_owner
    context.set_offline(True)
    page.goto(url + path)
    assert "به اینترنت وصل نیستید" in page.locator("main").inner_text()
    context.set_offline(False)
    context.close()


def test_a_document_opened_online_is_kept_at_the_server_s_version_and_not_fetched_again(
    browser: Any, phone_server: dict[str, Any]
) -> None:
    url, number = phone_server["url"], phone_server["number"]
    path = f"/documents/{number}"
    context = _phone(browser, phone_server)
    page = context.new_page()
    _with_worker(page, url)
    page.goto(url + path, wait_until="networkidle")
    _wait_until_kept(page, [path])
    listed = page.evaluate("fetch('/offline/documents.json').then((r) => r.json())")
    versions = {item["url"]: item["version"] for item in listed["pages"]}
    assert _kept_header(page, path, "X-Pj-Offline-Version") == versions[path]  # as the list names it
    drawn = _kept_header(page, path, "Date")

    page.wait_for_timeout(1100)  # a page drawn again would carry a later Date
    page.goto(url + "/documents", wait_until="networkidle")
    for _ in range(240):
        if all(
            _kept_header(page, item, "X-Pj-Offline-Version") == version for item, version in versions.items()
        ):
            break
        page.wait_for_timeout(250)
    assert {item: _kept_header(page, item, "X-Pj-Offline-Version") for item in versions} == versions
    assert _kept_header(page, path, "Date") == drawn  # the wallet's pass did not fetch it again
    context.close()


def test_the_worker_s_list_is_the_signed_in_citizen_s_newest_documents(
    settings: Settings, phone_server: dict[str, Any]
) -> None:
    url, second = phone_server["url"], phone_server["second_numbers"]
    assert httpx.get(url + "/offline/documents.json", timeout=60).status_code == 401
    cookies = {SESSION_COOKIE: phone_server["sign_in"](SECOND_CITIZEN)}
    with httpx.Client(base_url=url, cookies=cookies, timeout=60) as client:
        listed = client.get("/offline/documents.json")
        owner = re.search(r'<meta name="pj-owner" content="([^"]*)">', client.get("/window").text)
        english = client.get("/offline/documents.json", params={"lang": "en"}).json()
    assert listed.headers["cache-control"] == "private, no-store"
    body = listed.json()
    assert owner and body["owner"] == owner.group(1) != ""
    assert body["limit"] == OFFLINE_DOCUMENTS
    assert {page["url"] for page in body["pages"]} == {f"/documents/{item}" for item in second[1:]}
    shell = shell_version(settings.assets_dir)  # a release that changes the page's shell is another copy
    assert {page["version"] for page in body["pages"]} == {f"valid.fa.{shell}"}
    assert {page["version"] for page in english["pages"]} == {f"valid.en.{shell}"}  # another language too


def test_a_kept_page_carries_its_offline_note_hidden_in_the_page_s_language(
    phone_server: dict[str, Any],
) -> None:
    cookies = {SESSION_COOKIE: phone_server["sign_in"]()}
    path = f"/documents/{phone_server['number']}"
    with httpx.Client(base_url=phone_server["url"], cookies=cookies, timeout=60) as client:
        persian = client.get(path).text
        english = client.get(path, params={"lang": "en"}).text
        wallet = client.get("/documents", params={"lang": "en"}).text
    persian_note = _offline_note(persian)
    assert "برای خواندن بی‌اینترنت" in persian_note
    assert re.search("ذخیره‌شده در [۰-۹]+ [^ ]+ [۰-۹]{4}", persian_note)  # a Jalali date in Persian digits
    assert "kept on this device for reading offline, saved on" in _offline_note(english)
    assert "a copy of your wallet" in _offline_note(wallet)


def _offline_note(html: str) -> str:
    """The page's offline note, written exactly as sw.js looks for it (OFFLINE_NOTE) to show it offline."""
    found = re.search(
        r'<p class="alert alert-secondary small" id="offline-copy" hidden role="status">(.*?)</p>', html
    )
    assert found is not None
    return found.group(1)


def _read_text(html: str) -> str:
    """What a reader sees of a page: no scripts, styles, drawings, code or form values; no addresses."""
    html = re.sub(r"(?is)<(script|style|svg|code|pre|textarea)[^>]*>.*?</\1>", " ", html)
    text = re.sub(r"(?s)<[^>]+>", " ", html)
    return re.sub(r"https?://\S+", " ", text)


def test_persian_pages_show_persian_digits(phone_server: dict[str, Any]) -> None:
    """A scan of the main pages, signed in, for Latin digits and the Latin thousands separator."""
    cookies = {SESSION_COOKIE: phone_server["sign_in"]()}
    latin: dict[str, list[str]] = {}
    with httpx.Client(base_url=phone_server["url"], cookies=cookies, timeout=30) as client:
        for path in (*PAGES, f"/documents/{phone_server['number']}"):
            text = _read_text(client.get(path).text)
            found = [text[max(0, m.start() - 20) : m.end() + 20] for m in re.finditer(r"[0-9]+", text)]
            found += re.findall(r".{0,20}[۰-۹],[۰-۹].{0,5}", text)
            if found:
                latin[path] = found[:3]
    assert latin == {}


def test_the_dashboard_names_its_ranking_and_its_scale(phone_server: dict[str, Any]) -> None:
    page = httpx.get(phone_server["url"] + "/dashboard", timeout=60).text
    heading = re.search(r'<h2 id="standings"[^>]*>(.*?)</h2>', page, re.S)
    assert heading and "سهم خدمات از طریق پنجره" not in heading.group(1)  # ranked by the headline duty
    assert "هوشمند" in heading.group(1)
    assert 'id="demo-scale"' in page and "۱:۱٬۰۰۰" in page


def test_the_charts_count_in_persian_digits_from_zero(browser: Any, phone_server: dict[str, Any]) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(phone_server["url"] + "/dashboard", wait_until="networkidle")
    page.wait_for_function(
        "document.getElementById('growth-chart') && !document.getElementById('growth-chart').hidden"
    )
    labels = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById('growth-chart'));
            const axes = ['users', 'visits'].map((axis) => chart.scales[axis]);
            return axes.flatMap((scale) => scale.ticks.map((tick) => String(tick.label)));
        }"""
    )
    assert "۰" in labels  # the axes start at zero, written as Persian zero
    assert not [label for label in labels if re.search(r"[0-9,]", label)], labels
    page.close()
