"""The simulated time-stamping authority over real HTTP, checked with an RFC 3161 client library."""

import hashlib

import httpx
import pytest
from asn1crypto import algos, tsp
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from panjereh.registries.tsa import QUERY_TYPE, REPLY_TYPE, TSA_POLICY, Authority, TimeStampResp
from tests.registries.conftest import START


def _ask(anonymous: httpx.Client, body: bytes, content_type: str = QUERY_TYPE) -> httpx.Response:
    return anonymous.post("/tsa/", content=body, headers={"Content-Type": content_type})


def _root(anonymous: httpx.Client) -> x509.Certificate:
    answer = anonymous.get("/tsa/certificate")
    assert answer.status_code == 200
    return x509.load_pem_x509_certificate(answer.content)


def test_a_token_verifies_against_the_published_root(anonymous: httpx.Client) -> None:
    request = TimestampRequestBuilder().data(b"a witnessed head").hash_algorithm(HashAlgorithm.SHA256).build()
    answer = _ask(anonymous, request.as_bytes())
    assert answer.status_code == 200 and answer.headers["content-type"] == REPLY_TYPE
    response = decode_timestamp_response(answer.content)
    assert response.status == PKIStatus.GRANTED
    assert response.tst_info.nonce == request.nonce and response.tst_info.gen_time == START
    assert response.tst_info.policy.dotted_string == TSA_POLICY
    verifier = VerifierBuilder.from_request(request).add_root_certificate(_root(anonymous)).build()
    assert verifier.verify_message(response, b"a witnessed head")
    with pytest.raises(VerificationError):
        verifier.verify_message(response, b"another head")


def test_the_serial_numbers_count_up_and_sha512_is_accepted(anonymous: httpx.Client) -> None:
    serials = []
    for _ in range(2):
        request = TimestampRequestBuilder().data(b"x").hash_algorithm(HashAlgorithm.SHA512).build()
        serials.append(
            decode_timestamp_response(_ask(anonymous, request.as_bytes()).content).tst_info.serial_number
        )
    assert serials[1] > serials[0]


def test_another_authority_s_root_does_not_verify(anonymous: httpx.Client) -> None:
    request = TimestampRequestBuilder().data(b"x").hash_algorithm(HashAlgorithm.SHA256).build()
    response = decode_timestamp_response(_ask(anonymous, request.as_bytes()).content)
    stranger = VerifierBuilder().add_root_certificate(Authority.from_seed(7).root).build()
    with pytest.raises(VerificationError):
        stranger.verify(response, hashlib.sha256(b"x").digest())
    # The same seed makes the same keys: a restarted simulator's root still verifies its old tokens.
    again = VerifierBuilder().add_root_certificate(Authority.from_seed(1402).root).build()
    assert again.verify(response, hashlib.sha256(b"x").digest())


def _rejection(answer: httpx.Response) -> str:
    status = TimeStampResp.load(answer.content)["status"]
    assert status["status"].native == "rejection"
    return next(iter(status["fail_info"].native))


def test_what_cannot_be_stamped_is_rejected(anonymous: httpx.Client) -> None:
    assert _rejection(_ask(anonymous, b"not der at all")) == "bad_data_format"
    sha1 = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha1"}),
                "hashed_message": hashlib.sha1(b"x").digest(),  # noqa: S324 — the point of the test
            },
        }
    ).dump()
    assert _rejection(_ask(anonymous, sha1)) == "bad_alg"
    short = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": b"\x00" * 5,
            },
        }
    ).dump()
    assert _rejection(_ask(anonymous, short)) == "bad_data_format"
    policy = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": hashlib.sha256(b"x").digest(),
            },
            "req_policy": "1.2.3.4",
        }
    ).dump()
    assert _rejection(_ask(anonymous, policy)) == "unaccepted_policy"
    wrong_type = _ask(anonymous, sha1, content_type="application/json")
    assert wrong_type.status_code == 415 and _rejection(wrong_type) == "bad_request"


def test_the_tsa_certificate_is_for_time_stamping_only(anonymous: httpx.Client) -> None:
    authority = Authority.from_seed(1402)
    usage = authority.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert usage.critical and list(usage.value) == [x509.ExtendedKeyUsageOID.TIME_STAMPING]
    assert _root(anonymous).subject == authority.root.subject
