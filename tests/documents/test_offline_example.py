"""The stand-alone offline verification example in docs/protocols/documents.md really works."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from joserfc.errors import JoseError

from panjereh.core.config import Settings
from panjereh.documents.keys import POLICY, load_keyring
from panjereh.documents.models import IssuedDocument
from panjereh.documents.qr import qr_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocols" / "documents.md"


def load_example() -> Any:
    text = DOC.read_text()
    code = re.search(r"<!-- offline-example -->\n```python\n(.*?)```", text, re.S)
    assert code, "the offline example is missing from the protocol document"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)  # noqa: S102 — our own documentation
    return namespace["verify_offline"]


def test_the_documented_example_verifies_a_genuine_qr(settings: Settings, document: IssuedDocument) -> None:
    verify_offline = load_example()
    # The JWKS travels as JSON, exactly as a verifier would have saved it.
    jwks = json.loads(json.dumps(load_keyring(settings).jwks()))
    claims = verify_offline(qr_text(settings, document.payload), jwks)
    assert claims["n"] == document.number and claims["i"] == "judiciary" and claims["sm"] == "0499****99"
    assert verify_offline(document.payload, jwks)["n"] == document.number


def test_the_documented_example_refuses_forgeries(settings: Settings, document: IssuedDocument) -> None:
    verify_offline = load_example()
    jwks = load_keyring(settings).jwks()
    header, body, signature = document.payload.split(".")
    with pytest.raises(JoseError):
        verify_offline(f"{header}.{body[:20]}{'B' if body[20] != 'B' else 'C'}{body[21:]}.{signature}", jwks)
    with pytest.raises(ValueError, match="refused algorithm"):
        verify_offline("eyJhbGciOiJub25lIn0." + body + ".", jwks)
    with pytest.raises(JoseError):  # a key the window never published
        verify_offline(
            document.payload, {"keys": [{**POLICY.new_key().as_dict(private=False), "kid": "other"}]}
        )
