"""The zen-engine rules engine and its compiled decision models, cached by content.

Its own module so that a definition can be checked against zen-engine (`definitions`) and evaluated
(`engine`) without either importing the other."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import zen

_ENGINE = zen.ZenEngine()
_COMPILED: dict[str, Any] = {}


def compile_model(model: dict[str, Any]) -> Any:
    """A compiled zen decision for a JSON model (cached by content)."""
    text = json.dumps(model, sort_keys=True)
    key = hashlib.sha256(text.encode()).hexdigest()
    decision = _COMPILED.get(key)
    if decision is None:
        decision = _ENGINE.create_decision(text)
        decision.validate()
        _COMPILED[key] = decision
    return decision
