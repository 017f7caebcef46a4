"""Templates for the common shapes of a smart service: parameters in, a definition and its model out.

Three shapes cover most services (issue 16, item 3), so most definitions need no model editing:

- `certificate_from_registry`: one data service's answer → a certificate carrying the claims chosen from it;
- `eligibility_from_answers`: several answers and conditions on them → approve, or refuse with the reasons;
- `change_in_registry`: a change the citizen asks for (a new value they type), checked against the
  registry's current record and any data service that vouches for the new value.

`render(name, params)` returns `(document, model)`: the same pair a `<slug>.yaml` and its
`<slug>.decision.json` hold, which the definitions store validates as it validates any draft. Every piece
of evidence a template writes comes by inquiry, so a rendered definition derives maturity level 5.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from panjereh.delivery.definitions import KEY, SLUG, InputField, LegalReference, Text, model_file_name

IDENTITY_SERVICE = "civil-registry.person"
SMART_GOV_BYLAW = LegalReference(
    ref="smart-gov-bylaw-1402", title_fa="آیین‌نامه اجرایی خدمات دولت هوشمند (۱۴۰۲)"
)


class Answer(BaseModel):
    """One data service asked about the applicant (or about an input: `{inputs.<key>}`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(description="the fact's name in the decision context")
    service: str = Field(description="the data service code, from the exchange directory")
    label: Text
    why_fa: str = Field(min_length=1, description="shown to the citizen before applying")
    concept: str | None = None
    path_params: dict[str, str] = Field(default_factory=lambda: {"national_code": "{subject.national_code}"})

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not KEY.match(value):
            raise ValueError(f"answer key {value!r} must be lower_snake_case")
        return value


class Condition(BaseModel):
    """A zen expression over the facts that must hold to approve; when it does not, the reason is given."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    expression: str = Field(min_length=1, max_length=500)
    reason_fa: str = Field(min_length=1)
    reason_en: str = Field(min_length=1)
    legal_ref: str = "smart-gov-bylaw-1402"

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not KEY.match(value):
            raise ValueError(f"condition code {value!r} must be lower_snake_case")
        return value


class Case(BaseModel):
    """A test case: the facts and inputs, and the decision (and, if given, the reason codes) expected."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    inputs: dict[str, Any] = Field(default_factory=dict)
    facts: dict[str, Any] = Field(default_factory=dict)
    decision: Literal["approve", "refuse"]
    reasons: list[str] | None = None


class Document(BaseModel):
    """The signed document an approval issues."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str | None = Field(default=None, description="the document type (the slug when not given)")
    title: Text | None = Field(default=None, description="the service's title when not given")
    valid_days: int | None = Field(default=90, ge=1)
    claims: dict[str, str] = Field(default_factory=dict, description="claim → dotted path into the facts")


class _Common(BaseModel):
    """What every template asks: the service's name, agency, title, law and time objective."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    slug: str
    agency: str = Field(min_length=1)
    title: Text
    summary_fa: str = ""
    rule_version: str | None = Field(default=None, description="`<slug>/1` when not given")
    legal_references: list[LegalReference] = Field(default_factory=lambda: [SMART_GOV_BYLAW], min_length=1)
    time_objective_seconds: int = Field(default=10, ge=1)
    require_alive: bool = Field(
        default=True, description="ask the civil registry first: the applicant must be alive"
    )
    approve: Text | None = None
    refuse: Text | None = None
    tests: list[Case] = Field(default_factory=list)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"slug {value!r} must be lower-case words joined by hyphens")
        return value


class CertificateFromRegistry(_Common):
    """A certificate from one data service's answer: issued when the registry has the applicant's record
    (and the extra conditions hold), carrying the claims chosen from the answer."""

    answer: Answer
    found_expression: str | None = Field(
        default=None,
        description="what 'the registry has a record' means (default: the answer was found)",
    )
    conditions: list[Condition] = Field(default_factory=list)
    document: Document = Field(default_factory=Document)
    claims: dict[str, str] = Field(
        default_factory=dict, description="claim → a field of the answer (e.g. `file_number`)"
    )


class EligibilityFromAnswers(_Common):
    """Several answers and the conditions on them: approve when every condition holds, else refuse with
    every reason that failed."""

    answers: list[Answer] = Field(min_length=1)
    conditions: list[Condition] = Field(min_length=1)
    document: Document | None = None
    tests: list[Case] = Field(min_length=1)


class ChangeInRegistry(_Common):
    """A change recorded in a registry: the citizen types the new value; the registry's current record
    and, optionally, a data service that vouches for the new value are asked; conditions decide."""

    record: Answer = Field(description="the registry's current record of the applicant")
    new_value: InputField = Field(description="what the citizen types (e.g. a postal code)")
    check: Answer | None = Field(default=None, description="a data service that vouches for the new value")
    conditions: list[Condition] = Field(default_factory=list)
    document: Document = Field(default_factory=lambda: Document(valid_days=None))

    @model_validator(mode="after")
    def _check_reads_the_input(self) -> ChangeInRegistry:
        if self.check is not None and not any(
            f"{{inputs.{self.new_value.key}}}" == v for v in self.check.path_params.values()
        ):
            raise ValueError(f"the check must read the new value ({{inputs.{self.new_value.key}}})")
        return self


