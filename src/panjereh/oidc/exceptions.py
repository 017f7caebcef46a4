"""OIDC failures: OAuth errors (RFC 6749 §5.2 / OIDC Core §3.1.2.6) and platform problems."""

from __future__ import annotations

from panjereh.core.errors import Conflict, NotFound, Unauthenticated, ValidationFailed


class OAuthError(Exception):
    """An OAuth error answered as `{"error", "error_description"}` (or as a redirect to the client).

    `description_fa`, when given, goes out as `error_description#fa`: a language-tagged member, as OIDC
    Core §5.2 and RFC 7591 §2.2 tag human-readable values. `headers` are added to the answer.
    """

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        *,
        description_fa: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.description_fa = description_fa
        self.headers = dict(headers or {})

    def as_json(self) -> dict[str, str]:
        body = {"error": self.error, "error_description": self.description}
        if self.description_fa:
            body["error_description#fa"] = self.description_fa
        return body


class InvalidClientRequest(ValidationFailed):
    """An authorization request that cannot be sent back to the client (unknown client or redirect URI)."""

    code = "oidc.invalid_client_request"
    title_en = "This login request from an app is not valid"
    title_fa = "درخواست ورودی که از این برنامه آمده معتبر نیست"


class ClientNotFound(NotFound):
    code = "oidc.client_not_found"
    title_en = "No such OIDC client"
    title_fa = "چنین برنامه‌ای ثبت نشده است"


class ClientExists(Conflict):
    code = "oidc.client_exists"
    title_en = "A client with this id already exists"
    title_fa = "برنامه‌ای با این شناسه از پیش ثبت شده است"


class InvalidClientMetadata(ValidationFailed):
    code = "oidc.invalid_client_metadata"
    title_en = "The client registration is not valid"
    title_fa = "اطلاعات ثبت برنامه معتبر نیست"


class AdminTokenRejected(Unauthenticated):
    """No admin token, or the wrong one: 401 with a Bearer challenge (RFC 6750 §3), not 403."""

    code = "oidc.admin_token_rejected"
    title_en = "The client-registration API needs the administrator token"
    title_fa = "ثبت برنامه‌ها فقط با توکن مدیر ممکن است"
