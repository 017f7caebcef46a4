"""The witness seen from outside: RFC 3161 time-stamps from the simulated TSA, the public heads endpoint,
and third parties' mirrors of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from panjereh.app import create_app
from panjereh.core.config import ExchangeSettings, Settings
from panjereh.exchange.messagelog import LogWriter, seal_and_witness
from panjereh.exchange.mirror import append_mirror, compare_with_witness, fetch_heads
from panjereh.exchange.signing import LogSigner, load_signer
from panjereh.exchange.timestamps import PINNED_ROOTS, load_roots, stamp_witness
from panjereh.exchange.verify import verify_log
from panjereh.exchange.witness import Witness, canonical, line_hash, lines_of
from panjereh.exchange.witness_check import WitnessSource
from tests.exchange.test_messagelog import record
from tests.support.servers import free_port, running_server


@pytest.fixture
def signer(settings: Settings) -> LogSigner:
    return load_signer(settings.home)


@pytest.fixture
def local(settings: Settings, tmp_path: Path, registries_url: str) -> Settings:
    """The test's settings with a witness file of its own and the simulated TSA."""
    exchange = ExchangeSettings(
        witness_file=tmp_path / "w" / "exchange-log.jsonl", tsa_url=f"{registries_url}/tsa/"
    )
    return settings.model_copy(update={"exchange": exchange})


@pytest.fixture
def witness(local: Settings, signer: LogSigner) -> Witness:
    assert local.exchange.witness_file is not None
    return Witness(local.exchange.witness_file, signer)


@pytest.fixture
def witnessed(
    db: Session, session_factory: sessionmaker[Session], signer: LogSigner, witness: Witness
) -> Session:
    """Six entries in two batches, each sealed and witnessed (four seal lines, the writer's first too)."""
    writer = LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600, witness=witness)
    for batch in range(3):
        for n in range(2):
            writer.submit(record(batch * 10 + n))
        seal_and_witness(session_factory, signer, witness)
    return db


def _check(db: Session, signer: LogSigner, lines, roots):
    return verify_log(db, signer, witness=WitnessSource(list(lines), roots=roots))


def test_the_newest_head_is_time_stamped_and_the_token_verifies(
    witnessed: Session, local: Settings, signer: LogSigner, witness: Witness
) -> None:
    assert stamp_witness(local, witness)
    lines = list(witness.lines())
    stamp = lines[-1]
    assert (
        stamp["kind"] == "timestamp" and stamp["covers"] == 4 and stamp["covers_hash"] == line_hash(lines[3])
    )
    roots = load_roots(witness.path.parent / PINNED_ROOTS)  # pinned from the TSA on first use
    assert roots is not None
    report = _check(witnessed, signer, lines, roots)
    assert report.ok, report.findings
    assert (report.timestamps_checked, report.stamped_through) == (1, 4)
    assert not stamp_witness(local, witness)  # nothing new to stamp
    assert len(list(witness.lines())) == 5


def test_a_down_tsa_does_not_stop_sealing_and_the_stamp_comes_later(
    witnessed: Session,
    session_factory: sessionmaker[Session],
    local: Settings,
    signer: LogSigner,
    witness: Witness,
) -> None:
    down = local.model_copy(
        update={
            "exchange": local.exchange.model_copy(update={"tsa_url": f"http://127.0.0.1:{free_port()}/tsa/"})
        }
    )
    assert not stamp_witness(down, witness)
    LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600, witness=witness).submit(
        record(50)
    )
    assert seal_and_witness(session_factory, signer, witness) is not None
    assert [line["kind"] for line in witness.lines()] == ["seal"] * 5
    assert stamp_witness(local, witness)  # the TSA is back: the newest head is stamped
    assert list(witness.lines())[-1]["covers"] == 5


