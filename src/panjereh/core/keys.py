"""Signing keys by purpose: a key ring kept in a folder under PANJEREH_HOME, or given as a JWK Set.

Each purpose (signed documents, OIDC tokens, the exchange's log seals) has its own ring with one
algorithm, described by a `KeyPolicy`. By default the ring lives in `$PANJEREH_HOME/keys/<purpose>/`: one
`<kid>.json` per key (the private JWK with `created_at`, and `signs_from` when the key was published ahead
of signing; files 0600, the folder 0700) and `active`, naming the newest key. A rotation adds a key and
rewrites `active`; older keys stay published, so what they signed still verifies. Another process sees a
rotation at its next load: a new key file or a rewritten `active` changes a modification time, and each
load compares those two (one `stat` each) before reading anything. In production the ring comes instead
from a setting holding a JWK Set of private keys (the first one signs), out of a secret store.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from panjereh.core.db import utcnow

# The algorithms the rings sign with, and the key each needs (type, curve or RSA size).
ALGORITHMS: dict[str, tuple[str, str | int]] = {
    "ES256": ("EC", "P-256"),
    "RS256": ("RSA", 2048),
    "Ed25519": ("OKP", "Ed25519"),  # RFC 9864's fully specified name (it deprecates "EdDSA")
}
# The members of a public JWK (RFC 7518 §6, RFC 8037 §2): a published key never carries anything else.
PUBLIC_MEMBERS = {"EC": ("kty", "crv", "x", "y"), "RSA": ("kty", "n", "e"), "OKP": ("kty", "crv", "x")}
KID_LENGTH = 12  # the first characters of the RFC 7638 thumbprint: short (it travels in QR codes), unique
ACTIVE_FILE = "active"
_METADATA = ("created_at", "signs_from")  # kept in a key's file beside its JWK members

SigningKey = ECKey | RSAKey | OKPKey
K = TypeVar("K", bound=SigningKey)


class KeyConfigurationError(RuntimeError):
    """The configured signing keys cannot be used."""


def thumbprint_kid(key: SigningKey) -> str:
    """A key id: the start of the key's RFC 7638 thumbprint."""
    return key.thumbprint()[:KID_LENGTH]


@dataclass(frozen=True)
class KeyPolicy(Generic[K]):
    """One purpose's ring: its folder's name, its algorithm and key class, how its keys are named."""

    purpose: str  # the folder under $PANJEREH_HOME/keys
    algorithm: str  # a key of ALGORITHMS
    key_class: type[K]
    setting: str | None  # the variable that may hold the ring as a JWK Set instead (named in errors)
    kid: Callable[[K], str] = thumbprint_kid
    # Where an older layout kept this purpose's key: the ring's first key is taken from there, not made.
    earlier_key: Callable[[Path], K | None] | None = None

    def new_key(self) -> K:
        """A fresh private key for this ring, with its id."""
        key = self.key_class.generate_key(ALGORITHMS[self.algorithm][1], private=True)  # type: ignore[arg-type]
        return self.with_kid(cast(K, key))

    def with_kid(self, key: K) -> K:
        """The same key carrying this ring's id for it."""
        return self.import_key(key.as_dict(private=True), {"kid": self.kid(key)})

    def import_key(self, data: Any, parameters: Any = None) -> K:
        """A key of this ring's class from a JWK (or PEM)."""
        return cast(K, self.key_class.import_key(data, parameters))

    def folder(self, home: Path) -> Path:
        return home / "keys" / self.purpose


@dataclass(frozen=True)
class StoredKey(Generic[K]):
    """A key of a ring and when it may sign."""

    key: K
    created_at: datetime | None = None
    signs_from: datetime | None = None  # published before it signs, so verifiers have it first


