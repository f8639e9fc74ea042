"""The webhook receiver's core: validate, persist, answer. No GitHub calls and no config parsing.

`handle_webhook` is what the `hook` function calls; it never raises. Prow answers 200 and then works
in memory, so a crash loses the event; here a 2xx means the delivery is in Blob and its message in
the queue, and any storage failure is a 503 so that GitHub records a failed delivery that can be
redelivered.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Mapping

from shared.hmac_secret import HmacSecret, HmacSecretError, parse_hmac_secret
from shared.logcontext import delivery_fields, log_fields
from shared.webhook import ACCEPTED, WebhookRejected, validate

log = logging.getLogger("prow.hook")

SECRET_SETTING = "PROW_HMAC_SECRET"


@dataclass(frozen=True)
class HookResponse:
    status: int
    body: str
    headers: dict

    @classmethod
    def text(cls, status: int, body: str) -> "HookResponse":
        return cls(status, body, {"Content-Type": "text/plain; charset=utf-8",
                                  "X-Content-Type-Options": "nosniff"})


_secret_lock = threading.Lock()
_secret_cache: tuple[str, HmacSecret] | None = None


def current_secret(env: Mapping[str, str] | None = None) -> HmacSecret:
    """The parsed PROW_HMAC_SECRET, re-parsed only when the setting's text changes."""
    global _secret_cache
    text = (os.environ if env is None else env).get(SECRET_SETTING)
    if text is None:
        raise HmacSecretError(f"{SECRET_SETTING} is not set")
    with _secret_lock:
        if _secret_cache is None or _secret_cache[0] != text:
            _secret_cache = (text, parse_hmac_secret(text))
        return _secret_cache[1]


_store = None


def default_store():
    global _store
    from shared.storage import default_clients
    clients = default_clients()
    if _store is None or _store.clients is not clients:
        from shared.deliveries import DeliveryStore
        _store = DeliveryStore(clients)
    return _store


def handle_webhook(method: str, headers: Mapping[str, str], body: bytes | None, *,
                   secret: HmacSecret | None = None, store=None) -> HookResponse:
    try:
        secret = secret or current_secret()
    except HmacSecretError as exc:
        log.error("hook: webhook secret misconfigured: %s", exc)
        return HookResponse.text(500, "500 Internal Server Error: webhook secret is not configured\n")
    try:
        delivery = validate(method, headers, body, secret)
    except WebhookRejected as rejected:
        log.warning("hook: rejected delivery %s (%s): %s", headers.get("X-GitHub-Delivery", "-"),
                    headers.get("X-GitHub-Event", "-"), rejected.body)
        return HookResponse.text(rejected.status, rejected.body + "\n")

    repo = delivery.repo_full_name or delivery.org
    with log_fields(**delivery_fields(delivery.delivery_id, delivery.event, repo, delivery.number)):
        return _accept(delivery, repo, store)


def _accept(delivery, repo: str, store) -> HookResponse:
    if delivery.event == "ping":
        log.info("hook: ping answered")
        return HookResponse.text(200, ACCEPTED)

    from shared.deliveries import StorageUnavailable
    from shared.storage import StorageConfigError
    try:
        store = store or default_store()
        _, first = store.accept(delivery)
    except (StorageUnavailable, StorageConfigError) as exc:
        log.error("hook: delivery %s not stored: %s", delivery.delivery_id, exc)
        return HookResponse.text(503, "503 Service Unavailable: the delivery could not be stored; "
                                      "redeliver it later\n")
    log.info("hook: accepted %s delivery %s for %s (%d bytes)%s", delivery.event, delivery.delivery_id,
             repo or "-", len(delivery.body), "" if first else " (redelivery)")
    return HookResponse.text(200, ACCEPTED)
