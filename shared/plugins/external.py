"""Forwarding deliveries to external plugins (`external_plugins:` in plugins.yaml), as Prow's hook
does (pkg/hook/server.go, spec §1.7).

- Selected by the repository's full name or its org and by event name (every event when a plugin
  lists none); endpoints come from plugins.yaml only, never from a payload.
- POSTs the raw body with the original GitHub headers (X-GitHub-Event, X-GitHub-Delivery,
  X-Hub-Signature-256, Content-Type, ...) and `User-Agent: ProwHook`.
- A transport error is retried, up to 5 attempts with a backoff of 100 ms doubling, as Prow does;
  a non-2xx answer is logged, not retried. Unlike Prow (no timeout), every attempt and the whole
  forwarding are bounded in time, so a plugin that hangs cannot hold the dispatch.
- Prow's external plugins read JSON only. A form-encoded delivery (accepted by our hook) is
  forwarded as its JSON `payload`, `Content-Type: application/json`, with `X-Hub-Signature-256`
  recomputed with the webhook secret of the repository's scope (PROW_HMAC_SECRET); the SHA-1
  `X-Hub-Signature`, which would no longer match, is dropped.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping
from urllib.parse import parse_qs

from shared.webhook import FORM, JSON, signature

log = logging.getLogger("prow.dispatch")

USER_AGENT = "ProwHook"
MAX_ATTEMPTS = 5
INITIAL_BACKOFF = 0.1
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
DEFAULT_DEADLINE = 45.0


class ForwardingError(Exception):
    """The delivery cannot be prepared for forwarding (e.g. no secret to sign the JSON form)."""


@dataclass(frozen=True)
class ForwardResult:
    name: str
    endpoint: str
    ok: bool
    status: int | None = None
    attempts: int = 0
    error: str = ""


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


def request_for(body: bytes, headers: Mapping[str, str], *, scope: str,
                keys_for: Callable[[str], tuple[bytes, ...]] | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers to POST to an external plugin for one stored delivery.

    `scope` is the repository's full name (or the org for org-level events); `keys_for(scope)` gives the
    webhook secret's keys, needed only to re-sign a form-encoded delivery."""
    out = {k: v for k, v in headers.items() if k.lower() != "user-agent"}
    out["User-Agent"] = USER_AGENT
    if _media_type(_header(headers, "Content-Type")) != FORM:
        return body, out
    fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    if "payload" not in fields:
        raise ForwardingError("form-encoded delivery has no payload field")
    json_body = fields["payload"][0].encode("utf-8")
    keys = keys_for(scope) if keys_for is not None else ()
    if not keys:
        raise ForwardingError(f"no webhook secret for {scope or 'this delivery'} to sign the JSON payload with")
    out = {k: v for k, v in out.items()
           if k.lower() not in ("content-type", "x-hub-signature-256", "x-hub-signature")}
    out["Content-Type"] = JSON
    out["X-Hub-Signature-256"] = signature(json_body, keys[0])
    return json_body, out


class ExternalForwarder:
    """POSTs one delivery to several external plugins concurrently, within a total deadline."""

    def __init__(self, *, deadline: float = DEFAULT_DEADLINE, max_attempts: int = MAX_ATTEMPTS,
                 initial_backoff: float = INITIAL_BACKOFF, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.deadline = deadline
        self.max_attempts = max_attempts
        self.initial_backoff = initial_backoff
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.sleep = sleep
        self.clock = clock

    def post(self, name: str, endpoint: str, body: bytes, headers: Mapping[str, str], *,
             until: float) -> ForwardResult:
        import requests
        backoff, attempts, error = self.initial_backoff, 0, ""
        with requests.Session() as session:
            while attempts < self.max_attempts:
                remaining = until - self.clock()
                if remaining <= 0:
                    error = error or "deadline passed"
                    break
                attempts += 1
                try:
                    resp = session.post(endpoint, data=body, headers=dict(headers), allow_redirects=False,
                                        timeout=(min(self.connect_timeout, remaining),
                                                 min(self.read_timeout, remaining)))
                except requests.RequestException as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    if attempts < self.max_attempts:
                        self.sleep(min(backoff, max(until - self.clock(), 0)))
                        backoff *= 2
                    continue
                if 200 <= resp.status_code <= 299:
                    return ForwardResult(name, endpoint, True, resp.status_code, attempts)
                return ForwardResult(name, endpoint, False, resp.status_code, attempts,
                                     f"response has status {resp.status_code} and body {resp.text[:200]!r}")
        return ForwardResult(name, endpoint, False, None, attempts, error)

    def forward(self, targets: Iterable[tuple[str, str]], body: bytes,
                headers: Mapping[str, str]) -> list[ForwardResult]:
        """POST to every (name, endpoint) at once; returns when all answered or the deadline passed
        (a plugin still pending then is reported as failed)."""
        targets = list(targets)
        if not targets:
            return []
        until = self.clock() + self.deadline
        pool = ThreadPoolExecutor(max_workers=min(len(targets), 16), thread_name_prefix="external-plugin")
        try:
            futures = {pool.submit(self.post, name, endpoint, body, headers, until=until): (name, endpoint)
                       for name, endpoint in targets}
            wait(futures, timeout=self.deadline + self.connect_timeout + 1)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        results = []
        for future, (name, endpoint) in futures.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                results.append(future.result())
            else:
                error = repr(future.exception()) if future.done() and not future.cancelled() else "deadline passed"
                results.append(ForwardResult(name, endpoint, False, None, 0, error))
        return results
