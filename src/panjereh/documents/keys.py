"""Signing keys: ES256 (P-256) keys with short ids, one active, older ones still published for verifying.

Two sources: `PANJEREH_DOCUMENTS_SIGNING_KEYS` (a JWK Set of private keys, the first one active — for
production, where keys come from a secret store), or the folder `$PANJEREH_HOME/keys/documents/` where a
key is made on first use (one `<kid>.json` per key, mode 0600, and `active` naming the signing key).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet

from panjereh.core.config import Settings
from panjereh.core.db import utcnow

ALGORITHM = "ES256"
CURVE = "P-256"
KID_LENGTH = 12  # the first characters of the RFC 7638 thumbprint: short in the QR, unique in practice
ACTIVE_FILE = "active"


class KeyConfigurationError(RuntimeError):
    """The configured signing keys cannot be used."""


@dataclass(frozen=True)
class KeyRing:
    """The active private key and every key (active and retired) whose public half is published."""

    active: ECKey
    published: tuple[ECKey, ...]

    @property
    def active_kid(self) -> str:
        return str(self.active.kid)

    def key_set(self) -> KeySet:
        """All published keys, for verifying."""
        return KeySet(list(self.published))

    def find(self, kid: str) -> ECKey | None:
        """The published key with this id, if any."""
        return next((key for key in self.published if key.kid == kid), None)

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set (RFC 7517): never a private part."""
        return {"keys": [public_jwk(key) for key in self.published]}


def public_jwk(key: ECKey) -> dict[str, Any]:
    """The public half of a key, marked for ES256 signatures."""
    data = key.as_dict(private=False)
    return {
        "kty": data["kty"],
        "crv": data["crv"],
        "x": data["x"],
        "y": data["y"],
        "kid": key.kid,
        "use": "sig",
        "alg": ALGORITHM,
    }


def generate_key() -> ECKey:
    """A fresh P-256 key whose id is the start of its thumbprint."""
    key = ECKey.generate_key(CURVE, private=True)
    return ECKey.import_key(key.as_dict(private=True), {"kid": key.thumbprint()[:KID_LENGTH]})


_lock = threading.Lock()
_cache: dict[str, tuple[float, KeyRing]] = {}


def key_folder(settings: Settings) -> Path:
    """Where keys live when the settings do not supply them."""
    return settings.home / "keys" / "documents"


def load_keyring(settings: Settings) -> KeyRing:
    """The keys to sign and verify with; the first key is made on first use when none is configured."""
    if settings.documents_signing_keys:
        return _from_settings(settings.documents_signing_keys)
    folder = key_folder(settings)
    cache_key = str(folder.resolve())
    with _lock:
        stamp = _folder_stamp(folder)
        cached = _cache.get(cache_key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        if not (folder / ACTIVE_FILE).exists():
            _create_first_key(folder)
            stamp = _folder_stamp(folder)
        ring = _from_folder(folder)
        _cache[cache_key] = (stamp, ring)
        return ring


def rotate(settings: Settings) -> KeyRing:
    """Make a new active key in the key folder; the old ones stay published so issued documents verify."""
    if settings.documents_signing_keys:
        raise KeyConfigurationError(
            "keys come from PANJEREH_DOCUMENTS_SIGNING_KEYS: rotate them in the secret store (new key first)"
        )
    folder = key_folder(settings)
    load_keyring(settings)  # the first key exists before the second
    with _lock:
        key = generate_key()
        _write_key(folder, key)
        _write_atomically(folder / ACTIVE_FILE, str(key.kid) + "\n", mode=0o644)
        _cache.pop(str(folder.resolve()), None)
    return load_keyring(settings)


def _folder_stamp(folder: Path) -> float:
    # A new key file or a rewritten `active` file changes one of these, so other processes see a rotation.
    try:
        return max(folder.stat().st_mtime_ns, (folder / ACTIVE_FILE).stat().st_mtime_ns)
    except FileNotFoundError:
        return -1.0


def _create_first_key(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = generate_key()
    _write_key(folder, key)
    try:  # O_EXCL: when two processes start together, exactly one key becomes active
        fd = os.open(folder / ACTIVE_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        (folder / f"{key.kid}.json").unlink(missing_ok=True)
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(str(key.kid) + "\n")


def _write_key(folder: Path, key: ECKey) -> None:
    record = {**key.as_dict(private=True), "kid": key.kid, "created_at": utcnow().isoformat()}
    _write_atomically(folder / f"{key.kid}.json", json.dumps(record, indent=2), mode=0o600)


def _write_atomically(path: Path, text: str, *, mode: int) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(temporary, mode)  # the umask must not widen or narrow what we asked for
    os.replace(temporary, path)


def _from_folder(folder: Path) -> KeyRing:
    active_kid = (folder / ACTIVE_FILE).read_text().strip()
    keys: list[ECKey] = []
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text())
        keys.append(ECKey.import_key({k: v for k, v in record.items() if k != "created_at"}))
    active = next((key for key in keys if key.kid == active_kid), None)
    if active is None:
        raise KeyConfigurationError(f"the active key {active_kid!r} is missing from {folder}")
    # The active key first, then the others newest first (the order JWKS consumers try them in).
    others = [key for key in keys if key.kid != active_kid]
    return KeyRing(active=active, published=(active, *others))


def _from_settings(text: str) -> KeyRing:
    try:
        data = json.loads(text)
        keys = [ECKey.import_key(item) for item in data["keys"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyConfigurationError("PANJEREH_DOCUMENTS_SIGNING_KEYS is not a JWK Set of EC keys") from exc
    if not keys or not keys[0].is_private:
        raise KeyConfigurationError("the first key of PANJEREH_DOCUMENTS_SIGNING_KEYS must be a private key")
    for key in keys:
        if key.kid is None or key.as_dict(private=False).get("crv") != CURVE:
            raise KeyConfigurationError("every signing key needs a `kid` and the P-256 curve")
    return KeyRing(active=keys[0], published=tuple(keys))