TEMPLATES: dict[str, type[_Common]] = {
    "certificate_from_registry": CertificateFromRegistry,
    "eligibility_from_answers": EligibilityFromAnswers,
    "change_in_registry": ChangeInRegistry,
}


class UnknownTemplate(ValueError):
    pass


def parameters_model(name: str) -> type[_Common]:
    """The pydantic model of a template's parameters (the authoring form is built from its schema)."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UnknownTemplate(f"no template {name!r} (one of {', '.join(TEMPLATES)})") from None


def render(name: str, params: dict[str, Any] | _Common) -> tuple[dict[str, Any], dict[str, Any]]:
    """A template's parameters → (definition document, zen decision model); pydantic errors on bad params."""
    model = parameters_model(name)
    p = params if isinstance(params, model) else model.model_validate(params)
    if isinstance(p, CertificateFromRegistry):
        return _certificate(p)
    if isinstance(p, EligibilityFromAnswers):
        return _eligibility(p)
    assert isinstance(p, ChangeInRegistry)
    return _change(p)


# The shapes -----------------------------------------------------------------------------------------

ALIVE = Condition(
    code="deceased",
    expression="person.alive == true",
    reason_fa="به گواهی ثبت احوال، متقاضی در قید حیات نیست",
    reason_en="The civil registry records the applicant as deceased",
    legal_ref="national-data-law-1401",
)
PERSON = Answer(
    key="person",
    service=IDENTITY_SERVICE,
    label=Text(fa="مشخصات هویتی", en="Identity details"),
    why_fa="برای اطمینان از هویت و در قید حیات بودن متقاضی",
    concept="identity",
)
ALIVE_FACTS = {"alive": True, "birth_date": "1990-01-01"}


def _certificate(p: CertificateFromRegistry) -> tuple[dict[str, Any], dict[str, Any]]:
    key = p.answer.key
    found = Condition(
        code="no_record",
        expression=p.found_expression or f"{key}.found == true",
        reason_fa=f"در «{p.answer.label.fa}» سابقه‌ای برای متقاضی ثبت نیست",
        reason_en=f"{p.answer.label.en}: no record of the applicant",
    )
    conditions = [found, *p.conditions]
    claims = {**{name: f"{key}.{field}" for name, field in p.claims.items()}, **p.document.claims}
    document = p.document.model_copy(update={"claims": claims})
    tests = p.tests or [
        Case(name="the registry has the record", facts=_facts(p, {key: {"found": True}}), decision="approve"),
        Case(
            name="the registry has no record",
            facts=_facts(p, {key: {"found": False}}),
            decision="refuse",
            reasons=["no_record"],
        ),
    ]
    if p.found_expression and not p.tests:
        tests = tests[1:]  # a custom meaning of "found" needs the author's own approving case
    return _assemble(p, [p.answer], [], conditions, document, tests)


def _eligibility(p: EligibilityFromAnswers) -> tuple[dict[str, Any], dict[str, Any]]:
    return _assemble(p, p.answers, [], p.conditions, p.document, p.tests)


def _change(p: ChangeInRegistry) -> tuple[dict[str, Any], dict[str, Any]]:
    record = Condition(
        code="no_record",
        expression=f"{p.record.key}.found == true",
        reason_fa=f"در «{p.record.label.fa}» سابقه‌ای برای متقاضی نیست که تغییر کند",
        reason_en=f"{p.record.label.en}: no record of the applicant to change",
    )
    conditions = [record]
    answers = [p.record]
    if p.check is not None:
        answers.append(p.check)
        conditions.append(
            Condition(
                code="new_value_not_confirmed",
                expression=f"{p.check.key}.found == true",
                reason_fa=f"«{p.new_value.label.fa}» در «{p.check.label.fa}» تأیید نشد",
                reason_en=f"{p.check.label.en} did not confirm the new {p.new_value.label.en}",
            )
        )
    conditions += p.conditions
    claims = {"new_value": f"inputs.{p.new_value.key}", **p.document.claims}
    document = p.document.model_copy(update={"claims": claims})
    sample = _sample(p.new_value)
    good = {p.record.key: {"found": True}}
    if p.check is not None:
        good[p.check.key] = {"found": True}
    tests = p.tests or [
        Case(
            name="the change is recorded",
            inputs={p.new_value.key: sample},
            facts=_facts(p, good),
            decision="approve",
        ),
        Case(
            name="no record to change",
            inputs={p.new_value.key: sample},
            facts=_facts(p, {**good, p.record.key: {"found": False}}),
            decision="refuse",
            reasons=["no_record"],
        ),
    ]
    return _assemble(p, answers, [p.new_value], conditions, document, tests)


def _sample(field: InputField) -> Any:
    samples: dict[str, Any] = {
        "postal_code": "1193653471",
        "number": 1,
        "boolean": True,
        "date": "2024-01-01",
    }
    if field.type == "choice":
        return next(iter(field.choices))
    return samples.get(field.type, "نمونه")


