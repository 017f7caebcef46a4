"""The forms that start a definition: one per template of `delivery.templates`, built from its parameter
model (so a new template needs no page work), and the blank start. Also the small pieces the editor
builds a document from (evidence from a data service, claims)."""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from panjereh.core.persian import fold_digits
from panjereh.delivery import definitions as defs
from panjereh.delivery import templates as definition_templates
from panjereh.delivery.exceptions import InvalidDefinition

BLANK = "blank"
PATH_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
SCALARS = {"string": "text", "integer": "number", "number": "number", "boolean": "boolean"}


def _models() -> dict[str, type[BaseModel]]:
    return dict[str, type[BaseModel]](definition_templates.TEMPLATES)


def catalogue() -> list[dict[str, Any]]:
    """Each template with the fields of its form, then the blank start."""
    items = []
    for name, model in _models().items():
        schema = model.model_json_schema()
        doc = (model.__doc__ or "").strip().splitlines()
        items.append(
            {
                "name": name,
                "title": schema.get("title", name),
                "summary": doc[0] if doc else "",
                "fields": _fields(schema),
            }
        )
    items.append(
        {
            "name": BLANK,
            "title": "Blank",
            "summary": "",
            "fields": [
                {
                    "name": "slug",
                    "kind": "text",
                    "required": True,
                    "label": "slug",
                    "help": "",
                    "default": "",
                },
                {
                    "name": "title_fa",
                    "kind": "text",
                    "required": True,
                    "label": "title_fa",
                    "help": "",
                    "default": "",
                },
                {
                    "name": "title_en",
                    "kind": "text",
                    "required": True,
                    "label": "title_en",
                    "help": "",
                    "default": "",
                },
            ],
        }
    )
    return items


def _fields(
    schema: dict[str, Any],
    node: dict[str, Any] | None = None,
    prefix: str = "",
    required: set[str] | None = None,
) -> list[dict[str, Any]]:
    """A form field per parameter: a nested object's fields one by one (`answer.label.fa`), scalars as
    inputs, choices as selects, lists and mappings as YAML text."""
    node = schema if node is None else node
    required = set(node.get("required", [])) if required is None else required
    defs = schema.get("$defs", {})
    fields: list[dict[str, Any]] = []
    for name, prop in node.get("properties", {}).items():
        dotted = f"{prefix}{name}"
        if dotted == "agency":  # the workspace's agency
            continue
        target = _object_of(prop, defs)
        if target is not None and prefix.count(".") < 2:
            inner = set(target.get("required", [])) if name in required else set()
            fields += _fields(schema, target, f"{dotted}.", inner)
            continue
        enum = prop.get("enum") or _enum_of(prop, defs)
        kind = "choice" if enum else SCALARS.get(_scalar_type(prop), "yaml")
        if name == "service" and kind == "text":
            kind = "service"
        default = prop.get("default", "")
        if kind == "yaml" and default not in ("", None):
            default = yaml.safe_dump(default, allow_unicode=True, sort_keys=False).strip()
        fields.append(
            {
                "name": dotted,
                "kind": kind,
                "choices": enum or [],
                "required": name in required,
                "label": prop.get("title", name),
                "help": prop.get("description", ""),
                "default": "" if default is None else default,
                "example": _example(prop),
            }
        )
    return fields


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    return defs.get(ref.rsplit("/", 1)[-1], {}) if ref else prop


def _variants(prop: dict[str, Any]) -> list[dict[str, Any]]:
    """A property's schema without its `null` alternative (an optional value is the value's schema)."""
    options = prop.get("anyOf") or prop.get("allOf") or [prop]
    return [option for option in options if option.get("type") != "null"]


