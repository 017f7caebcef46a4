"""Malformed and oversized bodies: a 400 or 413 problem with a stable code, never platform.internal, for
anyone (the fuzzer's findings of issue #13, each sent anonymously)."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from panjereh.app import create_app
from panjereh.core.bodies import family_of
from panjereh.core.config import BodyLimitSettings, Settings
from panjereh.core.errors import PROBLEM_JSON, problem_for_status
from tests.support.servers import running_server

JSON = {"content-type": "application/json"}
VERIFY = "/api/v1/documents/verify"  # public: no session, no token
OAUTH_TOKEN = "/oauth2/token"  # public: a form
GATEWAY_TOKEN = "/exchange/v1/token"  # the exchange gateway's own form


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == code and problem["status"] == status
    assert problem["title"] and problem["title_fa"]
    return problem


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"number": "\xff\xfe"}', "UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"number": ' + b"9" * 5000 + b"}", "too many digits"),
        (b'{"number": NaN}', "NaN and Infinity"),
        (b'{"number": -Infinity}', "NaN and Infinity"),
        (b'{"number": Infinity}', "NaN and Infinity"),
        (b'{"number": ', "not JSON"),
    ],
    ids=["not-utf8", "5000-deep", "5000-digits", "nan", "minus-infinity", "infinity", "truncated"],
)
def test_a_malformed_json_body_is_a_400_problem(client: TestClient, body: bytes, says: str) -> None:
    problem = _problem(client.post(VERIFY, content=body, headers=JSON), 400, "client.malformed_body")
    assert says in problem["detail"] and problem["detail_fa"]


def test_well_formed_json_still_reaches_the_route(client: TestClient) -> None:
    response = client.post(VERIFY, content=b'{"number": "123"}', headers=JSON)
    assert response.status_code == 200 and response.json()["valid"] is False


@pytest.mark.parametrize("path", [OAUTH_TOKEN, GATEWAY_TOKEN, "/login"])
def test_multipart_without_a_boundary_is_a_400_problem(client: TestClient, path: str) -> None:
    response = client.post(path, content=b"grant_type=x", headers={"content-type": "multipart/form-data"})
    _problem(response, 400, "client.malformed_body")


def test_a_multipart_field_over_a_megabyte_is_a_400_problem(client: TestClient) -> None:
    field = b"x" * (1024 * 1024 + 10)
    body = b'--XX\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\n' + field + b"\r\n--XX--\r\n"
    response = client.post(
        OAUTH_TOKEN, content=body, headers={"content-type": "multipart/form-data; boundary=XX"}
    )
    problem = _problem(response, 400, "client.malformed_body")
    assert "maximum size" in problem["detail"]


def test_a_form_field_over_the_form_limit_is_a_413_problem(client: TestClient, settings: Settings) -> None:
    body = b"grant_type=" + b"x" * (1024 * 1024)
    response = client.post(
        OAUTH_TOKEN, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    problem = _problem(response, 413, "client.payload_too_large")
    assert problem["max_bytes"] == settings.max_body.form


@pytest.mark.parametrize(
    ("path", "content_type", "family"),
    [
        (VERIFY, "application/json", "api"),
        (OAUTH_TOKEN, "application/x-www-form-urlencoded", "form"),
        (OAUTH_TOKEN, "multipart/form-data; boundary=XX", "upload"),
        (GATEWAY_TOKEN, "application/x-www-form-urlencoded", "exchange"),
    ],
)
def test_a_body_over_its_familys_limit_is_a_413_problem(
    client: TestClient, settings: Settings, path: str, content_type: str, family: str
) -> None:
    limit = getattr(settings.max_body, family)
    chunks = (b" " * 65536 for _ in range(limit // 65536 + 2))  # no Content-Length: counted as it comes
    response = client.post(path, content=chunks, headers={"content-type": content_type})
    assert _problem(response, 413, "client.payload_too_large")["max_bytes"] == limit


@pytest.fixture(scope="module")
def small_limits_server(settings: Settings) -> Iterator[tuple[str, int]]:
    """The portal over real HTTP with 4 KiB limits (the test client reads a body whole before the app)."""
    limits = BodyLimitSettings(api=4096, form=4096, upload=4096, exchange=4096)
    with running_server(create_app(settings.model_copy(update={"max_body": limits}))) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (it does, after a 413)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:  # closed with some of our body unread: what came before still counts
        pass
    return received


def _head(answer: bytes) -> bytes:
    return answer.split(b"\r\n\r\n", 1)[0]


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    small_limits_server: tuple[str, int],
) -> None:
    with socket.create_connection(small_limits_server, timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/documents/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n"
        )
        answer = _answer(sock)  # the answer comes with none of the 100 MB sent
    assert _head(answer).startswith(b"HTTP/1.1 413") and b"application/problem+json" in _head(answer)
    assert b"client.payload_too_large" in answer


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        (VERIFY, "application/json"),
        (OAUTH_TOKEN, "application/x-www-form-urlencoded"),
        (GATEWAY_TOKEN, "application/x-www-form-urlencoded"),
    ],
)
def test_a_chunked_body_is_refused_as_it_streams_not_read_whole(
    small_limits_server: tuple[str, int], path: str, content_type: str
) -> None:
    hundred_mb, chunk = 100 * 1024 * 1024, b"10000\r\n" + b" " * 65536 + b"\r\n"
    sent = 0
    with socket.create_connection(small_limits_server, timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            while sent < hundred_mb and not select.select([sock], [], [], 0)[0]:
                sock.sendall(chunk)
                sent += 65536
        except OSError:  # the server answered and closed while this was still sending
            pass
        answer = _answer(sock)
    assert _head(answer).startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"client.payload_too_large" in answer
    assert sent < hundred_mb // 4  # what the kernel's buffers took, not the 100 MB


@pytest.mark.parametrize("status", [400, 406, 411, 413, 414, 415, 418, 431])
def test_no_client_status_becomes_an_internal_error(status: int) -> None:
    problem = problem_for_status(status)
    assert problem.status == status and problem.code.startswith("client.")
    assert problem_for_status(500).code == "platform.internal"


def test_families_by_path_and_content_type() -> None:
    assert family_of("/exchange/v1/x/y", "multipart/form-data; boundary=a") == "exchange"
    assert family_of("/api/v1/x", "Multipart/Form-Data; boundary=a") == "upload"
    assert family_of("/login", "application/x-www-form-urlencoded; charset=utf-8") == "form"
    assert family_of("/api/v1/x", "") == "api"
