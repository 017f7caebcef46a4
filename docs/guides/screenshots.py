"""Regenerate the screenshots of docs/guides/agency-onboarding.md from the running product.

    .venv/bin/python docs/guides/screenshots.py [--home /tmp/panjereh-guide] [--port 8484]

Starts `panjereh demo` on a home and ports of its own (a fresh SQLite database), then walks the guide in
headless Chromium, each person signing in as anyone would (the SMS code from the demo's outbox, then the
authenticator app: the script reads the key the page shows and computes the code): the operator opens an
agency and names its administrator, the administrator appoints a designer and a reviewer, the designer
starts a service from a template and asks for the grants it needs, the providers' officers approve them,
the designer tries the service and submits it, the reviewer publishes it, and the demo citizen uses it.
Every picture is taken from the pages on the way, into docs/guides/img/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from panjereh.identity import totp
from panjereh.registries.personas import PERSONAS

ROOT = Path(__file__).resolve().parents[2]
IMAGES = Path(__file__).resolve().parent / "img"
MOBILES = {persona.national_code: persona.mobile for persona in PERSONAS}

OPERATOR = "0499370899"  # the demo citizen is also the demo's platform operator
ADMINISTRATOR, DESIGNER, REVIEWER, CITIZEN = "0067749828", "0084575948", "4032152314", "0499370899"
AGENCY = ("road-safety", "مرکز ایمنی راه", "Road Safety Centre")
SLUG = "driving-licence-statement"
# The data services the template's definition reads, each with the demo officer of its provider who
# decides the new agency's grant (delivery/seed.py, DEMO_PROVIDER_OFFICERS). The designer who asks is none
# of them: nobody approves a grant they asked for.
GRANTS = (("civil-registry.person", "nocr", "0076229645"), ("police.driving-licence", "police", "7400076205"))
LEGAL_BASIS = "آیین‌نامه اجرایی خدمات دولت هوشمند (۱۴۰۲)"


class Guide:
    def __init__(self, url: str, home: Path, browser) -> None:
        self.url, self.home, self.browser = url, home, browser
        self.pages: dict[str, Page] = {}

    def shot(self, page: Page, name: str, *, full: bool = False) -> None:
        page.screenshot(path=str(IMAGES / f"{name}.png"), full_page=full)
        print("  ", name)

    def person(self, national_code: str, *, picture: str | None = None) -> Page:
        """A browser signed in as this person at level 2 (SMS code, then the authenticator app)."""
        if national_code in self.pages:
            return self.pages[national_code]
        context = self.browser.new_context(viewport={"width": 1280, "height": 860}, locale="fa-IR")
        page = context.new_page()
        page.goto(self.url + "/login")
        if picture:
            self.shot(page, picture)
        page.fill("input[name=national_code]", national_code)
        page.fill("input[name=mobile]", MOBILES[national_code])
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url(re.compile(r"/login/verify"))
        page.fill("input[name=code]", self._sms_code(national_code))
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_url(re.compile(r"/(window|account)"))  # a login lands on my window
        page.goto(self.url + "/account/security")
        if page.locator("#totp-secret").count() == 0 and "totp/start" in page.content():
            page.locator("form[action='/account/security/totp/start'] button").click()
        secret = page.locator("#totp-secret").inner_text().strip()
        page.fill("#totp-code", totp.code_for(secret))
        page.locator("form[action='/account/security/totp/confirm'] button[type=submit]").click()
        page.wait_for_load_state()
        self.pages[national_code] = page
        return page

    def _sms_code(self, national_code: str) -> str:
        outbox, deadline = self.home / "outbox.jsonl", time.monotonic() + 30
        while time.monotonic() < deadline:
            lines = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
            for line in reversed(lines):
                message = json.loads(line)
                if '"identity.login_code"' in line and MOBILES[national_code] in json.dumps(message):
                    match = re.search(r"[0-9]{6,8}", message["body_fa"])
                    if match:
                        return match.group(0)
            time.sleep(0.2)
        raise SystemExit(f"no login code for {national_code} in {outbox}")


def walk(guide: Guide) -> None:
    code, name_fa, name_en = AGENCY
    url = guide.url

    # 1. The operator opens the agency and names its administrator.
    operator = guide.person(OPERATOR, picture="01-login")
    operator.goto(url + "/workspace/operator/agencies/new")
    operator.fill("#code", code)
    operator.fill("#name_fa", name_fa)
    operator.fill("#name_en", name_en)
    operator.fill("#administrator", ADMINISTRATOR)
    guide.shot(operator, "02-operator-new-agency")
    operator.locator("#new-agency button[type=submit]").click()
    operator.wait_for_load_state()
    guide.shot(operator, "03-operator-agency")

    # 2. The administrator appoints a designer and a reviewer.
    admin = guide.person(ADMINISTRATOR)
    for person, role in ((DESIGNER, "designer"), (REVIEWER, "reviewer")):
        admin.goto(f"{url}/workspace/{code}/staff")
        admin.fill("#appoint-form #national_code", person)
        admin.select_option("#appoint-form #role", role)
        admin.locator("#appoint-form button[type=submit]").click()
        admin.wait_for_load_state()
    guide.shot(admin, "04-administrator-staff")

    # 3. The designer starts the service from a template, asks for the grants it needs, sees it tested
    # live, tries it, submits it.
    designer = guide.person(DESIGNER)
    designer.goto(f"{url}/workspace/{code}")
    guide.shot(designer, "05-workspace-home")
    designer.goto(f"{url}/workspace/{code}/services/new")
    form = designer.locator("form[data-template=certificate_from_registry]")
    for field, value in {
        "slug": SLUG,
        "title.fa": "گواهی وضعیت گواهینامهٔ رانندگی",
        "title.en": "Driving licence statement",
        "answer.key": "licence",
        "answer.service": "police.driving-licence",
        "answer.label.fa": "گواهینامهٔ رانندگی",
        "answer.label.en": "Driving licence",
        "answer.why_fa": "گواهی بر پایهٔ پروندهٔ گواهینامهٔ شما صادر می‌شود",
    }.items():
        form.locator(f'[name="{field}"]').fill(value)
    guide.shot(designer, "06-designer-template", full=True)
    form.locator("button[type=submit]").click()
    designer.wait_for_selector("[data-check=pass]")
    editor_url = designer.url.split("#")[0]
    # The draft is saved; the editor names the data services the agency holds no grant for, and asks for
    # each from the same screen (a production grant, what publishing needs).
    designer.wait_for_selector("#grants[data-missing-grants]")
    designer.wait_for_selector("#jdm-editor .react-flow", timeout=20_000)
    guide.shot(designer, "07-designer-editor")
    for service, _provider, _officer in GRANTS:
        request = designer.locator(f'form[data-request-grant="{service}"]')
        request.locator("input[name=legal_basis]").fill(LEGAL_BASIS)
        request.locator("button[type=submit]").click()
        designer.wait_for_selector(f'[data-missing-grant="{service}"] [data-grant=requested]')

    # 4. Each provider's officer approves the new agency's request on the exchange's grants page.
    for service, provider, officer in GRANTS:
        approver = guide.person(officer)
        approver.goto(f"{url}/exchange/grants/{provider}")
        row = approver.locator(
            f'tr.grant[data-client="{code}"][data-service="{service}"][data-status=requested]'
        )
        row.locator("form[action$='/approve'] button[type=submit]").click()
        approver.wait_for_selector(
            f'tr.grant[data-client="{code}"][data-service="{service}"][data-status=approved]'
        )

    designer.goto(editor_url)
    designer.wait_for_selector("[data-check=pass]")
    designer.wait_for_selector("#jdm-editor .react-flow", timeout=20_000)
    designer.evaluate("document.getElementById('definition-title').scrollIntoView()")
    guide.shot(designer, "08-designer-decision-model")
    designer.select_option("#persona", "demo")
    designer.locator("#dry-run-button").click()
    designer.wait_for_selector("[data-dry-run]")
    designer.evaluate("document.getElementById('dry-run-section').scrollIntoView()")
    guide.shot(designer, "09-designer-dry-run")
    designer.locator("#submit-review").click()
    designer.wait_for_selector("#status[data-status=in_review]")

    # 5. The reviewer, a second person, reads the changes and the tests, and publishes.
    reviewer = guide.person(REVIEWER)
    reviewer.goto(editor_url + "/review")
    guide.shot(reviewer, "10-reviewer", full=True)
    reviewer.locator("#publish").click()
    reviewer.wait_for_selector("#status[data-status=published]")

    # 6. The service now has its catalog card, badged smart; the demo citizen uses it and the published
    # version decides at once.
    citizen = guide.person(CITIZEN)
    citizen.goto(f"{url}/services/{SLUG}/apply")
    guide.shot(citizen, "11-citizen-apply")
    citizen.locator("main form button[type=submit]").first.click()
    citizen.wait_for_selector("[data-state=approved]", timeout=60_000)
    guide.shot(citizen, "12-citizen-decided")


def _wait_ready(url: str, process: subprocess.Popen, log: Path, path: str = "/readyz") -> None:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args} stopped; see {log}")
        try:
            with urllib.request.urlopen(url + path, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"the demo did not start in time; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/panjereh-guide"))
    parser.add_argument("--port", type=int, default=8484)
    args = parser.parse_args()
    shutil.rmtree(args.home, ignore_errors=True)
    args.home.mkdir(parents=True)
    IMAGES.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        "PANJEREH_HOME": str(args.home),
        "PANJEREH_PORT": str(args.port),
        "PANJEREH_REGISTRIES_PORT": str(args.port + 1),
        "PANJEREH_PUBLIC_URL": url,
    }
    log = args.home / "demo.log"
    panjereh = str(ROOT / ".venv" / "bin" / "panjereh")
    registries_url = f"http://127.0.0.1:{args.port + 1}"
    with log.open("w") as out:
        # The registries first, given all the time they need (the demo allows them 30 s, and a busy
        # machine may take longer to draw the synthetic population); the demo then finds them running.
        registries = subprocess.Popen(
            [panjereh, "registries", "serve", "--port", str(args.port + 1)], env=env, stdout=out, stderr=out
        )
        _wait_ready(registries_url, registries, log, path="/healthz")
        demo = subprocess.Popen([panjereh, "demo"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        _wait_ready(url, demo, log)
        with sync_playwright() as playwright:
            executable = shutil.which("chromium") or shutil.which("chromium-browser")
            browser = playwright.chromium.launch(
                executable_path=executable, args=["--no-sandbox"], headless=True
            )
            walk(Guide(url, args.home, browser))
            browser.close()
    finally:
        for process in (demo, registries):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    print(f"screenshots in {IMAGES}", file=sys.stderr)


if __name__ == "__main__":
    main()
