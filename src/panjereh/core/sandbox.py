"""The sandbox's test personas: the only people a sandbox client may ask about or sign in (issue 16, item 5).

They are the named personas of the simulated registries (docs/protocols/registries.md). The platform
reaches the registries over HTTP only, so it names them here, never imports them; a test holds the two
lists together (tests/web/test_authoring.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TestPersona:
    """A test persona: its key, national code and a label for the dry run's picker."""

    __test__ = False  # a persona, not a pytest test class

    key: str
    national_code: str
    label_fa: str
    label_en: str


PERSONAS = (
    TestPersona(
        "demo", "0499370899", "بزرگسال با سابقهٔ پاک (شهروند نمونه)", "Adult with a clean record (demo)"
    ),
    TestPersona("minor", "0790419904", "زیر ۱۸ سال، دانش‌آموز", "Under 18, at school"),
    TestPersona("deceased", "1583250689", "درگذشته", "Deceased"),
    TestPersona("convicted", "0684159414", "دارای سابقهٔ کیفری", "Has a criminal record"),
    TestPersona("tax_debtor", "0084575948", "بدهکار مالیاتی", "Owes tax"),
    TestPersona("vehicle_owner", "0067749828", "مالک خودرو با گواهینامه", "Owns a car, holds a licence"),
    TestPersona("property_owner", "4032152314", "مالک آپارتمان و زمین", "Owns an apartment and land"),
    TestPersona("student", "0076229645", "دانشجو", "University student"),
    TestPersona("disabled", "7400076205", "دارای پروندهٔ معلولیت", "Has a disability record"),
    TestPersona("retiree", "2540201288", "بازنشسته", "Retired"),
    TestPersona("uninsured", "0068415941", "بدون بیمهٔ درمان فعال", "No active health insurance"),
)
PERSONA_BY_KEY = {persona.key: persona for persona in PERSONAS}
TEST_NATIONAL_CODES = frozenset(persona.national_code for persona in PERSONAS)


def is_test_persona(national_code: str | None) -> bool:
    """Whether a national code is one of the sandbox's test personas."""
    return national_code in TEST_NATIONAL_CODES
