"""Real GitHub webhook payloads (npm @octokit/webhooks-examples) and GitHub-style signing."""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "node_modules" / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"


@functools.lru_cache(maxsize=1)
def _index() -> list:
    return json.loads(EXAMPLES.read_text())


def examples() -> list[tuple[str, int, dict]]:
    """Every example as (event name, index within the event, payload)."""
    return [(entry["name"], i, payload) for entry in _index() for i, payload in enumerate(entry["examples"])]


def example(event: str, action: str | None = None) -> dict:
    for name, _, payload in examples():
        if name == event and (action is None or payload.get("action") == action):
            return payload
    raise LookupError(f"no example for {event} {action or ''}")


def sign(body: bytes, secret: str | bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def json_body(payload: dict) -> bytes:
    """A body shaped like GitHub's JSON deliveries (compact)."""
    return json.dumps(payload, separators=(",", ":")).encode()


def form_body(payload: dict) -> bytes:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def headers(event: str, body: bytes, secret: str | bytes | None, *, delivery: str | None = None,
            content_type: str = "application/json") -> dict:
    h = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "Content-Type": content_type,
        "User-Agent": "GitHub-Hookshot/abc1234",
        "X-GitHub-Hook-ID": "123456",
    }
    if secret is not None:
        h["X-Hub-Signature-256"] = sign(body, secret)
    return h
