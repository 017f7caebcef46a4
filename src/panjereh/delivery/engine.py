"""The decision engine: evaluates a definition's zen-engine model on the facts and explains the result."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from panjereh.delivery.definitions import LoadedDefinition
from panjereh.delivery.exceptions import DecisionModelFailed
from panjereh.delivery.rules import compile_model

DECISIONS = ("approve", "refuse", "refer")
RESERVED_ROOTS = ("inputs", "subject", "today")

_COMPILED_FOR_VERSION: dict[str, Any] = {}  # by a loaded definition's digest, which covers its model


@dataclass(frozen=True)
class Reason:
    code: str
    reason_fa: str
    reason_en: str = ""
    legal_ref: str = ""


@dataclass(frozen=True)
class Decision:
    """What the model decided, on which facts, by which rules, under which version."""

    decision: str
    reasons: list[Reason]
    rules_fired: list[dict[str, str]]
    inputs_digest: str
    rule_version: str
    output: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reasons": [r.__dict__ for r in self.reasons],
            "rules_fired": self.rules_fired,
            "inputs_digest": self.inputs_digest,
            "rule_version": self.rule_version,
            "output": self.output,
        }


def decision_context(
    inputs: dict[str, Any], facts: dict[str, Any], *, national_code: str, today: date
) -> dict[str, Any]:
    """The document the model reads: evidence by key at the top, the citizen's inputs, the subject, today."""
    context = {key: value for key, value in facts.items() if key not in RESERVED_ROOTS}
    context.update(
        {"inputs": inputs, "subject": {"national_code": national_code}, "today": today.isoformat()}
    )
    return context


def digest(context: dict[str, Any]) -> str:
    """A stable digest of everything the decision was made on."""
    return hashlib.sha256(
        json.dumps(context, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def compiled_for(loaded: LoadedDefinition) -> Any:
    """The compiled model of a loaded definition, found by its digest (no re-serialising per decision)."""
    compiled = _COMPILED_FOR_VERSION.get(loaded.digest)
    if compiled is None:
        compiled = _COMPILED_FOR_VERSION[loaded.digest] = compile_model(loaded.model)
    return compiled


def evaluate(loaded: LoadedDefinition, context: dict[str, Any]) -> Decision:
    """Run the model with tracing; the answer must name a known decision."""
    compiled = compiled_for(loaded)
    try:
        response = compiled.evaluate(context, {"trace": True})
    except Exception as exc:  # zen raises plain runtime errors for evaluation failures
        raise DecisionModelFailed(
            f"{loaded.slug}: the decision model failed: {exc}", f"مدل تصمیم خدمت {loaded.slug} اجرا نشد"
        ) from exc
    result = response.get("result") or {}
    decision = result.get("decision")
    if decision not in DECISIONS:
        raise DecisionModelFailed(
            f"{loaded.slug}: the decision model answered {decision!r}, not one of {', '.join(DECISIONS)}",
            f"مدل تصمیم خدمت {loaded.slug} پاسخ نامعتبر داد",
        )
    references = {ref.ref for ref in loaded.definition.decision.legal_references}
    reasons = []
    for raw in result.get("reasons") or []:
        if not isinstance(raw, dict) or not raw.get("code"):
            continue
        reasons.append(
            Reason(
                code=str(raw["code"]),
                reason_fa=str(raw.get("reason_fa") or raw["code"]),
                reason_en=str(raw.get("reason_en") or ""),
                legal_ref=str(raw.get("legal_ref") or "") if raw.get("legal_ref") in references else "",
            )
        )
    return Decision(
        decision=decision,
        reasons=reasons,
        rules_fired=_rules_fired(response.get("trace") or {}),
        inputs_digest=digest(context),
        rule_version=loaded.definition.decision.rule_version,
        output={k: v for k, v in result.items() if k not in ("decision", "reasons")},
    )


def _rules_fired(trace: dict[str, Any]) -> list[dict[str, str]]:
    """The decision-table rows that matched, in evaluation order, as (table, rule id, description)."""
    fired: list[dict[str, str]] = []
    for node in sorted(trace.values(), key=lambda n: n.get("order", 0)):
        data = node.get("traceData")
        rows = data if isinstance(data, list) else [data] if isinstance(data, dict) and "rule" in data else []
        for row in rows:
            rule = row.get("rule") or {}
            if rule.get("_id"):
                fired.append(
                    {
                        "table": str(node.get("name", "")),
                        "rule": rule["_id"],
                        "description": rule.get("_description", ""),
                    }
                )
    return fired


@dataclass(frozen=True)
class CaseResult:
    name: str
    passed: bool
    expected: dict[str, Any]
    actual: dict[str, Any]


def run_test_cases(loaded: LoadedDefinition, *, today: date | None = None) -> list[CaseResult]:
    """Each shipped test case (inputs + registry facts → expected decision) on the real engine."""
    results = []
    for case in loaded.definition.tests:
        context = decision_context(
            case.inputs, case.facts, national_code="0499370899", today=today or date(2024, 6, 1)
        )
        try:
            decision = evaluate(loaded, context)
            actual: dict[str, Any] = {
                "decision": decision.decision,
                "reasons": sorted(r.code for r in decision.reasons),
            }
        except DecisionModelFailed as exc:
            actual = {"error": str(exc)}
        expected = dict(case.expect)
        if "reasons" in expected:
            expected["reasons"] = sorted(expected["reasons"])
        passed = all(actual.get(k) == v for k, v in expected.items())
        results.append(CaseResult(case.name, passed, expected, actual))
    return results
