"""Fixed named personas placed at the front of every synthetic population.

Each persona exercises one path of the platform (a clean adult, a minor, a deceased person, a
criminal record, a tax debt, ...). Their national codes are the valid test vectors of domain.md
§4, so they are synthetic and easy to recognise. Registry facts a persona does not override are
"clean" (no debt, no record, nothing owned), never random, so each persona isolates one trait.
The table in ``docs/protocols/registries.md`` mirrors this module; a test holds them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from panjereh.registries.people import Address, CivilRecord


@dataclass(frozen=True, slots=True)
class Persona(CivilRecord):
    """A hand-written citizen with the registry facts that make it interesting."""

    key: str
    role: str
    mobile: str
    address: Address
    death_date: date | None = None
    extra_sims: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)


# The demo citizen and his daughter (the minor persona) live at one address.
_REZAEI_HOME = Address(
    province="تهران", city="تهران", street="آزادی", alley="لاله", plaque=12, unit=3, postal_code="1193653471"
)
_DEMO_EMPLOYER = {"legal_entity_id": "77111986110", "name": "شرکت نمونه فناوری آریا"}

PERSONAS: tuple[Persona, ...] = (
    Persona(
        key="demo",
        role="demo adult citizen with a clean record",
        national_code="0499370899",
        first_name="علی",
        last_name="رضایی",
        father_name="محمد",
        gender="male",
        birth_date=date(1985, 6, 12),
        mobile="09121234567",
        extra_sims=("09351234567",),
        address=_REZAEI_HOME,
        facts={
            "driving_licence": {
                "number": "9012345678",
                "class": "پایه سوم",
                "issued_on": "2019-05-04",
                "valid_until": "2029-05-04",
            },
            "education_degrees": [
                {
                    "level": "کارشناسی",
                    "field": "مهندسی کامپیوتر",
                    "institution": "دانشگاه تهران",
                    "graduated_on": "2008-07-20",
                }
            ],
            "social_security": {
                "months": 180,
                "employer": _DEMO_EMPLOYER,
                "status": "active",
                "last_contribution_on": "2026-02-19",
            },
        },
    ),
    Persona(
        key="minor",
        role="under 18 (the demo citizen's daughter), at school",
        national_code="0790419904",
        first_name="زهرا",
        last_name="رضایی",
        father_name="علی",
        gender="female",
        birth_date=date(2012, 9, 23),
        mobile="09121234568",
        address=_REZAEI_HOME,
        facts={
            "tax": {"taxpayer": False, "debt_rials": 0, "last_filed_year": None},
            "education_enrollment": {
                "institution": "دبیرستان دخترانه فرزانگان",
                "level": "متوسطه اول",
                "field": None,
                "since": "2024-09-22",
                "status": "enrolled",
            },
        },
    ),
    Persona(
        key="deceased",
        role="deceased (died 25 Dey 1402); his SIM is still registered",
        national_code="1583250689",
        first_name="حسن",
        last_name="کریمی",
        father_name="رضا",
        gender="male",
        birth_date=date(1948, 2, 10),
        death_date=date(2024, 1, 15),
        mobile="09131234569",
        address=Address(
            province="اصفهان", city="اصفهان", street="چهارباغ", plaque=40, postal_code="8173614385"
        ),
    ),
    Persona(
        key="convicted",
        role="adult with a criminal record",
        national_code="0684159414",
        first_name="مهدی",
        last_name="قاسمی",
        father_name="عباس",
        gender="male",
        birth_date=date(1979, 4, 2),
        mobile="09151234570",
        address=Address(
            province="خراسان رضوی", city="مشهد", street="امام‌رضا", plaque=77, unit=5, postal_code="9185743916"
        ),
        facts={
            "criminal_records": [
                {
                    "case_number": "9809981234500123",
                    "offence": "صدور چک بلامحل",
                    "verdict_on": "2021-02-14",
                    "sentence": "شش ماه حبس تعلیقی",
                }
            ],
        },
    ),
    Persona(
        key="tax_debtor",
        role="adult with unpaid taxes (125,000,000 rials)",
        national_code="0084575948",
        first_name="مریم",
        last_name="احمدی",
        father_name="حسین",
        gender="female",
        birth_date=date(1982, 12, 1),
        mobile="09191234571",
        address=Address(
            province="تهران", city="تهران", street="کارگر", plaque=150, unit=8, postal_code="1437663195"
        ),
        facts={"tax": {"taxpayer": True, "debt_rials": 125_000_000, "last_filed_year": 1402}},
    ),
    Persona(
        key="vehicle_owner",
        role="owns a car and holds a driving licence",
        national_code="0067749828",
        first_name="رضا",
        last_name="کاظمی",
        father_name="اکبر",
        gender="male",
        birth_date=date(1975, 8, 30),
        mobile="09121234572",
        address=Address(province="البرز", city="کرج", street="بهشتی", plaque=9, postal_code="3158916745"),
        facts={
            "vehicles": [
                {
                    "plate": {
                        "two": "22",
                        "letter": "ب",
                        "three": "365",
                        "region": "68",
                        "text": "۲۲ب۳۶۵ ایران ۶۸",
                    },
                    "model": "پژو ۲۰۶",
                    "color": "سفید",
                    "model_year": 1398,
                }
            ],
            "driving_licence": {
                "number": "9034567812",
                "class": "پایه دوم",
                "issued_on": "2016-10-11",
                "valid_until": "2026-10-11",
            },
        },
    ),
    Persona(
        key="property_owner",
        role="owns an apartment and a plot of land",
        national_code="4032152314",
        first_name="فاطمه",
        last_name="موسوی",
        father_name="جواد",
        gender="female",
        birth_date=date(1968, 3, 5),
        mobile="09131234573",
        address=Address(
            province="اصفهان", city="اصفهان", street="حافظ", plaque=31, unit=2, postal_code="8159755341"
        ),
        facts={
            "properties": [
                {
                    "deed_serial": "140120302001000123",
                    "kind": "آپارتمان",
                    "area_m2": 112,
                    "province": "تهران",
                    "city": "تهران",
                    "registry_plate": "4512/87",
                    "share_dang": 6,
                    "registered_on": "2013-06-18",
                },
                {
                    "deed_serial": "140120302001000456",
                    "kind": "زمین",
                    "area_m2": 300,
                    "province": "اصفهان",
                    "city": "نجف‌آباد",
                    "registry_plate": "118/3",
                    "share_dang": 3,
                    "registered_on": "2019-01-27",
                },
            ],
        },
    ),
    Persona(
        key="student",
        role="university student (enrolled)",
        national_code="0076229645",
        first_name="سارا",
        last_name="حق‌شناس",
        father_name="مسعود",
        gender="female",
        birth_date=date(2004, 11, 2),
        mobile="09351234574",
        address=Address(
            province="تهران",
            city="تهران",
            street="انقلاب",
            alley="نسترن",
            plaque=4,
            unit=1,
            postal_code="1411713876",
        ),
        facts={
            "education_enrollment": {
                "institution": "دانشگاه تهران",
                "level": "کارشناسی",
                "field": "مهندسی کامپیوتر",
                "since": "2022-09-23",
                "status": "enrolled",
            },
            "education_degrees": [
                {
                    "level": "دیپلم",
                    "field": "ریاضی و فیزیک",
                    "institution": "آموزش و پرورش",
                    "graduated_on": "2022-06-20",
                }
            ],
        },
    ),
    Persona(
        key="disabled",
        role="has a welfare disability record",
        national_code="7400076205",
        first_name="امید",
        last_name="نوری",
        father_name="ناصر",
        gender="male",
        birth_date=date(1990, 1, 17),
        mobile="09361234575",
        address=Address(province="فارس", city="شیراز", street="زند", plaque=58, postal_code="7134845997"),
        facts={
            "disability": {
                "file_number": "710045872",
                "type": "جسمی-حرکتی",
                "severity": "شدید",
                "registered_on": "2015-05-09",
            },
        },
    ),
    Persona(
        key="retiree",
        role="retired after 30 years of social-security contributions",
        national_code="2540201288",
        first_name="پرویز",
        last_name="صادقی",
        father_name="قاسم",
        gender="male",
        birth_date=date(1960, 7, 21),
        mobile="09171234576",
        address=Address(
            province="آذربایجان شرقی", city="تبریز", street="ولیعصر", plaque=203, postal_code="5163937468"
        ),
        facts={
            "social_security": {
                "months": 360,
                "status": "retired",
                "last_contribution_on": "2020-06-20",
                "employer": {"legal_entity_id": "10380284790", "name": "شرکت نمونه صنایع پارس"},
            },
        },
    ),
    Persona(
        key="uninsured",
        role="health insurance expired (no active coverage)",
        national_code="0068415941",
        first_name="نرگس",
        last_name="یزدانی",
        father_name="بهروز",
        gender="female",
        birth_date=date(1995, 5, 14),
        mobile="09901234577",
        address=Address(province="یزد", city="یزد", street="کاشانی", plaque=17, postal_code="8915736814"),
        facts={
            "health_insurance": {
                "insurer_code": "ihio",
                "insurer": "سازمان بیمه سلامت ایران",
                "fund": "ایرانیان",
                "valid_until": "2023-03-20",
            },
        },
    ),
)

# Facts every persona has unless it overrides them: covered by health insurance, nothing else.
PERSONA_DEFAULT_FACTS: dict[str, Any] = {
    "tax": {"taxpayer": True, "debt_rials": 0, "last_filed_year": 1404},
    "vehicles": [],
    "driving_licence": None,
    "criminal_records": [],
    "health_insurance": {
        "insurer_code": "ihio",
        "insurer": "سازمان بیمه سلامت ایران",
        "fund": "ایرانیان",
        "valid_until": "2031-03-20",
    },
    "education_enrollment": None,
    "education_degrees": [],
    "disability": None,
    "properties": [],
    "social_security": None,
}

PERSONAS_BY_CODE = {p.national_code: p for p in PERSONAS}
PERSONAS_BY_KEY = {p.key: p for p in PERSONAS}
