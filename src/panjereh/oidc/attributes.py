"""Verified registry attributes an organisation may ask for with the citizen's consent (as Myinfo does).

Each attribute is one OAuth scope (`address`, `education`, …) answered from a registry through the exchange
at userinfo time (`oidc.release`). A client is registered with a reason for each attribute it asks for, and
an operator approves the attributes (`OidcClient.approved_attributes`) before any is asked of a citizen.
The claims are released in the `verified_claims` shape of OpenID Connect for Identity Assurance 1.0
(docs/protocols/oidc.md § Verified attributes). This module is pure: definitions and shaping only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from panjereh.oidc.exceptions import InvalidClientMetadata

TRUST_FRAMEWORK = (
    "ir_panjereh"  # the national window's registries (our name; IDA §5.1 lets a framework name itself)
)
COUNTRY = "IR"
MAX_PURPOSE = 300


@dataclass(frozen=True)
class Source:
    """One registry asked for an attribute: its data service and the body that keeps it."""

    service_code: str
    name_fa: str
    name_en: str


@dataclass(frozen=True)
class Attribute:
    """One verified attribute: the scope that asks for it, the claim that carries it, where it comes from."""

    scope: str
    claim: str
    label_fa: str
    label_en: str
    sources: tuple[Source, ...]
    # The registry answers (one per source, in order) → the claim's value.
    shape: Callable[[list[dict[str, Any]]], Any]

    @property
    def sources_fa(self) -> str:
        return " و ".join(source.name_fa for source in self.sources)

    @property
    def sources_en(self) -> str:
        return " and ".join(source.name_en for source in self.sources)


def _strip(answer: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key not in ("national_code", *names)}


def _street(address: Mapping[str, Any]) -> str:
    parts = [f"خیابان {address.get('street', '')}"]
    if address.get("alley"):
        parts.append(f"کوچه {address['alley']}")
    parts.append(f"پلاک {address.get('plaque', '')}")
    if address.get("unit"):
        parts.append(f"واحد {address['unit']}")
    return "، ".join(parts)


def address_claim(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """OIDC Core §5.1.1's address claim from the Post's record of the postal code the civil registry holds."""
    post = answers[-1]
    return {
        "formatted": str(post.get("text", "")),
        "street_address": _street(post),
        "locality": str(post.get("city", "")),
        "region": str(post.get("province", "")),
        "postal_code": str(post.get("postal_code", "")),
        "country": COUNTRY,
    }


def _list(name: str) -> Callable[[list[dict[str, Any]]], list[Any]]:
    def shape(answers: list[dict[str, Any]]) -> list[Any]:
        items = answers[0].get(name)
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    return shape


CIVIL_REGISTRY = Source("civil-registry.person", "ثبت احوال", "the civil registry")
POST = Source("post.address", "شرکت ملی پست", "Iran Post")

ATTRIBUTES: dict[str, Attribute] = {
    attribute.scope: attribute
    for attribute in (
        Attribute(
            "address",
            "address",
            "نشانی محل سکونت",
            "Home address",
            (CIVIL_REGISTRY, POST),
            address_claim,
        ),
        Attribute(
            "education",
            "degrees",
            "مدرک‌های تحصیلی",
            "Degrees",
            (Source("education.degrees", "وزارت آموزش و پرورش", "the Ministry of Education"),),
            _list("degrees"),
        ),
        Attribute(
            "vehicles",
            "vehicles",
            "خودروهای به نام شما",
            "Vehicles you own",
            (Source("police.vehicles", "فراجا", "the Police (FARAJA)"),),
            _list("vehicles"),
        ),
        Attribute(
            "properties",
            "properties",
            "املاک به نام شما",
            "Properties you own",
            (Source("deeds.properties", "سازمان ثبت اسناد و املاک کشور", "the Deeds Registration"),),
            _list("properties"),
        ),
        Attribute(
            "insurance",
            "insurance_record",
            "سابقهٔ بیمهٔ تأمین اجتماعی",
            "Social security insurance record",
            (Source("social-security.insurance-record", "سازمان تأمین اجتماعی", "Social Security"),),
            lambda answers: _strip(answers[0]),
        ),
    )
}
SCOPES = tuple(ATTRIBUTES)
CLAIMS = tuple(attribute.claim for attribute in ATTRIBUTES.values())


def is_attribute(scope: str) -> bool:
    return scope in ATTRIBUTES


def attribute_scopes(scopes: str | list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """The attribute scopes among `scopes`, in the order of ATTRIBUTES."""
    named = set(scopes.split() if isinstance(scopes, str) else scopes)
    return [scope for scope in ATTRIBUTES if scope in named]


def check_purposes(scopes: list[str], purposes: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Each attribute scope a client registers needs the reason it asks (Persian, optionally English);
    returns `{scope: [fa, en]}` for the scopes asked for. Reasons for scopes not asked are refused."""
    given = dict(purposes or {})
    wanted = attribute_scopes(scopes)
    stray = sorted(set(given) - set(wanted))
    if stray:
        raise InvalidClientMetadata(
            f"Reasons given for attributes not asked for: {', '.join(stray)}",
            "برای ویژگی‌ای که درخواست نشده دلیل آمده است",
        )
    checked: dict[str, list[str]] = {}
    for scope in wanted:
        value = given.get(scope)
        pair = [value, ""] if isinstance(value, str) else value
        if (
            not isinstance(pair, list | tuple)
            or len(pair) != 2
            or not all(isinstance(text, str) and len(text.strip()) <= MAX_PURPOSE for text in pair)
            or len(pair[0].strip()) < 5
        ):
            raise InvalidClientMetadata(
                f"Give the reason for asking {scope!r} (5 to {MAX_PURPOSE} characters, in Persian)",
                f"دلیل درخواست «{ATTRIBUTES[scope].label_fa}» را بنویسید (۵ تا ۳۰۰ نویسه)",
            )
        checked[scope] = [pair[0].strip(), pair[1].strip()]
    return checked