@dataclass(frozen=True)
class KeyRing(Generic[K]):
    """Every published key, newest first; the newest whose time has come signs."""

    algorithm: str
    entries: tuple[StoredKey[K], ...]

    @property
    def active(self) -> K:
        """The key to sign with now."""
        now = utcnow()
        for entry in self.entries:
            if entry.signs_from is None or entry.signs_from <= now:
                return entry.key
        return self.entries[-1].key  # every key waits: the oldest is the one verifiers have had longest

    @property
    def active_kid(self) -> str:
        return str(self.active.kid)

    @property
    def published(self) -> tuple[K, ...]:
        return tuple(entry.key for entry in self.entries)

    def key_set(self) -> KeySet:
        """All published keys, for verifying."""
        return KeySet(list(self.published))

    def find(self, kid: str) -> K | None:
        """The published key with this id, if any."""
        return next((key for key in self.published if key.kid == kid), None)

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set (RFC 7517): never a private part."""
        return {"keys": [public_jwk(key, self.algorithm) for key in self.published]}


def public_jwk(key: SigningKey, algorithm: str) -> dict[str, Any]:
    """The public half of a key, marked for signatures with `algorithm`."""
    data = key.as_dict(private=False)
    return {
        **{name: data[name] for name in PUBLIC_MEMBERS[key.key_type]},
        "kid": key.kid,
        "use": "sig",
        "alg": algorithm,
    }


_lock = threading.Lock()
_cache: dict[str, tuple[int, Any]] = {}  # folder → (its stamp, its KeyRing)


def load(policy: KeyPolicy[K], home: Path, configured: str | None = None) -> KeyRing[K]:
    """The ring to sign and verify with: from `configured` (a JWK Set) if given, else from the folder.

    The folder's first key is made on first use.
    """
    if configured:
        return _from_setting(policy, configured)
    folder = policy.folder(home)
    with _lock:
        stamp = _folder_stamp(folder)
        cached = _cache.get(str(folder))
        if cached is not None and cached[0] == stamp:
            ring: KeyRing[K] = cached[1]
            return ring
        if not (folder / ACTIVE_FILE).exists():
            _create_first_key(policy, home)
            stamp = _folder_stamp(folder)
        ring = _from_folder(policy, folder)
        _cache[str(folder)] = (stamp, ring)
        return ring


def rotate(
    policy: KeyPolicy[K], home: Path, configured: str | None = None, *, publish_ahead: timedelta | None = None
) -> KeyRing[K]:
    """Add a new key and make it the newest; the older ones stay published.

    With `publish_ahead`, the new key is published at once and signs only once that time has passed.
    On an empty ring the new key is its first, and signs at once.
    """
    if configured:
        raise KeyConfigurationError(
            f"keys come from {policy.setting}: rotate them in the secret store (new key first)"
        )
    folder = policy.folder(home)
    if not (folder / ACTIVE_FILE).exists():  # an empty ring: its first key is the new one
        return load(policy, home)
    with _lock:
        key = policy.new_key()
        signs_from = utcnow() + publish_ahead if publish_ahead else None
        _write_key(folder, key, signs_from)
        _write_atomically(folder / ACTIVE_FILE, str(key.kid) + "\n", mode=0o644)
        _cache.pop(str(folder), None)
    return load(policy, home)


def _folder_stamp(folder: Path) -> int:
    # A new key file or a rewritten `active` file changes one of these, so other processes see a rotation.
    try:
        return max(folder.stat().st_mtime_ns, (folder / ACTIVE_FILE).stat().st_mtime_ns)
    except FileNotFoundError:
        return -1


def _create_first_key(policy: KeyPolicy[K], home: Path) -> None:
    folder = policy.folder(home)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    earlier = policy.earlier_key(home) if policy.earlier_key is not None else None
    key = policy.with_kid(earlier) if earlier is not None else policy.new_key()
    _write_key(folder, key, None)
    # The pointer is written whole to a file of our own, then linked into place: `link` creates the name
    # only if it is absent, atomically, so when two processes start together exactly one key becomes
    # active, and no reader ever sees an `active` file that exists but is still empty.
    candidate = folder / f"{ACTIVE_FILE}.{os.getpid()}.{key.kid}.tmp"
    _write_atomically(candidate, str(key.kid) + "\n", mode=0o644)
    try:
        os.link(candidate, folder / ACTIVE_FILE)
    except FileExistsError:
        if earlier is None:  # the same earlier key is the winner's too: keep its file
            (folder / f"{key.kid}.json").unlink(missing_ok=True)
    finally:
        candidate.unlink(missing_ok=True)


def _write_key(folder: Path, key: SigningKey, signs_from: datetime | None) -> None:
    record = {**key.as_dict(private=True), "kid": key.kid, "created_at": utcnow().isoformat()}
    if signs_from is not None:
        record["signs_from"] = signs_from.isoformat()
    _write_atomically(folder / f"{key.kid}.json", json.dumps(record, indent=2), mode=0o600)


def _write_atomically(path: Path, text: str, *, mode: int) -> None:
    temporary = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(temporary, mode)  # the umask must not widen or narrow what we asked for
    os.replace(temporary, path)


def _stored(policy: KeyPolicy[K], record: dict[str, Any]) -> StoredKey[K]:
    times = {name: datetime.fromisoformat(record[name]) if record.get(name) else None for name in _METADATA}
    members = {name: value for name, value in record.items() if name not in _METADATA}
    return StoredKey(policy.import_key(members), **times)


def _from_folder(policy: KeyPolicy[K], folder: Path) -> KeyRing[K]:
    active_kid = (folder / ACTIVE_FILE).read_text().strip()
    entries = [_stored(policy, json.loads(path.read_text())) for path in folder.glob("*.json")]
    active = next((entry for entry in entries if entry.key.kid == active_kid), None)
    if active is None:
        raise KeyConfigurationError(f"the active key {active_kid!r} is missing from {folder}")
    # The active key first, then the others newest first (the order JWKS consumers try them in).
    others = sorted((entry for entry in entries if entry is not active), key=_age, reverse=True)
    return KeyRing(policy.algorithm, (active, *others))


def _age(entry: StoredKey[Any]) -> tuple[float, str]:
    """Sorts keys by when they were made (unknown: oldest), then by id."""
    return (entry.created_at.timestamp() if entry.created_at else 0.0, str(entry.key.kid))


@lru_cache(maxsize=16)  # the setting's text does not change in a process: parse it once
def _from_setting(policy: KeyPolicy[K], text: str) -> KeyRing[K]:
    key_type, size = ALGORITHMS[policy.algorithm]
    try:
        items = json.loads(text)["keys"]
        if any(item.get("kty") != key_type for item in items):
            raise KeyConfigurationError(f"every key of {policy.setting} must be of type {key_type}")
        keys = [policy.import_key(item) for item in items]
    except (JoseError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyConfigurationError(f"{policy.setting} is not a JWK Set of {key_type} keys") from exc
    if not keys or not keys[0].is_private:
        raise KeyConfigurationError(f"the first key of {policy.setting} must be a private key")
    for key in keys:
        curve = key.as_dict(private=False).get("crv")
        if key.kid is None or (isinstance(size, str) and curve != size):
            raise KeyConfigurationError(f"every key of {policy.setting} needs a `kid` and the {size} curve")
    return KeyRing(policy.algorithm, tuple(StoredKey(key) for key in keys))
