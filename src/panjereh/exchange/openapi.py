"""Reading a provider's OpenAPI document to publish data services from it (the agency workspace).

The document is validated with `openapi-spec-validator` (OpenAPI 3.0 and 3.1); its operations are listed for
the provider to pick, and each picked one becomes a data service whose request and response schemas come
from the document (`service.operation_schemas`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from panjereh.exchange.exceptions import InvalidOpenApi

MAX_DOCUMENT_BYTES = 1_000_000
FETCH_TIMEOUT_S = 5.0
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    """One operation of the document: what a data service can be made of."""

    method: str
    path: str
    operation_id: str
    summary: str


def parse(raw: bytes | str) -> dict[str, Any]:
    """The document from JSON or YAML text, validated; InvalidOpenApi says what is wrong."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InvalidOpenApi(
            f"The document is larger than {MAX_DOCUMENT_BYTES:,} bytes.",
            "سند OpenAPI بیش از اندازه بزرگ است.",
        )
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        document = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise InvalidOpenApi(
            f"Neither JSON nor YAML: {str(error)[:200]}", "سند نه JSON است نه YAML."
        ) from error
    if not isinstance(document, dict):
        raise InvalidOpenApi("The document is not an object.", "سند OpenAPI یک شیء نیست.")
    try:
        validate(document)
    except OpenAPIValidationError as error:
        raise InvalidOpenApi(
            f"Not a valid OpenAPI document: {str(error.message)[:300]}", "سند OpenAPI معتبر نیست."
        ) from error
    except Exception as error:  # the validator raises other errors on documents it cannot read at all
        raise InvalidOpenApi(
            f"Not a readable OpenAPI document: {str(error)[:300]}", "سند OpenAPI خوانا نیست."
        ) from error
    if not operations(document):
        raise InvalidOpenApi("The document has no operations.", "سند هیچ عملیاتی ندارد.")
    return document


def fetch(url: str) -> dict[str, Any]:
    """The document at an http(s) URL, validated."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidOpenApi("The address must be an http(s) URL.", "نشانی باید با http یا https آغاز شود.")
    try:
        response = httpx.get(url, timeout=FETCH_TIMEOUT_S, follow_redirects=False)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise InvalidOpenApi(
            f"Could not fetch {url}: {str(error)[:200]}", "سند OpenAPI از این نشانی خوانده نشد."
        ) from error
    return parse(response.content)


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation of the document, by path then method."""
    found = []
    paths = document.get("paths")
    for path, item in sorted(paths.items() if isinstance(paths, dict) else []):
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                found.append(
                    Operation(
                        method=method.upper(),
                        path=path,
                        operation_id=str(operation.get("operationId") or ""),
                        summary=str(operation.get("summary") or operation.get("description") or "")[:200],
                    )
                )
    return found


def base_url(document: dict[str, Any], source_url: str | None) -> str:
    """Where the operations answer: the first absolute server of the document, else the document's own
    address without its file name, else ''."""
    for server in document.get("servers") or []:
        url = server.get("url") if isinstance(server, dict) else None
        if isinstance(url, str) and urlsplit(url).scheme in ("http", "https"):
            return url.rstrip("/")
    if source_url:
        return source_url.rsplit("/", 1)[0]
    return ""
