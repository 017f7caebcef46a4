"""Documents: ES256 signatures issued and verified per second, whole issues and PDF renders per second.

Run: .venv/bin/python bench/bench_documents.py   (figures measured in one run; see docs/performance.md)
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from panjereh import migrations
from panjereh.agencies.seed import seed_agencies
from panjereh.core.config import Settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.documents import payload as signed
from panjereh.documents.keys import load_keyring
from panjereh.documents.service import issue_document
from panjereh.documents.verification import verify_payload
from panjereh.web.documents import render_pdf
from panjereh.web.templating import Templates


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="bench-documents-"))
    settings = Settings(env="development", home=home, log_level="WARNING")
    ring = load_keyring(settings)
    keys = ring.key_set()
    body = signed.build_claims(
        number="1404123456789012",
        document_type="no-criminal-record",
        issuer="judiciary",
        masked_subject="0499****99",
        masked_name="علی ر***",
        issued_at=signed.expiry_instant(date.today()),
        valid_until=date.today() + timedelta(days=90),
        claims={"record": "none", "purpose": "employment"},
    )

    n = 2000
    start = time.perf_counter()
    tokens = [signed.sign(body, ring.active) for _ in range(n)]
    sign_s = time.perf_counter() - start
    start = time.perf_counter()
    for token in tokens:
        signed.verify(token, keys)
    verify_s = time.perf_counter() - start

    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        seed_agencies(session, settings, lambda _count: None)
    issues = 300
    start = time.perf_counter()
    with unit_of_work(factory) as session:
        documents = [
            issue_document(
                session,
                settings,
                document_type="no-criminal-record",
                title_fa="گواهی عدم سوء پیشینه",
                title_en="Certificate of no criminal record",
                subject_national_code="0499370899",
                subject_name="علی رضایی",
                issuer_agency_code="judiciary",
                claims={"record": "none"},
                valid_until=date.today() + timedelta(days=90),
            )
            for _ in range(issues)
        ]
    issue_s = time.perf_counter() - start
    start = time.perf_counter()
    with unit_of_work(factory) as session:
        for document in documents:
            assert verify_payload(session, settings, document.payload).valid
    online_s = time.perf_counter() - start

    templates = Templates(settings)
    render_pdf(templates, settings, documents[0])  # fonts loaded once before timing
    renders = 20
    start = time.perf_counter()
    sizes = [len(render_pdf(templates, settings, documents[i])) for i in range(renders)]
    pdf_s = time.perf_counter() - start

    print(
        f"payload length: {len(tokens[0])} characters (QR text {len(tokens[0]) + 40} with the /verify link)"
    )
    print(f"ES256 signatures issued:           {rate(n, sign_s)}  ({sign_s / n * 1e6:,.0f} µs each)")
    print(f"ES256 signatures verified:         {rate(n, verify_s)}  ({verify_s / n * 1e6:,.0f} µs each)")
    print(f"documents issued (SQLite, 1 tx):   {rate(issues, issue_s)}")
    print(f"documents verified online (/verify logic, SQLite): {rate(issues, online_s)}")
    print(
        f"PDF renders (WeasyPrint, Vazirmatn, QR): {renders / pdf_s:,.1f}/s "
        f"({pdf_s / renders * 1000:,.0f} ms each, {sum(sizes) / len(sizes) / 1024:,.0f} KiB)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