def _object_of(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    """The object schema of a property that is one model (optional or not), else None."""
    variants = _variants(prop)
    if len(variants) != 1:
        return None
    target = _resolve(variants[0], defs)
    return target if target.get("type") == "object" and target.get("properties") else None


def _scalar_type(prop: dict[str, Any]) -> str:
    variants = _variants(prop)
    return str(variants[0].get("type", "")) if len(variants) == 1 else ""


def _enum_of(prop: dict[str, Any], defs: dict[str, Any]) -> list[Any]:
    variants = _variants(prop)
    if len(variants) != 1:
        return []
    return list(_resolve(variants[0], defs).get("enum") or [])


def _example(prop: dict[str, Any]) -> str:
    examples = prop.get("examples")
    if not examples:
        return ""
    example = examples[0]
    return example if isinstance(example, str) else yaml.safe_dump(example, allow_unicode=True).strip()


def render(
    template: str, values: dict[str, str], *, agency_code: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(document, model) from a template's form, or InvalidDefinition naming each wrong field."""
    if template == BLANK:
        return blank(values, agency_code=agency_code)
    model = _models().get(template)
    if model is None:
        raise InvalidDefinition(f"No template {template!r}.", "چنین الگویی نیست.")
    params: dict[str, Any] = {}
    for field in _fields(model.model_json_schema()):
        raw = values.get(field["name"], "").strip()
        if raw == "":
            continue
        value: Any = raw
        if field["kind"] == "yaml":
            try:
                value = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise InvalidDefinition(
                    f"{field['name']}: not valid YAML.", f"{field['name']}: YAML درستی نیست."
                ) from exc
        elif field["kind"] == "boolean":
            value = raw in ("1", "true", "on", "yes")
        elif field["kind"] == "number":
            value = fold_digits(raw)
        *parents, leaf = field["name"].split(".")
        target = params
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    params["agency"] = agency_code
    try:
        parsed = model.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidDefinition(problems, f"فرم الگو کامل یا درست نیست: {problems}") from exc
    document, decision_model = definition_templates.render(template, parsed.model_dump())
    return document, decision_model


def blank(values: dict[str, str], *, agency_code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The smallest valid definition: the applicant's identity by inquiry, approved when found, one test."""
    slug = values.get("slug", "").strip()
    title_fa, title_en = values.get("title_fa", "").strip(), values.get("title_en", "").strip()
    document: dict[str, Any] = {
        "slug": slug,
        "version": 1,
        "title": {"fa": title_fa, "en": title_en},
        "agency": agency_code,
        "summary_fa": title_fa,
        "inputs": [],
        "evidence": [
            {
                "key": "person",
                "source": "inquiry",
                "service": "civil-registry.person",
                "path_params": {"national_code": "{subject.national_code}"},
                "label": {"fa": "مشخصات هویتی", "en": "Identity details"},
                "why_fa": "برای اطمینان از هویت متقاضی",
                "concept": "identity",
            }
        ],
        "decision": {
            "model": f"{slug}.decision.json",
            "rule_version": f"{slug}/1",
            "legal_references": [
                {"ref": "smart-gov-bylaw-1402", "title_fa": "آیین‌نامه اجرایی خدمات دولت هوشمند (۱۴۰۲)"}
            ],
        },
        "outcomes": {
            "approve": {"fa": f"{title_fa} انجام شد.", "en": f"{title_en}: done."},
            "refuse": {"fa": f"{title_fa} انجام نشد.", "en": f"{title_en}: refused."},
        },
        "time_objective": {"seconds": 10},
        "tests": [
            {"name": "found", "facts": {"person": {"found": True}}, "expect": {"decision": "approve"}},
            {"name": "not found", "facts": {"person": {"found": False}}, "expect": {"decision": "refuse"}},
        ],
    }
    return document, blank_model()


def blank_model() -> dict[str, Any]:
    """The templates' decision model with one condition: the applicant is in the civil registry."""
    found = definition_templates.Condition(
        code="not_found",
        expression="person.found == true",
        reason_fa="مشخصات شما در ثبت احوال پیدا نشد",
        reason_en="Not found in the civil registry",
    )
    return definition_templates.decision_model([found])


def evidence_from_service(service: Any, *, key: str | None, why_fa: str) -> dict[str, Any]:
    """A piece of evidence asked of a data service: its path parameters from the subject or the inputs."""
    params = {}
    for name in PATH_PARAM.findall(service.path):
        params[name] = "{subject.national_code}" if name == "national_code" else f"{{inputs.{name}}}"
    concepts = defs.SERVICE_CONCEPTS.get(service.code, ())
    item: dict[str, Any] = {
        "key": key or re.sub(r"[^a-z0-9]+", "_", service.code.lower()).strip("_")[:40],
        "source": "inquiry",
        "service": service.code,
        "path_params": params,
        "label": {"fa": service.title_fa, "en": service.title_en},
        "why_fa": why_fa or f"استعلام {service.title_fa}",
    }
    if concepts:
        item["concept"] = concepts[0]
    return item


def inputs_needed(evidence: dict[str, Any]) -> list[str]:
    """The inputs an evidence item's path parameters read."""
    return [
        value[len("{inputs.") : -1]
        for value in evidence.get("path_params", {}).values()
        if value.startswith("{inputs.")
    ]


def parse_claims(text: str) -> dict[str, str]:
    """`name = path` per line (the document's claims, read from the decision context)."""
    claims = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, path = line.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise InvalidDefinition(
                f"Write each claim as `name = path` (got {line.strip()[:60]!r}).",
                "هر ادعا را در یک سطر به شکل «نام = مسیر» بنویسید.",
            )
        claims[name.strip()] = path.strip()
    return claims


def whole_number(text: str, what_en: str, what_fa: str) -> int:
    try:
        value = int(fold_digits(text).strip())
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidDefinition(
            f"The {what_en} must be a whole number.", f"{what_fa} باید عدد صحیح مثبت باشد."
        )
    return value
