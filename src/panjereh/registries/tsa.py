"""A simulated time-stamping authority speaking RFC 3161 over HTTP (RFC 3161 §3.4), for demos and tests.

`POST /tsa/` takes a DER `TimeStampReq` (`application/timestamp-query`) and answers a DER `TimeStampResp`
(`application/timestamp-reply`); `GET /tsa/certificate` gives the root the TSA's certificate is issued
under (PEM), the trust anchor a verifier needs. The structures are asn1crypto's (`tsp`, `cms`), signed
with `cryptography`: no ASN.1 is written by hand. The keys are derived from the registries' seed, so a
restarted simulator still verifies the tokens it gave before (a real TSA keeps its key, too).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi import FastAPI, Request, Response

TSA_POLICY = "1.3.6.1.4.1.61447.3161.1"  # the simulator's policy (an arbitrary private arc)
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
_VALID_FROM = datetime(2020, 1, 1, tzinfo=UTC)
_VALID_TO = datetime(2060, 1, 1, tzinfo=UTC)
_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def _derived_key(seed: int, label: str) -> ec.EllipticCurvePrivateKey:
    secret = int.from_bytes(hashlib.sha256(f"panjereh-tsa:{seed}:{label}".encode()).digest(), "big")
    return ec.derive_private_key(secret % (2**255) + 1, ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Panjereh simulated TSA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@dataclass(frozen=True)
class Authority:
    """The TSA's root, its time-stamping certificate and key."""

    root: x509.Certificate
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def from_seed(cls, seed: int) -> Authority:
        root_key, tsa_key = _derived_key(seed, "root"), _derived_key(seed, "tsa")
        root_name = _name("Panjereh simulated TSA root")
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(1)
            .not_valid_before(_VALID_FROM)
            .not_valid_after(_VALID_TO)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name("Panjereh simulated TSA"))
            .issuer_name(root_name)
            .public_key(tsa_key.public_key())
            .serial_number(2)
            .not_valid_before(_VALID_FROM)
            .not_valid_after(_VALID_TO)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # RFC 3161 §2.3: the TSA's certificate has exactly one extended key usage, critical.
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
            )
            .sign(root_key, hashes.SHA256())
        )
        return cls(root, certificate, tsa_key)

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)


class TimeStampResp(tsp.TimeStampResp):
    """RFC 3161 §2.4.2's TimeStampResp, whose token is OPTIONAL (absent from a rejection); asn1crypto's
    definition has it mandatory."""

    _fields = [  # noqa: RUF012 — asn1crypto's way of declaring a structure
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def _rejection(fail: str, text: str) -> bytes:
    return TimeStampResp(
        {
            "status": tsp.PKIStatusInfo(
                {"status": "rejection", "status_string": [text], "fail_info": tsp.PKIFailureInfo({fail})}
            )
        }
    ).dump()


class Stamper:
    """Answers time-stamp requests with tokens signed by `authority` (serial numbers count up)."""

    def __init__(self, authority: Authority, clock: Callable[[], datetime]) -> None:
        self.authority = authority
        self.clock = clock
        self._serials = itertools.count(1)
        self._lock = threading.Lock()
        self._cert_der = authority.certificate.public_bytes(serialization.Encoding.DER)

    def respond(self, body: bytes) -> bytes:
        """The DER TimeStampResp for a DER TimeStampReq (a rejection for what it cannot stamp)."""
        try:
            request = tsp.TimeStampReq.load(body, strict=True)
            request.native  # noqa: B018 — parses the whole request now (asn1crypto parses lazily)
            imprint = request["message_imprint"]
            algorithm = imprint["hash_algorithm"]["algorithm"].native
            digest = imprint["hashed_message"].native
            nonce = request["nonce"].native
            policy = request["req_policy"].native
            wants_certificate = bool(request["cert_req"].native)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError):
            return _rejection("bad_data_format", "not a TimeStampReq")
        if algorithm not in _HASHES:
            return _rejection("bad_alg", f"hash algorithm {algorithm} is not accepted")
        if len(digest) != _HASHES[algorithm]().digest_size:
            return _rejection("bad_data_format", "the imprint's length does not match its algorithm")
        if policy not in (None, TSA_POLICY):
            return _rejection("unaccepted_policy", "unknown policy")
        return self._granted(imprint, nonce, wants_certificate)

    def _granted(self, imprint: tsp.MessageImprint, nonce: int | None, wants_certificate: bool) -> bytes:
        with self._lock:
            serial = next(self._serials)
        info: dict[str, object] = {
            "version": "v1",
            "policy": TSA_POLICY,
            "message_imprint": imprint,
            "serial_number": serial,
            "gen_time": self.clock().astimezone(UTC).replace(microsecond=0),
            "accuracy": {"seconds": 1},
            "ordering": False,
        }
        if nonce is not None:
            info["nonce"] = nonce
        tst_info = tsp.TSTInfo(info).dump()
        signed_attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(tst_info).digest()]}),
                cms.CMSAttribute(
                    {
                        "type": "signing_certificate_v2",
                        "values": [
                            tsp.SigningCertificateV2(
                                {"certs": [{"cert_hash": hashlib.sha256(self._cert_der).digest()}]}
                            )
                        ],
                    }
                ),
            ]
        )
        # The signature covers the attributes' DER as a SET OF (RFC 5652 §5.4).
        signature = self.authority.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        certificate = asn1_x509.Certificate.load(self._cert_der)
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": certificate.issuer,
                            "serial_number": certificate.serial_number,
                        }
                    }
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed_data: dict[str, object] = {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "tst_info", "content": core.ParsableOctetString(tst_info)},
            "signer_infos": [signer],
        }
        if wants_certificate:
            signed_data["certificates"] = [certificate]
        token = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


def create_app(seed: int, clock: Callable[[], datetime]) -> FastAPI:
    """The TSA's sub-app: `POST /` (RFC 3161 over HTTP) and `GET /certificate` (the root, PEM)."""
    stamper = Stamper(Authority.from_seed(seed), clock)
    app = FastAPI(
        title="Time-stamping authority (simulated, RFC 3161)",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.stamper = stamper

    @app.post("/", summary="Time-stamp a digest (RFC 3161 §3.4)", response_class=Response)
    async def stamp(request: Request) -> Response:
        body = await request.body()
        if request.headers.get("content-type", "").split(";")[0].strip() != QUERY_TYPE:
            return Response(
                _rejection("bad_request", f"send {QUERY_TYPE}"), status_code=415, media_type=REPLY_TYPE
            )
        return Response(stamper.respond(body[:65536]), media_type=REPLY_TYPE)

    @app.get("/certificate", summary="The TSA's root certificate (PEM)", response_class=Response)
    def certificate() -> Response:
        return Response(stamper.authority.root_pem(), media_type="application/x-pem-file")

    @app.get("/healthz", summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "registry": "tsa"}

    return app
