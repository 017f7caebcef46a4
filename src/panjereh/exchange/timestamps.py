"""RFC 3161 time-stamps over the witness file's heads: fetched from a TSA by a job, checked by verify-log.

A token is asked over the newest seal line's hash (its imprint: SHA-256 over the 32 bytes of `line_hash`,
the SHA-256 of the line); as every line names the one
before it, the token dates every line up to it. When the TSA cannot be reached nothing else waits: seals
are made and witnessed as always, and the next run of the job stamps the newest line then. Requests,
responses and their checks are `rfc3161-client`'s; the TSA's root is the configured PEM file, else the one
the TSA published at `<tsa_url>/certificate` when first asked, pinned beside the witness file.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

import httpx
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client.tsp import PKIStatus

from panjereh.core.config import Settings
from panjereh.core.logging import get_logger
from panjereh.exchange.witness import Witness, line_hash

log = get_logger(__name__)

QUERY_TYPE = "application/timestamp-query"
PINNED_ROOTS = "tsa-roots.pem"  # beside the witness file
SHA256_OID = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")


class TimestampError(Exception):
    """A token could not be had or does not verify."""


def roots_path(settings: Settings, witness: Witness) -> Path:
    """Where the TSA's root certificates are read from: the setting, else the pinned copy."""
    return settings.exchange.tsa_certificate or witness.path.parent / PINNED_ROOTS


def load_roots(path: Path) -> list[x509.Certificate] | None:
    """The certificates of a PEM file, or None when there is none."""
    if not path.exists():
        return None
    return x509.load_pem_x509_certificates(path.read_bytes())


def _pin_roots(url: str, path: Path, client: httpx.Client) -> list[x509.Certificate]:
    answer = client.get(url.rstrip("/") + "/certificate")
    answer.raise_for_status()
    roots = x509.load_pem_x509_certificates(answer.content)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(answer.content)
    log.info("exchange_tsa_root_pinned", path=str(path), subject=roots[0].subject.rfc4514_string())
    return roots


def request_token(url: str, digest: bytes, roots: list[x509.Certificate], client: httpx.Client) -> bytes:
    """Ask the TSA at `url` to stamp a SHA-256 digest; the DER TimeStampResp, verified against `roots`."""
    # The library hashes what it is given: the imprint is SHA-256 over the digest's 32 bytes.
    request = TimestampRequestBuilder().data(digest).hash_algorithm(HashAlgorithm.SHA256).build()
    answer = client.post(url, content=request.as_bytes(), headers={"Content-Type": QUERY_TYPE})
    answer.raise_for_status()
    response = decode_timestamp_response(answer.content)
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampError(f"the TSA refused: {' '.join(response.status_string) or response.status}")
    try:
        VerifierBuilder.from_request(request).add_root_certificate(roots[0]).build().verify_message(
            response, digest
        )
    except VerificationError as error:
        raise TimestampError(f"the TSA's answer does not verify: {error}") from error
    return answer.content


def verify_token(token: str, covered_hash: str, roots: list[x509.Certificate]) -> datetime:
    """Check a stored token (base64 DER TimeStampResp) over a witness line's hash; its time."""
    try:
        response = decode_timestamp_response(base64.b64decode(token, validate=True))
    except ValueError as error:
        raise TimestampError(f"not a time-stamp response: {error}") from error
    if response.tst_info.message_imprint.hash_algorithm != SHA256_OID:
        raise TimestampError("the token is not over a SHA-256 digest")
    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        # The token's imprint is SHA-256 over the line hash's bytes (what `request_token` was given).
        builder.build().verify_message(response, bytes.fromhex(covered_hash))
    except (VerificationError, ValueError) as error:
        raise TimestampError(str(error)) from error
    return response.tst_info.gen_time


def stamp_witness(settings: Settings, witness: Witness, *, timeout: float = 5.0) -> bool:
    """Get a token over the newest seal line if no token covers it yet; False when nothing was stamped.

    A TSA that is down or answers wrongly is logged and left for the next run.
    """
    url = settings.exchange.tsa_url
    if not url:
        return False
    tail = witness.tail()
    if tail.last_seal_body is None or tail.stamped_line >= tail.last_seal_line:
        return False
    path = roots_path(settings, witness)
    try:
        with httpx.Client(timeout=timeout) as client:
            roots = load_roots(path) or _pin_roots(url, path, client)
            covered = tail.last_seal_body
            token = request_token(url, bytes.fromhex(line_hash(covered)), roots, client)
    except (httpx.HTTPError, TimestampError, ValueError) as error:
        log.warning("exchange_timestamp_failed", tsa=url, error=str(error))
        return False
    witness.add_timestamp(covered, url, base64.b64encode(token).decode())
    return True
