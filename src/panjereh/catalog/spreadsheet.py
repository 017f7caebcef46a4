"""Import and export of service cards as CSV or XLSX: every row checked first, then all or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook, load_workbook
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.catalog import labels, service
from panjereh.catalog.exceptions import ImportRejected
from panjereh.catalog.models import ServiceCard
from panjereh.catalog.schemas import ServiceCardIn
from panjereh.core.persian import fold_digits, to_persian_digits

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency

COLUMNS = (
    "service_id",
    "slug",
    "agency",
    *(field for field in service.AUTHORED_FIELDS if field != "slug"),
    "maturity_level",
)
REQUIRED_COLUMNS = ("slug", "title_fa", "life_event")
LIST_COLUMNS = ("required_documents", "channels", "keywords")
INT_COLUMNS = (
    "in_person_visits",
    "cost_rials",
    "duration_minutes",
    "assurance_level",
    "yearly_requests",
    "maturity_level",
)
LIST_SEPARATOR = " | "
TRUE = {"true", "yes", "1", "بله", "دارد", "آری", "y"}
FALSE = {"false", "no", "0", "خیر", "ندارد", "نه", "n", ""}
FORMATS = (".csv", ".xlsx")


# A row's validation problems in Persian, by pydantic's error type (and the card's own, in schemas.py).
# {name} is the column, as staff know it and as the header spells it; the other fields come from the error.
MESSAGES_FA: dict[str, str] = {
    "missing": "ستون {name} لازم است و خالی مانده است",
    "int_parsing": "{name} باید عدد صحیح باشد",
    "int_type": "{name} باید عدد صحیح باشد",
    "int_from_float": "{name} باید عدد صحیح باشد",
    "bool_parsing": "{name} باید «بله» یا «خیر» باشد",
    "bool_type": "{name} باید «بله» یا «خیر» باشد",
    "string_type": "{name} باید متن باشد",
    "list_type": "{name} باید فهرستی از موردها باشد (جداشده با «|» یا «؛»)",
    "string_too_short": "{name} دست‌کم {min_length} نویسه لازم دارد",
    "string_too_long": "{name} بیش از {max_length} نویسه است",
    "too_long": "{name} بیش از {max_length} مورد دارد",
    "string_pattern_mismatch": "{name} با الگوی لازم جور نیست",
    "enum": "«{input}» از گزینه‌های {name} نیست؛ گزینه‌ها: {choices}",
    "literal_error": "«{input}» از گزینه‌های {name} نیست؛ گزینه‌ها: {choices}",
    "greater_than_equal": "{name} نباید کمتر از {ge} باشد",
    "greater_than": "{name} باید بیشتر از {gt} باشد",
    "less_than_equal": "{name} نباید بیشتر از {le} باشد",
    "less_than": "{name} باید کمتر از {lt} باشد",
    "service_id_format": "{name} باید دقیقاً ۱۱ رقم باشد (یا خالی بماند تا پنجره آن را بسازد)",
    "slug_format": "{name} فقط حروف کوچک لاتین، رقم و خط تیرهٔ تکی می‌پذیرد (مانند no-criminal-record)",
    "title_not_persian": "{name} هیچ حرف فارسی ندارد",
    "title_empty_folded": "{name} پس از یکسان‌سازی نویسه‌ها خالی می‌ماند",
}
# The label table that names each choice column's codes (the file holds the codes).
CHOICE_LABELS = {
    "kind": "kind",
    "life_event": "life_event",
    "channels": "channel",
    "initiation": "initiation",
}


@dataclass(frozen=True)
class ImportReport:
    """What an accepted file did."""

    rows: int
    created: int
    changed: int
    unchanged: int


def _error(row: int, column: str, message_en: str, message_fa: str) -> dict[str, Any]:
    return {"row": row, "column": column, "message": message_en, "message_fa": message_fa}


def _column_fa(column: str) -> str:
    return f"«{labels.label('field', column)}» ({column})" if column else "ردیف"


def _message_fa(column: str, problem: ErrorDetails) -> str:
    """A validation problem in Persian, naming the column; never pydantic's English."""
    values: dict[str, Any] = {
        key: to_persian_digits(str(value)) if isinstance(value, int) else value
        for key, value in (problem.get("ctx") or {}).items()
    }
    values["name"] = _column_fa(column)
    values["input"] = problem.get("input")
    table = CHOICE_LABELS.get(column)
    if table is not None:
        values["choices"] = "، ".join(
            f"{code} ({labels.label(table, code)})" for code in labels.TABLES[table]
        )
    try:
        return MESSAGES_FA[problem["type"]].format_map(values)
    except KeyError:  # a rarer problem, or one without the detail its message names
        return f"مقدار {values['name']} معتبر نیست"


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV (UTF-8, with or without BOM) or XLSX file, as text keyed by header."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ImportRejected(
            [_error(0, "", f"Unsupported file type {suffix!r}", "نوع پرونده پشتیبانی نمی‌شود")]
        )
    if suffix == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ImportRejected(
                [_error(0, "", "The CSV is not UTF-8", "پروندهٔ CSV با UTF-8 ذخیره نشده است")]
            ) from None
        table = list(csv.reader(io.StringIO(text)))
    else:
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many types for a file that is not a workbook
            raise ImportRejected(
                [_error(0, "", "The file is not a valid XLSX workbook", "پرونده XLSX معتبر نیست")]
            ) from None
        sheet = workbook.worksheets[0]
        table = [
            ["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)
        ]
        workbook.close()
    if not table:
        raise ImportRejected([_error(1, "", "The file is empty", "پرونده خالی است")])
    header = [cell.strip().lower() for cell in table[0]]
    unknown = [name for name in header if name and name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    errors = [_error(1, name, f"Unknown column {name!r}", f"ستون ناشناخته «{name}»") for name in unknown]
    errors += [_error(1, name, f"Missing column {name!r}", f"ستون «{name}» نیست") for name in missing]
    if errors:
        raise ImportRejected(errors)
    rows: list[dict[str, str]] = []
    for values in table[1:]:
        if not any(cell.strip() for cell in values):
            rows.append({})  # keeps row numbers true to the file; blank rows are skipped later
            continue
        rows.append({name: (values[i] if i < len(values) else "") for i, name in enumerate(header) if name})
    return rows


def _split(value: str) -> list[str]:
    for separator in ("؛", ";", "\n"):
        value = value.replace(separator, "|")
    return [part.strip() for part in value.split("|") if part.strip()]


def _to_card(raw: dict[str, str], row: int, errors: list[dict[str, Any]]) -> ServiceCardIn | None:
    values: dict[str, Any] = {}
    for name, text in raw.items():
        if name == "agency":
            continue
        text = text.strip()
        if name in LIST_COLUMNS:
            values[name] = _split(text)
        elif name in INT_COLUMNS:
            if not text:
                continue
            number = fold_digits(text).replace(",", "").replace("٬", "")
            if not number.isascii() or not number.isdigit():
                errors.append(
                    _error(
                        row,
                        name,
                        f"{text!r} is not a whole number",
                        f"{_column_fa(name)}: «{text}» عدد صحیح نیست",
                    )
                )
                continue
            values[name] = int(number)
        elif name == "offered_through_window":
            lowered = text.lower()
            if lowered not in TRUE | FALSE:
                errors.append(
                    _error(
                        row,
                        name,
                        f"{text!r} is not yes or no",
                        f"{_column_fa(name)}: «{text}» بله یا خیر نیست",
                    )
                )
                continue
            values[name] = lowered in TRUE
        elif name == "window_url":
            values[name] = text or None
        elif not text and name in (*REQUIRED_COLUMNS, "kind", "initiation"):
            continue  # an empty required cell is reported as missing; an empty choice takes its default
        else:
            values[name] = text
    try:
        return ServiceCardIn(**values)
    except ValidationError as exc:
        for problem in exc.errors():
            column = str(problem["loc"][0]) if problem["loc"] else ""
            errors.append(_error(row, column, problem["msg"], _message_fa(column, problem)))
        return None


def validate_rows(
    session: Session, rows: Sequence[dict[str, str]], agency_code: str | None
) -> tuple[list[tuple[Agency, ServiceCardIn]], list[dict[str, Any]]]:
    """Check every row (cards, agencies, duplicates, ownership) without writing anything."""
    errors: list[dict[str, Any]] = []
    accepted: list[tuple[Agency, ServiceCardIn]] = []
    agencies = {agency.code: agency for agency in agency_selectors.list_agencies(session)}
    if agency_code is not None and agency_code not in agencies:
        raise ImportRejected(
            [_error(0, "agency", f"No agency {agency_code!r}", f"دستگاه «{agency_code}» نیست")]
        )
    seen_slugs: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for row, raw in enumerate(rows, start=2):
        if not raw:
            continue
        code = raw.get("agency", "").strip() or agency_code
        if code is None:
            errors.append(_error(row, "agency", "No agency given", "دستگاه مشخص نشده است"))
        elif agency_code is not None and code != agency_code:
            errors.append(
                _error(row, "agency", f"Row names {code!r}, not {agency_code!r}", f"ردیف از آنِ «{code}» است")
            )
        elif code not in agencies:
            errors.append(_error(row, "agency", f"No agency {code!r}", f"دستگاه «{code}» نیست"))
        card = _to_card(raw, row, errors)
        if card is None or code is None or code not in agencies:
            continue
        if card.slug in seen_slugs:
            errors.append(
                _error(row, "slug", f"Slug repeats row {seen_slugs[card.slug]}", "نشانی تکراری است")
            )
        seen_slugs[card.slug] = row
        if card.service_id:
            if card.service_id in seen_ids:
                errors.append(
                    _error(
                        row, "service_id", f"Id repeats row {seen_ids[card.service_id]}", "شناسه تکراری است"
                    )
                )
            seen_ids[card.service_id] = row
        errors += _ownership_errors(session, card, agencies[code], row)
        accepted.append((agencies[code], card))
    return accepted, errors


def _ownership_errors(
    session: Session, card: ServiceCardIn, agency: Agency, row: int
) -> list[dict[str, Any]]:
    errors = []
    by_slug = session.scalars(select(ServiceCard).where(ServiceCard.slug == card.slug)).one_or_none()
    existing = session.get(ServiceCard, card.service_id) if card.service_id else by_slug
    if (
        by_slug is not None
        and card.service_id
        and by_slug.service_id != card.service_id
        # A card its agency's publishing made takes the inventory's id (`upsert_card` moves it).
        and not service.can_adopt(session, by_slug, agency.code, card.service_id)
    ):
        errors.append(
            _error(
                row, "slug", f"Slug belongs to service {by_slug.service_id}", "این نشانی از آنِ خدمت دیگری است"
            )
        )
    if existing is not None and existing.agency_id != agency.id:
        errors.append(
            _error(
                row, "service_id", "The service belongs to another agency", "این خدمت از آنِ دستگاه دیگری است"
            )
        )
    return errors


def import_file(session: Session, path: Path, *, agency_code: str | None, actor: str) -> ImportReport:
    """Import a file's cards: if any row is wrong, raise ImportRejected with every error and write nothing."""
    rows = read_rows(path)
    accepted, errors = validate_rows(session, rows, agency_code)
    if errors:
        raise ImportRejected(errors)
    if not accepted:
        raise ImportRejected([_error(2, "", "The file has no rows", "پرونده هیچ ردیفی ندارد")])
    created = changed = 0
    with session.begin_nested():  # a failure half-way undoes the rows already written
        for agency, card in accepted:
            is_new = (card.service_id is None or session.get(ServiceCard, card.service_id) is None) and (
                session.scalars(select(ServiceCard.service_id).where(ServiceCard.slug == card.slug)).first()
                is None
            )
            _, did_change = service.upsert_card(
                session, card, agency=agency, actor=actor, note=f"import {path.name}"
            )
            created += is_new
            changed += did_change and not is_new
    return ImportReport(len(accepted), created, changed, len(accepted) - created - changed)


def card_row(card: ServiceCard) -> dict[str, Any]:
    """One card as a spreadsheet row (the columns an import reads back)."""
    data = service.snapshot(card)
    row: dict[str, Any] = {}
    for name in COLUMNS:
        value = data.get("declared_maturity_level") if name == "maturity_level" else data.get(name)
        if name in LIST_COLUMNS:
            value = LIST_SEPARATOR.join(value or [])
        elif name == "offered_through_window":
            value = "yes" if value else "no"
        row[name] = "" if value is None else value
    return row


def export_file(cards: Iterable[ServiceCard], path: Path) -> int:
    """Write cards to a CSV or XLSX file (by its suffix); returns how many."""
    rows = [card_row(card) for card in cards]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    elif suffix == ".xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("services")
        sheet.sheet_view.rightToLeft = True
        sheet.append(list(COLUMNS))
        for row in rows:
            sheet.append([row[name] for name in COLUMNS])
        workbook.save(path)
    else:
        raise ValueError(f"unsupported export format {suffix!r}; use .csv or .xlsx")
    return len(rows)
