"""dispatch: run the plugins of one stored webhook delivery, once, and forward it to external plugins.

What the `dispatch` queue function calls for each `webhook-events` message (shared.deliveries):

1. Claim the delivery in the deliveries ledger (shared/ledger.py). A delivery already done is
   skipped; one held by a live invocation comes back when that claim lapses (the message is sent
   again with a visibility delay).
2. Read the raw body from Blob, decode it, build the events (shared/events.py) and load the config.
3. Run every enabled plugin (plugins.yaml, `excluded_repos` respected) that handles the typed event,
   then every one that handles the generic comment, each under its own org/repo lookup as in Prow.
   Units (plugin × event) completed by an earlier attempt are not run again. Meanwhile the delivery
   is forwarded to its external plugins (those not forwarded by an earlier attempt).
4. Outcomes, per unit: success or a terminal GitHub error (404, 422, ... logged) → done;
   `RateLimited` → stop, record what completed, send the message again delayed by the limit's
   `retry_after`, and return normally; `TransientError` or any other exception → logged, the other
   units still run, then the attempt ends with `RetryDelivery` so the Functions host redelivers it
   (after maxDequeueCount attempts the host moves it to `webhook-events-poison`).

Every log line carries the delivery id; the GitHub requests of the event are counted and logged.
Units run one after another (Prow runs them concurrently; here the GitHub session and ledger are
simpler to reason about, and most units return without a request).
"""
from __future__ import annotations

import contextvars
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from shared.deliveries import DeliveryMessage
from shared.logcontext import delivery_fields, log_fields
from shared.events import ParsedDelivery, parse_delivery
from shared.ledger import DeliveryLedger, DeliveryRecord, LostClaim

log = logging.getLogger("prow.dispatch")

MAX_VISIBILITY_DELAY = 7 * 24 * 3600   # the queue service's limit
MAX_DEQUEUE_COUNT = 5                  # host.json extensions.queues.maxDequeueCount


class RetryDelivery(Exception):
    """The attempt ended with work left (transient failures); the host must deliver it again."""


@dataclass
class DispatchResult:
    delivery_id: str
    outcome: str                      # done | duplicate | busy | deferred | retry | dropped
    ran: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    forwarded: list[str] = field(default_factory=list)
    github_requests: int = 0
    delay: float | None = None


def unit_key(plugin: str, event: Any) -> str:
    return f"{plugin}:{event.name}"


def _units(registry, plugin_config, parsed: ParsedDelivery) -> list[tuple[Any, Any]]:
    """(plugin, event) pairs to run: typed-event handlers first, then generic-comment handlers."""
    out = []
    for event in parsed.events():
        org, repo = event.plugin_scope
        for name in plugin_config.plugins_for(org, repo):
            plugin = registry.get(name)
            if plugin is not None and plugin.handler_for(event) is not None:
                out.append((plugin, event))
    return out


class _LedgerJournal:
    """The steps of one unit, written to the ledger as soon as they complete."""

    def __init__(self, dispatcher: "Dispatcher", entry: DeliveryRecord, unit: str):
        self.dispatcher, self.entry, self.unit = dispatcher, entry, unit

    def done(self, step: str) -> bool:
        return step in self.entry.steps.get(self.unit, ())

    def record(self, step: str) -> None:
        self.entry.steps.setdefault(self.unit, []).append(step)
        self.dispatcher._save(self.entry)


