"""Import and export of service cards: CSV and XLSX, row-by-row errors, all or nothing, round trips."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session

from panjereh.catalog import selectors, spreadsheet
from panjereh.catalog.exceptions import ImportRejected
from panjereh.catalog.seed import load_flagship

HEADER = [
    "service_id",
    "slug",
    "title_fa",
    "title_en",
    "life_event",
    "channels",
    "cost_rials",
    "offered_through_window",
    "maturity_level",
    "required_documents",
]
GOOD = [
    [
        "۱۲۰۳۱۵۷۴۰۰۰",
        "ict-domain",
        "ثبت دامنهٔ ملی",
        "National domain",
        "business",
        "web | app",
        "۱٬۵۰۰٬۰۰۰",
        "بله",
        "۴",
        "شناسهٔ ملی شرکت؛ نامهٔ رسمی",
    ],
    ["", "ict-landline", "درخواست تلفن ثابت", "Landline", "utilities", "web", "0", "no", "3", ""],
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_csv_import_folds_persian_digits_and_separators(db: Session, agencies, tmp_path: Path) -> None:
    report = spreadsheet.import_file(
        db, write_csv(tmp_path / "ict.csv", GOOD), agency_code="ict", actor="officer"
    )
    assert (report.rows, report.created, report.changed, report.unchanged) == (2, 2, 0, 0)
    card = selectors.get_service(db, "12031574000")
    assert card.agency.code == "ict" and card.cost_rials == 1_500_000 and card.declared_maturity_level == 4
    assert card.channels == ["web", "app"] and card.offered_through_window is True
    assert card.required_documents == ["شناسهٔ ملی شرکت", "نامهٔ رسمی"]
    assert card.updated_by == "officer" and card.version == 1
    generated = selectors.get_service_by_slug(db, "ict-landline")
    assert len(generated.service_id) == 11 and generated.service_id.isdigit()
    # The same file again: nothing changes, no new versions.
    again = spreadsheet.import_file(db, tmp_path / "ict.csv", agency_code="ict", actor="officer")
    assert (again.created, again.changed, again.unchanged) == (0, 0, 2) and card.version == 1


def test_xlsx_with_bad_rows_imports_nothing_and_names_every_error(
    db: Session, agencies, tmp_path: Path
) -> None:
    rows: list[list[object]] = [
        list(GOOD[0]),
        ["123", "bad-id", "عنوان درست", "", "business", "web", "0", "no", "3", ""],  # id not 11 digits
        ["", "Bad Slug!", "عنوان", "", "business", "web", "0", "no", "3", ""],  # slug
        ["", "latin-title", "Only Latin", "", "business", "web", "0", "no", "3", ""],  # no Persian
        ["", "bad-event", "عنوان فارسی", "", "wedding", "fax", "-5", "perhaps", "9", ""],  # several
        ["", "ict-domain", "تکرار", "", "business", "web", "0", "no", "3", ""],  # repeats row 2's slug
    ]
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(ImportRejected) as caught:
        spreadsheet.import_file(db, path, agency_code="ict", actor="officer")
    errors = {(e["row"], e["column"]) for e in caught.value.errors}
    assert (3, "service_id") in errors and (4, "slug") in errors and (5, "title_fa") in errors
    assert {(6, "life_event"), (6, "channels"), (6, "cost_rials"), (6, "offered_through_window")} <= errors
    assert (6, "maturity_level") in errors and (7, "slug") in errors
    assert all(e["message_fa"] for e in caught.value.errors)
    assert selectors.count_services(db) == 0  # the good first row was not imported either


def test_rows_of_another_agency_are_refused(db: Session, agencies, tmp_path: Path) -> None:
    header = ["slug", "agency", "title_fa", "life_event"]
    path = write_csv(
        tmp_path / "mixed.csv",
        [["a-one", "ict", "خدمت یک", "other"], ["a-two", "energy", "خدمت دو", "other"]],
        header,
    )
    with pytest.raises(ImportRejected) as caught:
        spreadsheet.import_file(db, path, agency_code="ict", actor="x")
    assert [(e["row"], e["column"]) for e in caught.value.errors] == [(3, "agency")]
    # Without --agency every row names its own, and unknown agencies are errors.
    path = write_csv(
        tmp_path / "own.csv",
        [["a-one", "ict", "خدمت یک", "other"], ["a-two", "nowhere", "خدمت دو", "other"]],
        header,
    )
    with pytest.raises(ImportRejected):
        spreadsheet.import_file(db, path, agency_code=None, actor="x")
    assert selectors.count_services(db) == 0


def test_a_card_of_another_agency_cannot_be_taken_over(
    db: Session, agencies, flagship, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "steal.csv",
        [["11030100001", "no-criminal-record", "گواهی", "", "documents", "web", "0", "no", "5", ""]],
    )
    with pytest.raises(ImportRejected) as caught:
        spreadsheet.import_file(db, path, agency_code="ict", actor="x")
    assert caught.value.errors[0]["column"] == "service_id"
    assert selectors.get_service_by_slug(db, "no-criminal-record").agency.code == "judiciary"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        ("latin1.csv", "slug,title_fa\nx,caf\xe9".encode("latin-1")),
        ("fake.xlsx", b"not a zip"),
        ("cards.txt", b"x"),
    ],
)
def test_malformed_files_are_rejected(
    db: Session, agencies, tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportRejected):
        spreadsheet.import_file(db, path, agency_code="ict", actor="x")


def test_unknown_and_missing_columns(db: Session, agencies, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cols.csv", [["x", "y"]], ["slug", "colour"])
    with pytest.raises(ImportRejected) as caught:
        spreadsheet.import_file(db, path, agency_code="ict", actor="x")
    assert {e["column"] for e in caught.value.errors} == {"colour", "title_fa", "life_event"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_round_trips(db: Session, flagship, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"all{suffix}"
    cards = len(load_flagship())
    assert spreadsheet.export_file(selectors.all_cards(db), path) == cards
    if suffix == ".xlsx":
        sheet = load_workbook(path).worksheets[0]
        assert [c.value for c in next(sheet.iter_rows(max_row=1))] == list(spreadsheet.COLUMNS)
    report = spreadsheet.import_file(db, path, agency_code=None, actor="x")
    assert (report.rows, report.unchanged) == (cards, cards)


def test_row_errors_are_told_in_persian_with_the_columns_persian_name(
    db: Session, agencies, tmp_path: Path
) -> None:
    header = ["slug", "title_fa", "life_event", "channels", "in_person_visits", "maturity_level"]
    rows = [
        ["", "عنوان فارسی", "other", "web", "0", "3"],  # row 2: missing slug
        ["long-title", "خ" * 301, "other", "web", "0", "3"],  # row 3: too long
        ["bad-event", "عنوان فارسی", "wedding", "fax", "0", "3"],  # row 4: not one of the choices (twice)
        ["bad-number", "عنوان فارسی", "other", "web", "دو", "9"],  # row 5: wrong type, above the maximum
        ["Bad Slug!", "Only Latin", "other", "web", "0", "3"],  # row 6: bad pattern, no Persian letters
    ]
    with pytest.raises(ImportRejected) as caught:
        spreadsheet.import_file(
            db, write_csv(tmp_path / "bad.csv", rows, header), agency_code="ict", actor="x"
        )
    fa = {(e["row"], e["column"]): e["message_fa"] for e in caught.value.errors}
    assert fa[(2, "slug")] == "ستون «نشانی خدمت» (slug) لازم است و خالی مانده است"
    assert fa[(3, "title_fa")] == "«عنوان فارسی» (title_fa) بیش از ۳۰۰ نویسه است"
    assert fa[(4, "life_event")].startswith("«wedding» از گزینه‌های «رویداد زندگی» (life_event) نیست؛")
    assert "birth (تولد)" in fa[(4, "life_event")]
    assert fa[(4, "channels")].startswith(
        "«fax» از گزینه‌های «شیوه‌های دریافت» (channels) نیست;".replace(";", "؛")
    )
    assert fa[(5, "in_person_visits")] == "«شمار مراجعهٔ حضوری» (in_person_visits): «دو» عدد صحیح نیست"
    assert fa[(5, "maturity_level")] == "«سطح بلوغ» (maturity_level) نباید بیشتر از ۵ باشد"
    assert fa[(6, "slug")].startswith("«نشانی خدمت» (slug) فقط حروف کوچک لاتین")
    assert fa[(6, "title_fa")] == "«عنوان فارسی» (title_fa) هیچ حرف فارسی ندارد"
    # pydantic's English stays in `message`, never inside the Persian one.
    assert not any("should" in message or "Value error" in message for message in fa.values())
    assert caught.value.errors[0]["message"] == "Field required"
