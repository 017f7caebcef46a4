"""Executable service definitions: the YAML format, its validation and the maturity it supports."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from panjereh.delivery.exceptions import InvalidDefinition
from panjereh.delivery.rules import compile_model

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
SLUG = re.compile(r"^[a-z][a-z0-9-]{1,60}$")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
# The decision model sees the facts under these roots; a path parameter may read from them.
TEMPLATE = re.compile(r"^\{(subject|inputs)\.([a-z_][a-z0-9_]*)\}$")


class Source(StrEnum):
    """Where one piece of evidence comes from."""

    INQUIRY = "inquiry"  # a data service through the exchange
    CITIZEN = "citizen"  # a field the citizen fills in
    UPLOAD = "upload"  # a document the citizen uploads
    IN_PERSON = "in_person"  # the citizen must come to a counter
    HUMAN = "human"  # an officer decides


class Text(BaseModel):
    """A label in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fa: str = Field(min_length=1)
    en: str = Field(min_length=1)


class LegalReference(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ref: str = Field(min_length=1)
    title_fa: str = Field(min_length=1)
    url: str | None = None


class _Keyed(BaseModel):
    """A part of a definition named by a lower_snake_case key (an input, a piece of evidence)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    part: ClassVar[str]
    key: str

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not KEY.match(value):
            raise ValueError(f"{cls.part} key {value!r} must be lower_snake_case")
        return value


class InputField(_Keyed):
    """One of the few things the citizen types in."""

    part = "input"
    label: Text
    type: Literal["text", "choice", "postal_code", "number", "date", "boolean"] = "text"
    required: bool = True
    choices: dict[str, Text] = Field(default_factory=dict)
    max_length: int = Field(default=200, ge=1, le=2000)

    @model_validator(mode="after")
    def _choices(self) -> InputField:
        if self.type == "choice" and not self.choices:
            raise ValueError(f"input {self.key!r} is a choice but lists no choices")
        return self


class Evidence(_Keyed):
    """A fact the decision needs, and how the platform obtains it."""

    part = "evidence"
    source: Source
    label: Text
    why_fa: str = Field(min_length=1, description="Shown in the preview: why this is asked")
    service: str | None = Field(default=None, description="The data service code (inquiry only)")
    path_params: dict[str, str] = Field(default_factory=dict)
    # What the evidence is about (e.g. "identity", "property_deed"): a non-inquiry source about a concept a
    # data service provides breaks the once-only principle.
    concept: str | None = None
    not_found_is_fact: bool = Field(
        default=True, description="A 404 from the provider is a fact ({found: false}), not a failure"
    )

    @model_validator(mode="after")
    def _inquiry_names_service(self) -> Evidence:
        if self.source == Source.INQUIRY and not self.service:
            raise ValueError(f"evidence {self.key!r} comes by inquiry but names no data service")
        if self.source != Source.INQUIRY and (self.service or self.path_params):
            raise ValueError(f"evidence {self.key!r} is not an inquiry but names a data service")
        for name, template in self.path_params.items():
            if not TEMPLATE.match(template):
                raise ValueError(
                    f"evidence {self.key!r}: path parameter {name!r} = {template!r} must be "
                    "{subject.national_code} or {inputs.<key>}"
                )
        return self


class DocumentOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str = Field(min_length=1)
    title: Text
    valid_days: int | None = Field(default=None, ge=1)
    # Claims copied into the signed document: name → dotted path into the decision context.
    claims: dict[str, str] = Field(default_factory=dict)


class Outcomes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    approve: Text
    refuse: Text
    document: DocumentOutcome | None = None


class DecisionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    model: str = Field(description="File name of the zen-engine JSON decision model, beside the YAML")
    rule_version: str = Field(min_length=1)
    legal_references: list[LegalReference] = Field(min_length=1)


class TimeObjective(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    seconds: int = Field(ge=1)


class TestCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    facts: dict[str, Any] = Field(default_factory=dict)
    expect: dict[str, Any]

    @field_validator("expect")
    @classmethod
    def _expects_decision(cls, value: dict[str, Any]) -> dict[str, Any]:
        if "decision" not in value:
            raise ValueError("a test case must expect a `decision`")
        return value


class Proactive(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    events: list[Literal["birth_registered", "death_registered", "turned_18", "address_changed"]]


class ServiceDefinition(BaseModel):
    """One service, executable: inputs, evidence, decision model, outcomes, time objective, tests."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    slug: str
    version: int = Field(ge=1)
    title: Text
    agency: str
    summary_fa: str = ""
    inputs: list[InputField] = Field(default_factory=list)
    evidence: list[Evidence] = Field(min_length=1)
    decision: DecisionSpec
    outcomes: Outcomes
    time_objective: TimeObjective
    proactive: Proactive | None = None
    # Who the service is for: people (G2C) or businesses (G2B, the subject a company), and which
    # representatives it accepts (docs/protocols/representation.md); None: the audience's default.
    audience: Literal["individual", "business"] = "individual"
    representatives: list[Literal["parent", "company", "delegate"]] | None = None
    tests: list[TestCase] = Field(min_length=1)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"slug {value!r} must be lower-case words joined by hyphens")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ServiceDefinition:
        for label, keys in (
            ("input", [i.key for i in self.inputs]),
            ("evidence", [e.key for e in self.evidence]),
        ):
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                raise ValueError(f"duplicate {label} keys: {', '.join(dupes)}")
        input_keys = {i.key for i in self.inputs}
        for item in self.evidence:
            for template in item.path_params.values():
                match = TEMPLATE.match(template)
                if match and match.group(1) == "inputs" and match.group(2) not in input_keys:
                    raise ValueError(
                        f"evidence {item.key!r} reads input {match.group(2)!r}, which is not declared"
                    )
        if self.proactive and not self.is_smart:
            raise ValueError("only smart services (all evidence by inquiry) can run proactively")
        return self

    @property
    def inquiries(self) -> list[Evidence]:
        return [e for e in self.evidence if e.source == Source.INQUIRY]

    @property
    def is_smart(self) -> bool:
        """Smart by construction: every piece of evidence by inquiry, nothing asked of a person."""
        return all(e.source == Source.INQUIRY for e in self.evidence)

    @property
    def needs_human(self) -> bool:
        return any(e.source in (Source.HUMAN, Source.IN_PERSON, Source.UPLOAD) for e in self.evidence)


