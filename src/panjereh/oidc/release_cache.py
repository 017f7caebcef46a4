"""A short cache of the verified attributes released at userinfo (`oidc.release`).

Each release asks the registries through the exchange: a logged inquiry, and a row in the citizen's
data-access ledger. A relying party that calls userinfo again with the same access token within
`PANJEREH_OIDC_USERINFO_CACHE_SECONDS` (5 minutes by default) gets the same answer, with the same
`verified_claims` (their `time` and `txn` still say when and in which exchange message the registry
answered), and nothing is asked again.

Nothing cached outlives a revocation, by construction rather than by a purge each revoking path would
have to remember:
- a revoked access token, grant, consent or client is refused by `tokens.userinfo` before the cache is
  looked at;
- the key is a keyed hash of the access token's hash, the client, the citizen, the attributes released
  *now* (token scope ∩ approval ∩ live consent) and the consent's stamp (renewed whenever the citizen
  answers a consent screen): a withdrawn attribute or an approval taken back changes the released set,
  a consent given again changes the stamp, so an older entry is never found again and expires.

Only a complete answer is kept: a registry that did not answer is asked again at the next call.
Entries are personal data: the value is encrypted (Fernet, a key derived from the platform secret for
this purpose alone), the key reveals nothing without that secret, and each entry lives at most the
configured seconds and never past the token's expiry. Stored in Redis when configured (shared by every
worker, `<prefix>oidc-release:`), else in this process's memory (bounded, oldest first out).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.fernet import InvalidToken
from redis.exceptions import RedisError

from panjereh.core.config import Settings
from panjereh.core.crypto import fernet, keyed_hash
from panjereh.core.db import utcnow
from panjereh.core.logging import get_logger

if TYPE_CHECKING:
    import redis

    from panjereh.oidc.release import Pending

__all__ = ["MemoryStore", "RedisStore", "ReleaseCache"]

log = get_logger(__name__)

PURPOSE = "oidc-release-cache"
# The memory store's bound: a released answer is a few kB, so at most some tens of MB per process.
MEMORY_ENTRIES = 4096


class Store(Protocol):
    """Where encrypted entries live for a number of seconds."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, seconds: int) -> None: ...


class MemoryStore:
    """Entries in this process's memory, each with its deadline; the oldest go first past the bound."""

    def __init__(self, max_entries: int = MEMORY_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()  # userinfo runs on the thread pool

    def get(self, key: str) -> str | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            deadline, value = found
            if time.monotonic() >= deadline:
                del self._entries[key]
                return None
            return value

    def put(self, key: str, value: str, seconds: int) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (time.monotonic() + seconds, value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class RedisStore:
    """Entries in Redis under `<prefix>oidc-release:`, each with Redis's own expiry."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = f"{prefix}oidc-release:"

    def get(self, key: str) -> str | None:
        value = self.client.get(self.prefix + key)
        return value if isinstance(value, str) else None

    def put(self, key: str, value: str, seconds: int) -> None:
        self.client.set(self.prefix + key, value, ex=seconds)


class ReleaseCache:
    """Released attributes per access token and what they rest on, encrypted, for a few minutes."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.seconds = settings.oidc_userinfo_cache_seconds
        self.store = store
        self._secret = settings.secret_key
        self._cipher = fernet(settings.secret_key, PURPOSE)

    @classmethod
    def for_app(cls, settings: Settings, redis_client: redis.Redis | None) -> ReleaseCache:
        """Redis when the app has a client for it, else this process's memory."""
        store: Store = RedisStore(redis_client, settings.redis_prefix) if redis_client else MemoryStore()
        return cls(settings, store)

    def key(self, pending: Pending) -> str:
        """A keyed hash of everything the answer rests on (see the module's docstring)."""
        material = "\n".join(
            (
                pending.token_hash,
                pending.client_id,
                pending.citizen_id,
                " ".join(sorted(pending.scopes)),
                pending.consent_stamp,
                "sandbox" if pending.sandbox else "production",
            )
        )
        return keyed_hash(self._secret, PURPOSE, material)

    def get(self, pending: Pending) -> dict[str, Any] | None:
        """The answer kept for this token and these attributes, or None (also when the store fails)."""
        if not self.seconds or not pending.scopes:
            return None
        try:
            stored = self.store.get(self.key(pending))
        except RedisError as error:  # a cache that cannot be read is a miss, not a failed userinfo
            log.warning("oidc.release_cache_unavailable", error=str(error))
            return None
        if stored is None:
            return None
        try:
            found: dict[str, Any] = json.loads(self._cipher.decrypt(stored.encode(), ttl=self.seconds))
        except (InvalidToken, ValueError):  # another secret, or tampered with: ask the registries
            return None
        return found

    def put(self, pending: Pending, released: dict[str, Any]) -> bool:
        """Keep a complete answer until the earlier of the configured seconds and the token's expiry;
        returns whether it was kept."""
        if not self.seconds or not pending.scopes or not released or "unavailable_claims" in released:
            return False
        seconds = min(self.seconds, int((pending.token_expires_at - utcnow()).total_seconds()))
        if seconds < 1:
            return False
        value = self._cipher.encrypt(json.dumps(released, ensure_ascii=False).encode()).decode()
        try:
            self.store.put(self.key(pending), value, seconds)
        except RedisError as error:
            log.warning("oidc.release_cache_unavailable", error=str(error))
            return False
        return True
