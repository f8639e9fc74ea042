"""Typed GitHub errors and the sans-I/O mapping of a response (status, headers, body) to one of them.

    GitHubError                      every failure of a GitHub call
    ├── ClientError                  terminal 4xx: retrying the same request cannot help
    │   ├── Unauthorized    401      bad or expired credentials
    │   ├── Forbidden       403      no permission (not a rate limit)
    │   ├── NotFound        404/410  missing, or invisible to this identity
    │   ├── NotMergeable    405      merge refused (draft, conflicts, method not allowed)
    │   ├── Conflict        409      e.g. the head moved since the merge was decided
    │   └── ValidationFailed 422     `.errors` carries GitHub's list
    ├── RateLimited                  primary or secondary limit: defer the work by `.retry_after_seconds`
    └── TransientError               5xx, timeouts, dropped connections (after the client's bounded retries);
                                     `.ambiguous`: a write may have been applied, check state before retrying

`error_for_response` is pure (no I/O, `now` injectable) so every branch is unit-tested with literals.
"""
from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone
from typing import Any, Mapping

SECONDARY_DEFAULT_WAIT = 60  # GitHub: "otherwise, wait for at least one minute before retrying"


class GitHubError(Exception):
    """A failed GitHub request. `status` is None when no response arrived."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", path: str = "",
                 body: Any = None, documentation_url: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.body = body
        self.documentation_url = documentation_url

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f" {self.status}" if self.status is not None else ""
        return f"{where}:{status} {self.message}" if where else f"{status.strip()} {self.message}".strip()


class ClientError(GitHubError):
    """A terminal 4xx answer."""


class Unauthorized(ClientError):
    pass


class Forbidden(ClientError):
    pass


class NotFound(ClientError):
    pass


class NotMergeable(ClientError):
    pass


class Conflict(ClientError):
    pass


class ValidationFailed(ClientError):
    def __init__(self, message: str, *, errors: list | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.errors = errors or []

    def has_code(self, code: str) -> bool:
        """Whether one of GitHub's `errors` entries has this `code` (e.g. "already_exists")."""
        return any(isinstance(e, dict) and e.get("code") == code for e in self.errors)


class RateLimited(GitHubError):
    """GitHub refused for rate limiting. Defer the work; do not sleep in the function."""

    def __init__(self, message: str, *, retry_after_seconds: int, reset_at: datetime, secondary: bool,
                 **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after_seconds = retry_after_seconds
        self.reset_at = reset_at
        self.secondary = secondary


class TransientError(GitHubError):
    """A server error or a lost answer. `ambiguous`: the request may have taken effect."""

    def __init__(self, message: str, *, ambiguous: bool = False, attempts: int = 1, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.ambiguous = ambiguous
        self.attempts = attempts


def parse_body(body: str | bytes | None) -> Any:
    """The JSON body, or the raw text when it is not JSON (GitHub's 5xx pages are HTML), or None."""
    if body is None or body == "" or body == b"":
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def _header(headers: Mapping[str, str], name: str) -> str | None:
    name = name.lower()
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = _header(headers, name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _retry_after(headers: Mapping[str, str], now: float) -> int | None:
    """Retry-After as seconds (GitHub sends delta-seconds; an HTTP date is accepted too)."""
    value = _header(headers, "Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    from email.utils import parsedate_to_datetime
    try:
        return max(math.ceil(parsedate_to_datetime(value).timestamp() - now), 0)
    except (TypeError, ValueError):
        return None


def rate_limit_error(status: int, headers: Mapping[str, str], message: str, *,
                     now: float | None = None) -> RateLimited | None:
    """A RateLimited when a 403/429 is a rate limit, following GitHub's documented precedence:
    Retry-After first, then X-RateLimit-Remaining 0 (wait until X-RateLimit-Reset), else one minute."""
    if status not in (403, 429):
        return None
    now = time.time() if now is None else now
    remaining = _int_header(headers, "X-RateLimit-Remaining")
    reset = _int_header(headers, "X-RateLimit-Reset")
    retry_after = _retry_after(headers, now)
    lowered = message.lower()
    mentions_secondary = "secondary rate limit" in lowered or "abuse" in lowered
    mentions_limit = "rate limit" in lowered
    if not (retry_after is not None or remaining == 0 or mentions_limit or status == 429):
        return None
    primary = not mentions_secondary and (remaining == 0 or "api rate limit exceeded" in lowered)
    if retry_after is not None:
        wait = retry_after
    elif remaining == 0 and reset is not None:
        wait = math.ceil(reset - now)
    else:
        wait = SECONDARY_DEFAULT_WAIT
    wait = max(int(wait), 1)
    reset_at = datetime.fromtimestamp(now + wait, tz=timezone.utc)
    return RateLimited(message or "rate limited", retry_after_seconds=wait, reset_at=reset_at,
                       secondary=not primary, status=status)


_SAFE_METHODS = ("GET", "HEAD")


def error_for_response(status: int, headers: Mapping[str, str], body: Any, *, method: str = "GET",
                       path: str = "", now: float | None = None) -> GitHubError | None:
    """The error a response stands for, or None for a success (2xx, 3xx).

    `body` is the parsed JSON (or text). A 5xx on a non-GET is `ambiguous`: it may have been applied.
    """
    if status < 400:
        return None
    data = body if isinstance(body, dict) else {}
    message = str(data.get("message") or (body if isinstance(body, str) else "") or f"HTTP {status}")
    message = message.strip()[:500]
    common = dict(status=status, method=method, path=path, body=body,
                  documentation_url=data.get("documentation_url"))
    limited = rate_limit_error(status, headers, message, now=now)
    if limited is not None:
        limited.method, limited.path, limited.body = method, path, body
        limited.documentation_url = common["documentation_url"]
        return limited
    if status >= 500:
        return TransientError(message, ambiguous=method.upper() not in _SAFE_METHODS, **common)
    kind: type[ClientError] = {401: Unauthorized, 403: Forbidden, 404: NotFound, 410: NotFound,
                               405: NotMergeable, 409: Conflict}.get(status, ClientError)
    if status == 422:
        errors = data.get("errors")
        return ValidationFailed(message, errors=errors if isinstance(errors, list) else None, **common)
    return kind(message, **common)