@dataclass(frozen=True)
class Derivation:
    """The maturity a definition supports, and what is wrong with it."""

    level: int
    flags: list[str] = field(default_factory=list)
    reasons_fa: list[str] = field(default_factory=list)


def derive_maturity(
    definition: ServiceDefinition,
    *,
    declared_level: int | None = None,
    concepts: dict[str, str] | None = None,
) -> Derivation:
    """Level 5 only when all evidence comes by inquiry; flag declared levels and once-only violations."""
    sources = {e.source for e in definition.evidence}
    reasons: list[str] = []
    if Source.IN_PERSON in sources:
        level = 2
        reasons.append("دست‌کم یک مرحله حضوری دارد")
    elif Source.UPLOAD in sources:
        level = 3
        reasons.append("مدرکی از شهروند گرفته می‌شود")
    elif Source.HUMAN in sources or Source.CITIZEN in sources:
        level = 4
        reasons.append("تصمیم یا دادهٔ آن به انسان وابسته است")
    else:
        level = 5
    flags: list[str] = []
    if declared_level is not None and declared_level > level:
        flags.append("declared_level_unsupported")
        reasons.append(f"دستگاه سطح {declared_level} اعلام کرده، تعریف خدمت سطح {level} را پشتیبانی می‌کند")
    provided = concepts if concepts is not None else concept_providers()
    for item in definition.evidence:
        if item.source != Source.INQUIRY and item.concept and item.concept in provided:
            if "once_only_violation" not in flags:
                flags.append("once_only_violation")
            reasons.append(
                f"«{item.label.fa}» را از شهروند می‌خواهد، حال آنکه {provided[item.concept]} آن را دارد"
            )
    return Derivation(level=level, flags=flags, reasons_fa=reasons)


# The data services delivery understands and the concepts each provides: a definition may inquire only
# these, and the once-only check compares what a definition asks of a person against this map. (That the
# registries publish every one of them is a test: tests/delivery/test_definitions.py.)
SERVICE_CONCEPTS: dict[str, tuple[str, ...]] = {
    "civil-registry.person": ("identity", "birth_certificate", "residence_address"),
    "shahkar.sims": ("mobile_ownership",),
    "post.address": ("postal_address",),
    "tax.clearance": ("tax_clearance",),
    "police.vehicles": ("vehicle_ownership",),
    "police.driving-licence": ("driving_licence",),
    "judiciary.criminal-record": ("criminal_record",),
    "health-insurance.coverage": ("health_insurance",),
    "education.enrollment": ("enrollment",),
    "education.degrees": ("degree",),
    "welfare.disability": ("disability",),
    "deeds.properties": ("property_deed",),
    "social-security.insurance-record": ("insurance_record",),
    "companies.company": ("company_registration",),  # about a company (a business service's subject)
}


def data_service_codes() -> frozenset[str]:
    """The data services a definition may inquire (those delivery understands)."""
    return frozenset(SERVICE_CONCEPTS)


def concept_providers() -> dict[str, str]:
    """concept → the data service that provides it."""
    return {concept: code for code, concepts in SERVICE_CONCEPTS.items() for concept in concepts}


