"""GitHub webhook validation, sans I/O: headers and bytes in, a `Delivery` or a `WebhookRejected` out.

Prow's checks in Prow's order, with Prow's status codes and bodies (spec/prow-hook-and-plugins.md §1.2),
with two extensions Prow lacks: `application/json; charset=...` and `application/x-www-form-urlencoded`
deliveries (the JSON is in the `payload` form field; the signature covers the raw body) are accepted.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import parse_qs

from shared.hmac_secret import HmacSecret

ACCEPTED = "Event received. Have a nice day."
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# Headers kept with a delivery, so that dispatch can forward it to external plugins as GitHub sent it.
FORWARDED_HEADERS = (
    "X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-ID",
    "X-GitHub-Hook-Installation-Target-Type", "X-Hub-Signature-256", "X-Hub-Signature",
    "Content-Type", "User-Agent",
)
MAX_HEADER_VALUE = 1024


class WebhookRejected(Exception):
    """A delivery the hook refuses; `status` and `body` are the HTTP answer."""

    def __init__(self, status: int, body: str):
        self.status = status
        self.body = body
        super().__init__(f"{status}: {body}")


@dataclass(frozen=True)
class Delivery:
    event: str
    delivery_id: str
    body: bytes                  # the raw request body, byte for byte
    content_type: str            # as sent
    payload: dict                # the decoded JSON event
    headers: dict = field(default_factory=dict)

    @property
    def repo_full_name(self) -> str:
        repo = self.payload.get("repository")
        return repo.get("full_name") or "" if isinstance(repo, dict) else ""

    @property
    def org(self) -> str:
        if self.repo_full_name:
            return self.repo_full_name.split("/", 1)[0]
        org = self.payload.get("organization")
        return (org.get("login") or "") if isinstance(org, dict) else ""

    @property
    def action(self) -> str:
        action = self.payload.get("action")
        return action if isinstance(action, str) else ""

    @property
    def number(self) -> int | None:
        """The issue or pull request number the event is about (Prow's `pr` log field), if any."""
        for key in ("pull_request", "issue"):
            item = self.payload.get(key)
            if isinstance(item, dict) and isinstance(item.get("number"), int):
                return item["number"]
        number = self.payload.get("number")
        return number if isinstance(number, int) else None

    @property
    def installation_id(self) -> int | None:
        inst = self.payload.get("installation")
        value = inst.get("id") if isinstance(inst, dict) else None
        return value if isinstance(value, int) else None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def decode_payload(body: bytes, content_type: str) -> dict:
    """The event JSON of a delivery body; raises ValueError when it is not a JSON object."""
    if _media_type(content_type) == FORM:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        if "payload" not in fields:
            raise ValueError("form-encoded delivery has no payload field")
        text = fields["payload"][0]
    else:
        text = body.decode("utf-8")
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("payload is not a JSON object")
    return value


def signature(body: bytes, secret: bytes | str) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def validate(method: str, headers: Mapping[str, str], body: bytes | None,
             secret: HmacSecret) -> Delivery:
    """Check one request as Prow's hook does; first failure wins. `headers` must be case-insensitive."""
    if method.upper() != "POST":
        raise WebhookRejected(405, "405 Method not allowed")
    event = headers.get("X-GitHub-Event") or ""
    if not event:
        raise WebhookRejected(400, "400 Bad Request: Missing X-GitHub-Event Header")
    delivery_id = headers.get("X-GitHub-Delivery") or ""
    if not delivery_id:
        raise WebhookRejected(400, "400 Bad Request: Missing X-GitHub-Delivery Header")
    sig = headers.get("X-Hub-Signature-256") or ""
    if not sig:
        raise WebhookRejected(403, "403 Forbidden: Missing X-Hub-Signature-256")
    content_type = headers.get("Content-Type") or ""
    if _media_type(content_type) not in (JSON, FORM):
        raise WebhookRejected(400, "400 Bad Request: Hook only accepts content-type: application/json "
                                   "- please reconfigure this hook on GitHub")
    if body is None:
        raise WebhookRejected(500, "500 Internal Server Error: Failed to read request body")

    def invalid(reason: str) -> WebhookRejected:
        return WebhookRejected(403, f"403 Forbidden: Invalid X-Hub-Signature-256 - {reason}")

    try:
        payload = decode_payload(body, content_type)
    except (ValueError, UnicodeDecodeError):
        raise invalid("invalid payload") from None
    if not sig.startswith("sha256="):
        raise invalid("invalid signature")
    try:
        given = bytes.fromhex(sig[7:])
    except ValueError:
        raise invalid("invalid signature") from None

    repo = payload.get("repository")
    scope = repo.get("full_name") if isinstance(repo, dict) else None
    if not isinstance(scope, str) or not scope:
        org = payload.get("organization")
        scope = org.get("login") if isinstance(org, dict) else ""
        scope = scope if isinstance(scope, str) else ""
    keys = secret.keys_for(scope)
    if not keys:
        raise invalid("failed to get an appropriate hmac secret")
    matched = False
    for key in keys:  # try every key (rotation); constant time per comparison
        expected = hmac.new(key, body, hashlib.sha256).digest()
        matched |= hmac.compare_digest(given, expected)
    if not matched:
        raise invalid(f"misconfigured webhook secret from organization/repo: {scope}")

    kept = {}
    for name in FORWARDED_HEADERS:
        value = headers.get(name)
        if value:
            kept[name] = value[:MAX_HEADER_VALUE]
    return Delivery(event=event, delivery_id=delivery_id, body=body, content_type=content_type,
                    payload=payload, headers=kept)