class Dispatcher:
    def __init__(self, *, store, ledger: DeliveryLedger, config: Callable[[], Any],
                 github: Callable[[DeliveryMessage], Any], requeue: Callable[[str, int], None],
                 registry=None, forwarder=None, secret: Callable[[], Any] | None = None):
        """`store` reads bodies (DeliveryStore); `config()` gives the LoadedConfig; `github(msg)` opens the
        event's GitHub session (a context manager); `requeue(text, delay)` sends a message again;
        `secret()` gives the HmacSecret (to re-sign form-encoded deliveries for external plugins)."""
        from shared.plugins import load_plugins
        from shared.plugins.external import ExternalForwarder
        self.store = store
        self.ledger = ledger
        self.config = config
        self.github = github
        self.requeue = requeue
        self.registry = registry or load_plugins()
        self.forwarder = forwarder or ExternalForwarder()
        self.secret = secret
        self._lock = threading.Lock()

    def _save(self, record: DeliveryRecord) -> None:
        with self._lock:
            self.ledger.save(record)

    # -- entry point ------------------------------------------------------------------------------------

    def run(self, text: str | bytes, *, dequeue_count: int = 1) -> DispatchResult:
        try:
            text = text.decode("utf-8") if isinstance(text, bytes) else text
            msg = DeliveryMessage.from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("dispatch: dropping an unreadable webhook-events message (%s): %.200r", exc, text)
            return DispatchResult("", "dropped")
        with log_fields(**delivery_fields(msg.delivery_id, msg.event, msg.repo or msg.org, msg.number)):
            return self._run_message(msg, text, dequeue_count)

    def _run_message(self, msg: DeliveryMessage, text: str, dequeue_count: int) -> DispatchResult:
        started = time.monotonic()
        owner = self.ledger.new_owner()
        claim = self.ledger.claim(msg.delivery_id, owner, event=msg.event, repo=msg.repo or msg.org)
        if claim.status == "done":
            log.info("dispatch: delivery %s (%s) was already handled; nothing to do", msg.delivery_id, msg.event)
            return DispatchResult(msg.delivery_id, "duplicate")
        if claim.status == "busy":
            delay = min(max(int(claim.retry_in) + 1, 1), MAX_VISIBILITY_DELAY)
            log.info("dispatch: delivery %s is being handled by another invocation; looking again in %d s",
                     msg.delivery_id, delay)
            self.requeue(text, delay)
            return DispatchResult(msg.delivery_id, "busy", delay=delay)
        record = claim.record
        try:
            return self._run_claimed(msg, text, record, dequeue_count, started)
        except LostClaim as exc:
            log.warning("dispatch: delivery %s: %s; leaving it to the new owner", msg.delivery_id, exc)
            return DispatchResult(msg.delivery_id, "busy")
        except RetryDelivery:
            raise
        except BaseException as exc:
            # Anything unexpected before the plugins ran (storage, config): leave the delivery retryable.
            self._release_quietly(record, f"attempt failed: {type(exc).__name__}: {exc}")
            raise

    def _release_quietly(self, record: DeliveryRecord, outcome: str) -> None:
        try:
            with self._lock:
                self.ledger.release(record, outcome)
        except Exception as exc:  # the lease lapses anyway
            log.warning("dispatch: delivery %s: could not release its record: %s", record.delivery_id, exc)

    def _run_claimed(self, msg: DeliveryMessage, text: str, record: DeliveryRecord,
                     dequeue_count: int, started: float) -> DispatchResult:
        from azure.core.exceptions import ResourceNotFoundError
        from shared.webhook import decode_payload

        delivery = msg.delivery_id
        try:
            body = self.store.read_body(msg)
        except ResourceNotFoundError:
            log.error("dispatch: delivery %s (%s): the stored body %s/%s is missing; dropping it",
                      delivery, msg.event, msg.container, msg.blob)
            with self._lock:
                self.ledger.finish(record, "dropped: stored body missing")
            return DispatchResult(delivery, "dropped")
        try:
            payload = decode_payload(body, msg.content_type)
        except (ValueError, UnicodeDecodeError) as exc:
            log.error("dispatch: delivery %s (%s): body does not decode (%s); dropping it", delivery, msg.event, exc)
            with self._lock:
                self.ledger.finish(record, f"dropped: {exc}")
            return DispatchResult(delivery, "dropped")

        parsed = parse_delivery(msg.event, delivery, payload)
        config = self.config()
        units = [(p, e) for p, e in _units(self.registry, config.plugins, parsed)
                 if unit_key(p.name, e) not in record.units]
        externals = self._externals(config.plugins, parsed, record)

        forwarding = self._start_forwarding(msg, body, parsed, externals) if externals else None
        result = DispatchResult(delivery, "done")
        rate_limited = None
        try:
            if units:
                rate_limited = self._run_units(msg, config, units, record, result)
        finally:  # record the forwarding even when the plugins' attempt fails, so it is not repeated
            if forwarding is not None:
                self._collect_forwarding(delivery, forwarding, record, result)

        record.failures = dict(result.failed)
        took = time.monotonic() - started
        summary = (f"{len(result.ran)} plugin handler(s) ran, {result.github_requests} GitHub request(s), "
                   f"forwarded to {len(result.forwarded)} external plugin(s), {took:.2f}s")
        if rate_limited is not None:
            delay = min(max(int(rate_limited.retry_after_seconds), 1), MAX_VISIBILITY_DELAY)
            with self._lock:
                self.ledger.release(record, f"deferred {delay}s by a GitHub rate limit; {summary}")
            self.requeue(text, delay)
            log.warning("dispatch: delivery %s (%s %s) deferred by %d s: GitHub rate limit (%s); %s",
                        delivery, msg.event, msg.repo, delay, rate_limited, summary)
            result.outcome, result.delay = "deferred", delay
            return result
        if result.failed:
            with self._lock:
                self.ledger.release(record, f"{len(result.failed)} plugin handler(s) failed; {summary}")
            last = (" (last attempt: the host moves it to the poison queue)"
                    if dequeue_count >= MAX_DEQUEUE_COUNT else "")
            log.error("dispatch: delivery %s (%s %s): %s failed; will be retried%s",
                      delivery, msg.event, msg.repo, ", ".join(sorted(result.failed)), last)
            result.outcome = "retry"
            raise RetryDelivery(f"delivery {delivery}: {', '.join(sorted(result.failed))} failed")
        with self._lock:
            self.ledger.finish(record, f"done; {summary}")
        log.info("dispatch: delivery %s (%s %s) done: %s", delivery, msg.event, msg.repo or msg.org or "-", summary)
        return result

    # -- internal plugins -------------------------------------------------------------------------------

    def _run_units(self, msg: DeliveryMessage, config, units, record: DeliveryRecord,
                   result: DispatchResult):
        """Run the units; returns the RateLimited error that stopped them, if any."""
        from shared.github.errors import GitHubError, RateLimited, TransientError
        from shared.plugins.registry import PluginContext

        rate_limited = None
        session = self.github(msg)
        with session as gh:
            try:
                for plugin, event in units:
                    key = unit_key(plugin.name, event)
                    scope = "/".join(event.plugin_scope)
                    plog = logging.LoggerAdapter(log, {"prow": {"delivery": msg.delivery_id, "plugin": plugin.name,
                                                               "repo": scope, "event": msg.event}})
                    ctx = PluginContext(plugin=plugin.name, delivery_id=msg.delivery_id, github=gh, config=config,
                                        log=_Prefixed(plog, f"delivery {msg.delivery_id} plugin {plugin.name} "
                                                            f"({scope}): "),
                                        journal=_LedgerJournal(self, record, key))
                    try:
                        plugin.handler_for(event)(ctx, event)
                    except RateLimited as exc:
                        rate_limited = exc
                        break
                    except TransientError as exc:
                        result.failed[key] = f"{type(exc).__name__}: {exc}"
                        log.warning("dispatch: delivery %s plugin %s (%s %s): transient GitHub error, will "
                                    "retry: %s", msg.delivery_id, plugin.name, msg.event, scope, exc)
                        continue
                    except GitHubError as exc:
                        log.error("dispatch: delivery %s plugin %s (%s %s): GitHub refused: %s",
                                  msg.delivery_id, plugin.name, msg.event, scope, exc)
                    except LostClaim:
                        raise
                    except Exception as exc:  # a plugin bug must not stop the others
                        result.failed[key] = f"{type(exc).__name__}: {exc}"
                        log.exception("dispatch: delivery %s plugin %s (%s %s) failed: %s",
                                      msg.delivery_id, plugin.name, msg.event, scope, exc)
                        continue
                    record.units.add(key)
                    result.ran.append(key)
            finally:
                requests = getattr(gh, "request_count", 0)
                result.github_requests += requests
                record.github_requests += requests
        return rate_limited

    # -- external plugins -------------------------------------------------------------------------------

    @staticmethod
    def _collect_forwarding(delivery: str, forwarding: "Future[list]", record: DeliveryRecord,
                            result: DispatchResult) -> None:
        for outcome in forwarding.result():
            record.forwarded.add(outcome.name)
            if outcome.ok:
                result.forwarded.append(outcome.name)
                log.info("dispatch: delivery %s forwarded to external plugin %s (%s)", delivery,
                         outcome.name, outcome.endpoint)
            else:
                log.error("dispatch: delivery %s: external plugin %s (%s) failed after %d attempt(s): %s",
                          delivery, outcome.name, outcome.endpoint, outcome.attempts, outcome.error)

    def _externals(self, plugin_config, parsed: ParsedDelivery, record: DeliveryRecord) -> list:
        full = parsed.source_repo
        org, _, repo = full.partition("/")
        if not org:
            return []
        chosen = plugin_config.external_plugins_for(org, repo, parsed.name)
        return [p for p in chosen if p.name not in record.forwarded]

    def _start_forwarding(self, msg: DeliveryMessage, body: bytes, parsed: ParsedDelivery,
                          externals: list) -> "Future[list]":
        from shared.plugins.external import ForwardingError, ForwardResult, request_for

        def keys_for(scope: str):
            return self.secret().keys_for(scope) if self.secret is not None else ()

        def forward() -> list:
            try:
                fwd_body, fwd_headers = request_for(body, msg.headers, scope=parsed.source_repo, keys_for=keys_for)
            except ForwardingError as exc:
                return [ForwardResult(p.name, p.endpoint, False, error=str(exc)) for p in externals]
            return self.forwarder.forward([(p.name, p.endpoint) for p in externals], fwd_body, fwd_headers)

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="forward")
        future = pool.submit(contextvars.copy_context().run, forward)  # its log lines keep the delivery's fields
        pool.shutdown(wait=False)
        return future