def _facts(p: _Common, facts: dict[str, Any]) -> dict[str, Any]:
    return {"person": ALIVE_FACTS, **facts} if p.require_alive else facts


def _assemble(
    p: _Common,
    answers: list[Answer],
    inputs: list[InputField],
    conditions: list[Condition],
    document: Document | None,
    tests: list[Case],
) -> tuple[dict[str, Any], dict[str, Any]]:
    if p.require_alive and all(a.key != "person" for a in answers):
        answers = [PERSON, *answers]
        conditions = [ALIVE, *conditions]
    codes = [c.code for c in conditions]
    if len(set(codes)) != len(codes):
        raise ValueError(
            f"condition codes repeat: {', '.join(sorted({c for c in codes if codes.count(c) > 1}))}"
        )
    evidence = [
        {
            "key": a.key,
            "source": "inquiry",
            "service": a.service,
            "path_params": dict(a.path_params),
            "label": a.label.model_dump(),
            "why_fa": a.why_fa,
            **({"concept": a.concept} if a.concept else {}),
        }
        for a in answers
    ]
    outcomes: dict[str, Any] = {
        "approve": (p.approve or Text(fa=f"{p.title.fa}: انجام شد.", en=f"{p.title.en}: done.")).model_dump(),
        "refuse": (
            p.refuse or Text(fa=f"{p.title.fa}: انجام نشد.", en=f"{p.title.en}: refused.")
        ).model_dump(),
    }
    if document is not None:
        outcomes["document"] = {
            "type": document.type or p.slug,
            "title": (document.title or p.title).model_dump(),
            "claims": dict(document.claims),
            **({"valid_days": document.valid_days} if document.valid_days else {}),
        }
    body: dict[str, Any] = {
        "slug": p.slug,
        "version": 1,
        "title": p.title.model_dump(),
        "agency": p.agency,
        "summary_fa": p.summary_fa,
        "inputs": [i.model_dump(mode="json") for i in inputs],
        "evidence": evidence,
        "decision": {
            "model": model_file_name(p.slug),
            "rule_version": p.rule_version or f"{p.slug}/1",
            "legal_references": [r.model_dump(exclude_none=True) for r in p.legal_references],
        },
        "outcomes": outcomes,
        "time_objective": {"seconds": p.time_objective_seconds},
        "tests": [
            {
                "name": case.name,
                "inputs": case.inputs,
                "facts": case.facts,
                "expect": {
                    "decision": case.decision,
                    **({"reasons": case.reasons} if case.reasons is not None else {}),
                },
            }
            for case in tests
        ],
    }
    return body, decision_model(conditions)


def decision_model(conditions: list[Condition]) -> dict[str, Any]:
    """A zen-engine JDM graph: a collect decision table with one refusing rule per condition that does not
    hold, then an expression node: approve when no reason was collected."""
    inputs = [
        {"id": f"c{n}", "type": "expression", "field": c.expression, "name": c.expression}
        for n, c in enumerate(conditions)
    ]
    rules = [
        {
            "_id": f"R-{c.code}",
            "_description": c.reason_en,
            **{f"c{m}": ("false" if m == n else "") for m in range(len(conditions))},
            "o_code": json.dumps(c.code),
            "o_fa": json.dumps(c.reason_fa, ensure_ascii=False),
            "o_en": json.dumps(c.reason_en, ensure_ascii=False),
            "o_ref": json.dumps(c.legal_ref),
        }
        for n, c in enumerate(conditions)
    ]
    outputs = [
        {"id": f"o_{name}", "type": "expression", "field": field, "name": field}
        for name, field in (("code", "code"), ("fa", "reason_fa"), ("en", "reason_en"), ("ref", "legal_ref"))
    ]
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "input", "type": "inputNode", "name": "Request", "position": {"x": 80, "y": 200}},
            {
                "id": "eligibility",
                "type": "decisionTableNode",
                "name": "Eligibility",
                "position": {"x": 360, "y": 200},
                "content": {
                    "hitPolicy": "collect",
                    "inputs": inputs,
                    "outputs": outputs,
                    "rules": rules,
                    "outputPath": "reasons",
                    "passThrough": True,
                },
            },
            {
                "id": "decision",
                "type": "expressionNode",
                "name": "Decision",
                "position": {"x": 680, "y": 200},
                "content": {
                    "expressions": [
                        {
                            "id": "e_decision",
                            "key": "decision",
                            "value": "len(reasons) == 0 ? 'approve' : 'refuse'",
                        },
                        {"id": "e_reasons", "key": "reasons", "value": "reasons"},
                    ],
                    "passThrough": False,
                },
            },
            {"id": "output", "type": "outputNode", "name": "Response", "position": {"x": 960, "y": 200}},
        ],
        "edges": [
            {"id": "e1", "type": "edge", "sourceId": "input", "targetId": "eligibility"},
            {"id": "e2", "type": "edge", "sourceId": "eligibility", "targetId": "decision"},
            {"id": "e3", "type": "edge", "sourceId": "decision", "targetId": "output"},
        ],
    }