@dataclass(frozen=True)
class LoadedDefinition:
    """A validated definition with its decision model and a digest of both."""

    definition: ServiceDefinition
    model: dict[str, Any]
    digest: str
    path: Path

    @property
    def slug(self) -> str:
        return self.definition.slug


def model_file_name(slug: str) -> str:
    """The decision model's file name beside `<slug>.yaml` (import and export)."""
    return f"{slug}.decision.json"


def stored_body(definition: ServiceDefinition) -> dict[str, Any]:
    """The document as stored: every field spelled out, the model named after the slug."""
    body = definition.model_dump(mode="json")
    body["decision"]["model"] = model_file_name(definition.slug)
    return body


def content_digest(definition: ServiceDefinition, model: dict[str, Any]) -> str:
    """A digest of what a version says (its number left out): the same content, the same digest."""
    body = stored_body(definition)
    body.pop("version")
    # Left out at their defaults, so a definition written before they existed keeps its digest.
    if body.get("audience") == "individual":
        body.pop("audience")
    if body.get("representatives") is None:
        body.pop("representatives", None)
    return hashlib.sha256(
        json.dumps({"definition": body, "model": model}, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def parse_definition(
    raw: dict[str, Any], model: dict[str, Any], *, where: str, known: frozenset[str] | None = None
) -> ServiceDefinition:
    """Validate one definition document; errors name the file and the field.

    `known` is the data services a definition may inquire (by default those delivery understands; the
    store passes the exchange's directory as well)."""
    try:
        definition = ServiceDefinition.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidDefinition(
            f"{where}: {problems}", f"تعریف خدمت {where} نادرست است: {problems}", file=where
        ) from exc
    known = known if known is not None else data_service_codes()
    for item in definition.inquiries:
        if item.service not in known:
            raise InvalidDefinition(
                f"{where}: evidence {item.key!r} names unknown data service {item.service!r}",
                f"{where}: سرویس دادهٔ «{item.service}» وجود ندارد",
                file=where,
            )
    _check_model(model, where)
    return definition


def _check_model(model: dict[str, Any], where: str) -> None:
    if model.get("contentType") != "application/vnd.gorules.decision":
        raise InvalidDefinition(
            f"{where}: the decision model is not a zen-engine JSON decision model (contentType)",
            f"{where}: مدل تصمیم قالب درستی ندارد",
            file=where,
        )
    types = [node.get("type") for node in model.get("nodes", [])]
    if "inputNode" not in types or "outputNode" not in types:
        raise InvalidDefinition(
            f"{where}: the decision model needs an input node and an output node",
            f"{where}: مدل تصمیم گره ورودی و خروجی ندارد",
            file=where,
        )
    try:
        compile_model(model)
    except Exception as exc:  # zen reports malformed models as plain runtime errors
        raise InvalidDefinition(
            f"{where}: zen-engine refuses the decision model: {exc}",
            f"{where}: موتور قواعد مدل را نپذیرفت",
            file=where,
        ) from exc


def load_file(path: Path) -> LoadedDefinition:
    """Read, validate and digest one YAML definition and the decision model it names."""
    where = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidDefinition(
            f"{where}: not valid YAML: {exc}", f"{where}: YAML نادرست است", file=where
        ) from exc
    if not isinstance(raw, dict):
        raise InvalidDefinition(f"{where}: expected a mapping", f"{where}: قالب نادرست", file=where)
    model_name = (raw.get("decision") or {}).get("model") if isinstance(raw.get("decision"), dict) else None
    model_path = path.parent / str(model_name)
    if not model_name or not model_path.is_file():
        raise InvalidDefinition(
            f"{where}: decision.model {model_name!r} is missing beside the definition",
            f"{where}: پروندهٔ مدل تصمیم پیدا نشد",
            file=where,
        )
    try:
        model = json.loads(model_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidDefinition(
            f"{model_path.name}: not valid JSON: {exc}", f"{model_path.name}: JSON نادرست است", file=where
        ) from exc
    definition = parse_definition(raw, model, where=where)
    if path.stem != definition.slug:
        raise InvalidDefinition(
            f"{where}: file name must be the slug ({definition.slug}.yaml)",
            f"{where}: نام پرونده باید همان شناسهٔ خدمت باشد",
            file=where,
        )
    return LoadedDefinition(
        definition=definition, model=model, digest=content_digest(definition, model), path=path
    )


def load_all(directory: Path = DEFINITIONS_DIR) -> dict[str, LoadedDefinition]:
    """Every definition in a folder, by slug."""
    loaded: dict[str, LoadedDefinition] = {}
    for path in sorted(directory.glob("*.yaml")):
        item = load_file(path)
        loaded[item.slug] = item
    return loaded


@lru_cache
def bundled() -> dict[str, LoadedDefinition]:
    """The definitions shipped with the platform (validated once per process)."""
    return load_all(DEFINITIONS_DIR)