def test_a_witness_file_rewritten_with_the_key_is_betrayed_by_its_time_stamps(
    witnessed: Session, local: Settings, signer: LogSigner, witness: Witness, tmp_path: Path
) -> None:
    """An operator with the host (and so the key) rewrites the witness file; the tokens do not follow."""
    assert stamp_witness(local, witness)
    roots = load_roots(witness.path.parent / PINNED_ROOTS)
    lines = list(witness.lines())
    forged = Witness(tmp_path / "forged.jsonl", signer)
    with forged._locked() as fd:  # the attacker's own appends, signed with the real key
        bodies = [
            {k: v for k, v in line.items() if k not in {"n", "prev", "key", "sig"}} for line in lines[:4]
        ]
        bodies[1]["at"] = "2020-01-01T00:00:00.000000Z"  # say, a seal's time moved
        tail = forged._append(fd, forged.tail(), bodies)
        new_hash = tail.prev
        stamp = {k: v for k, v in lines[4].items() if k not in {"n", "prev", "key", "sig"}}
        forged._append(fd, tail, [{**stamp, "covers_hash": new_hash}])
    findings = _check(witnessed, signer, forged.lines(), roots).findings
    assert any(f.kind == "timestamp" and "does not verify" in f.detail for f in findings)


def test_a_token_is_checked_against_the_tsa_root_it_is_given(
    witnessed: Session, local: Settings, signer: LogSigner, witness: Witness
) -> None:
    from panjereh.registries.tsa import Authority

    assert stamp_witness(local, witness)
    stranger = [Authority.from_seed(7).root]
    findings = _check(witnessed, signer, witness.lines(), stranger).findings
    assert [f.kind for f in findings] == ["timestamp"]
    assert _check(witnessed, signer, witness.lines(), None).timestamps_checked == 0  # no root: not checked


@pytest.fixture
def heads_app(local: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    application = create_app(local)
    application.state.sessionmaker = session_factory
    return application


@pytest.fixture
def heads_client(heads_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(heads_app, base_url="http://testserver") as test_client:
        yield test_client


HEADS = "/api/v1/exchange/log/heads"


def test_the_heads_endpoint_pages_the_witness_lines_for_anyone(
    witnessed: Session, witness: Witness, heads_client: TestClient
) -> None:
    lines = list(witness.lines())
    first = heads_client.get(HEADS, params={"limit": 3})
    assert first.status_code == 200
    body = first.json()
    assert body["format"] == "panjereh-witness/1" and body["lines"] == lines[:3]
    assert (
        first.headers["cache-control"] == "public, max-age=31536000, immutable"
    )  # a full page never changes
    assert body["next"].endswith(f"{HEADS}?limit=3&after=3") or "after=3" in body["next"]
    last = heads_client.get(body["next"])
    assert last.json()["lines"] == lines[3:] and last.json()["next"] is None
    assert (
        last.headers["cache-control"].startswith("public, max-age=")
        and "immutable" not in last.headers["cache-control"]
    )
    again = heads_client.get(HEADS, params={"limit": 3}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    keys = heads_client.get(body["keys"]).json()["keys"]
    assert {line["key"] for line in lines} <= {key["kid"] for key in keys}
    assert all("d" not in key for key in keys)  # public halves only


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1001}, {"after": -1}, {"after": "x"}, {"after": 2**60}]
)
def test_the_heads_endpoint_refuses_bad_paging(heads_client: TestClient, params: dict) -> None:
    answer = heads_client.get(HEADS, params=params)
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")


def test_an_empty_witness_gives_an_empty_page(heads_client: TestClient) -> None:
    body = heads_client.get(HEADS).json()
    assert body["lines"] == [] and body["next"] is None


def test_a_mirror_over_real_http_finds_a_witness_file_cut_short(
    witnessed: Session,
    local: Settings,
    signer: LogSigner,
    witness: Witness,
    heads_app: FastAPI,
    tmp_path: Path,
) -> None:
    mirror = tmp_path / "mirror.jsonl"
    with running_server(heads_app) as url:
        assert append_mirror(mirror, fetch_heads(url + HEADS)) == 4
        assert append_mirror(mirror, fetch_heads(url + HEADS, after=4)) == 0
    assert mirror.read_bytes() == witness.path.read_bytes()  # byte for byte: canonical lines
    mirrored = list(lines_of(mirror))
    assert compare_with_witness(mirrored, witness) == []
    assert _check(witnessed, signer, mirrored, None).ok
    # Someone with the host cuts the witness file short and replaces a line (re-signed with the key).
    kept = list(witness.lines())[:2]
    kept[1] = {**kept[1], "head": "e" * 64}
    witness.path.write_bytes(b"".join(canonical(line) + b"\n" for line in kept))
    details = [f.detail for f in compare_with_witness(mirrored, witness)]
    assert details == [
        "the witness file lacks 2 line(s) the mirror holds, from line 3",
        "1 witness line(s) differ from the mirror's, from line 2",
    ]
