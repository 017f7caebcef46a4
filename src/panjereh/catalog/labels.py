"""Names of the catalog's codes in Persian and English, for pages and exports."""

from __future__ import annotations

from typing import Any

LIFE_EVENTS: dict[str, tuple[str, str]] = {
    "birth": ("تولد", "Birth"),
    "education": ("تحصیل", "Education"),
    "health": ("سلامت", "Health"),
    "tax": ("مالیات", "Tax"),
    "business": ("کسب‌وکار", "Business"),
    "social_security": ("تأمین اجتماعی", "Social security"),
    "property": ("ملک و دارایی", "Property"),
    "utilities": ("خدمات شهری و انشعاب‌ها", "Urban utilities"),
    "insurance": ("بیمه", "Insurance"),
    "marriage": ("ازدواج", "Marriage"),
    "retirement": ("بازنشستگی", "Retirement"),
    "documents": ("مدارک و گواهی‌ها", "Documents and certificates"),
    "death": ("فوت", "Death"),
    "other": ("سایر", "Other"),
}
CHANNELS: dict[str, tuple[str, str]] = {
    "web": ("وب", "Web"),
    "app": ("اپلیکیشن", "Mobile app"),
    "sms": ("پیامک", "SMS"),
    "ivr": ("تلفن گویا", "IVR"),
    "counter": ("پیشخوان دولت", "Government counter"),
    "post": ("دفاتر پست", "Post office"),
    "in_person": ("مراجعهٔ حضوری", "In person"),
}
KINDS: dict[str, tuple[str, str]] = {
    "G2C": ("دولت به شهروند", "Government to citizen"),
    "G2B": ("دولت به کسب‌وکار", "Government to business"),
    "G2G": ("دولت به دولت", "Government to government"),
}
MATURITY: dict[int, tuple[str, str]] = {
    0: ("غیرالکترونیکی", "Offline"),
    1: ("اطلاع‌رسانی", "Informational"),
    2: ("تعاملی", "Interactive"),
    3: ("تراکنشی (برخط)", "Transactional (online)"),
    4: ("یکپارچه", "Integrated"),
    5: ("هوشمند", "Smart"),
}
CONNECTION: dict[str, tuple[str, str]] = {
    "connected": ("متصل", "Connected"),
    "standard_lost": ("خارج از استاندارد؛ در حال اتصال دوباره", "Standard lost; reconnecting"),
    "disconnected": ("قطع", "Disconnected"),
    "not_connected": ("هنوز متصل نشده", "Not yet connected"),
}
KINDS_OF_AGENCY: dict[str, tuple[str, str]] = {
    "ministry": ("وزارتخانه", "Ministry"),
    "organization": ("سازمان", "Organization"),
    "subsidiary": ("سازمان تابعه", "Subsidiary"),
    "company": ("شرکت دولتی", "State company"),
    "judiciary": ("قوه", "Branch of power"),
    "other": ("سایر", "Other"),
}
# The columns of a service-card spreadsheet (and the card's fields), as import errors name them.
FIELDS: dict[str, tuple[str, str]] = {
    "service_id": ("شناسهٔ خدمت", "Service id"),
    "slug": ("نشانی خدمت", "Slug"),
    "agency": ("دستگاه", "Agency"),
    "title_fa": ("عنوان فارسی", "Persian title"),
    "title_en": ("عنوان انگلیسی", "English title"),
    "description_fa": ("شرح خدمت", "Description"),
    "kind": ("گیرندهٔ خدمت", "Recipient"),
    "life_event": ("رویداد زندگی", "Life event"),
    "category": ("دسته", "Category"),
    "initiation": ("شیوهٔ آغاز خدمت", "How it starts"),
    "required_documents": ("مدارک لازم", "Required documents"),
    "in_person_visits": ("شمار مراجعهٔ حضوری", "In-person visits"),
    "cost_rials": ("هزینه (ریال)", "Cost (rials)"),
    "channels": ("شیوه‌های دریافت", "Channels"),
    "duration_minutes": ("مدت متوسط (دقیقه)", "Average duration (minutes)"),
    "offered_through_window": ("ارائه در پنجرهٔ ملی", "Offered through the window"),
    "window_url": ("نشانی خدمت در سامانهٔ دستگاه", "Address in the agency's system"),
    "legal_basis": ("مبنای قانونی", "Legal basis"),
    "keywords": ("کلیدواژه‌ها", "Keywords"),
    "assurance_level": ("سطح اطمینان احراز هویت", "Assurance level"),
    "yearly_requests": ("درخواست در سال", "Requests a year"),
    "maturity_level": ("سطح بلوغ", "Maturity level"),
}
INITIATIONS: dict[str, tuple[str, str]] = {
    "citizen_request": ("درخواست شهروند", "Citizen's request"),
    "date_reached": ("رسیدن موعد", "A date is reached"),
    "event": ("رخداد", "An event"),
    "agency_decision": ("تصمیم دستگاه", "Agency's decision"),
}
# Who changed a card: the loaders' own actor ids; a person's id is shown as it is.
ACTORS: dict[str, tuple[str, str]] = {
    "seed": ("بارگذاری دادهٔ نمونه", "Demo data load"),
    "cli": ("ورود از خط فرمان", "Command-line import"),
}
# `derived:<source>`: the maturity level the platform derived (catalog.service.record_derived_maturity).
DERIVED_FROM: dict[str, tuple[str, str]] = {
    "delivery-definition": ("تعریف اجرایی خدمت", "the executable service definition"),
}
TABLES: dict[str, dict[Any, tuple[str, str]]] = {
    "life_event": LIFE_EVENTS,
    "channel": CHANNELS,
    "kind": KINDS,
    "maturity": MATURITY,
    "connection": CONNECTION,
    "agency_kind": KINDS_OF_AGENCY,
    "field": FIELDS,
    "initiation": INITIATIONS,
}


def label(table: str, value: object, locale: str = "fa") -> str:
    """The name of a code in the reader's language (the code itself when unknown)."""
    key = getattr(value, "value", value)
    names = TABLES[table].get(key)
    if names is None:
        return str(key)
    return str(names[0] if locale != "en" else names[1])


def actor(value: str, locale: str = "fa") -> str:
    """Who made a card version, in the reader's language (a person's id as it is stored)."""
    fa = locale != "en"
    if value.startswith("derived:"):
        source = value.removeprefix("derived:")
        fa_name, en_name = DERIVED_FROM.get(source, (f"«{source}»", source))
        return f"سامانه: سطح بلوغ برگرفته از {fa_name}" if fa else f"System: maturity derived from {en_name}"
    names = ACTORS.get(value)
    if names is None:
        return value
    return names[0] if fa else names[1]


def duration(minutes: int, locale: str = "fa") -> str:
    """An average duration in words: instant, hours or days."""
    fa = locale != "en"
    if minutes <= 0:
        return "بی‌درنگ" if fa else "Instant"
    if minutes < 60:
        return f"{minutes} دقیقه" if fa else f"{minutes} minutes"
    if minutes < 1440:
        hours = round(minutes / 60)
        return f"{hours} ساعت" if fa else f"{hours} hours"
    days = round(minutes / 1440)
    return f"{days} روز" if fa else f"{days} days"