class _Prefixed(logging.LoggerAdapter):
    """Prefixes messages so that every plugin log line names the delivery, plugin and repository."""

    def __init__(self, adapter: logging.LoggerAdapter, prefix: str):
        super().__init__(adapter.logger, adapter.extra)
        self.prefix = prefix

    def process(self, msg, kwargs):
        kwargs.setdefault("extra", self.extra)
        return self.prefix + str(msg), kwargs


# -- the app's dispatcher ---------------------------------------------------------------------------------

_default: Dispatcher | None = None
_default_key: Any = None
_default_lock = threading.Lock()


def default_dispatcher() -> Dispatcher:
    """The process-wide dispatcher for the current settings (storage, config, GitHub, webhook secret)."""
    global _default, _default_key
    from shared.storage import WEBHOOK_EVENTS_QUEUE, default_clients
    clients = default_clients()
    with _default_lock:
        if _default is not None and _default_key is clients:
            return _default
        from shared.config.source import get_config
        from shared.deliveries import DeliveryStore
        from shared.github import default_client
        from shared.hook import current_secret

        queue = clients.queue_client(WEBHOOK_EVENTS_QUEUE)

        def requeue(text: str, delay: int) -> None:
            queue.send_message(text, visibility_timeout=delay)

        def github(msg: DeliveryMessage):
            org, _, repo = (msg.repo or "").partition("/")
            return default_client().for_event(msg.delivery_id, installation_id=msg.installation_id,
                                              org=org or msg.org or None, repo=repo or None)

        _default = Dispatcher(store=DeliveryStore(clients), ledger=DeliveryLedger(clients), config=get_config,
                              github=github, requeue=requeue, secret=current_secret)
        _default_key = clients
        return _default


def dispatch_message(text: str | bytes, *, dequeue_count: int = 1) -> DispatchResult:
    """Handle one `webhook-events` message (what the `dispatch` function calls)."""
    return default_dispatcher().run(text, dequeue_count=dequeue_count)
