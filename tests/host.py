"""A stand-in for the Functions host's queue and timer side, against a real Azurite.

The real host cannot run offline (see the platform notes, §2), so tests drive queue- and
timer-triggered functions through `FunctionsHost`: it reads each function's bindings from
`get_function_json()` (what the worker sends the host), takes messages from the Azurite queues and
calls the user functions the way the host and the Python worker do, until nothing is left:

    functions = {f.get_function_name(): f for f in app.get_functions()}   # once per app
    host = FunctionsHost(functions, connection_string)                     # reads ./host.json
    host.send("prowjobs", '{"job": 1}')
    run = host.settle()              # raises if a message ended in <queue>-poison
    assert [i.outcome for i in run.calls("worker")] == ["ok"]

What it reproduces (WebJobs QueueProcessor / queue listener, Python worker):
* `messageEncoding` (base64 by default) for triggers, outputs, poison copies and `send()`; a message
  that does not decode goes straight to `<queue>-poison` without running the function;
* `batchSize` messages leased per receive; a message seen with `dequeue_count > maxDequeueCount`
  goes to poison without running; on failure, `dequeue_count >= maxDequeueCount` moves it to
  `<queue>-poison` (same content, queue created if missing) and deletes it, otherwise it is released
  with `update_message` (after `retry_delay` seconds, default 0, instead of host.json's
  `visibilityTimeout`, so tests do not wait); on success it is deleted; pop-receipt mismatches and
  vanished messages on delete/release are ignored, as the host does;
* parameters by binding name: the trigger (`azure.functions.queue.QueueMessage` with id, body bytes,
  dequeue_count, insertion/expiration/next-visible times, pop receipt; `TimerRequest` for timers),
  a fresh `Out` per output binding, `context` when the function declares it, `$return` outputs;
  async functions are awaited; a non-None return without `$return` fails the invocation (worker rule);
* outputs are written only when the function succeeded, before the trigger message is deleted,
  encoded by the library's own converters (so a value the worker rejects fails here too): queue
  outputs to their queue (created if missing), a list meaning several messages; blob outputs to their
  path (container created if missing); a failed write fails the invocation;
* binding expressions: `%AppSetting%` (at start-up) and, per message, `{Id}`, `{QueueTrigger}`,
  `{DequeueCount}`, ..., top-level or dotted members of a JSON message body, `{rand-guid}`,
  `{DateTime}`; blob inputs (`str`, `bytes`, else `InputStream`; `None` when missing);
* connections: `PROW_STORAGE` and `AzureWebJobsStorage` (and a missing `connection`) are the given
  connection string, other names are looked up in `settings`/the environment.

What it does not: scheduling timers (only `run_timer` on demand), polling back-off
(`maxPollingInterval`), `newBatchThreshold`, lease renewal and `functionTimeout`, retry policies,
message TTL on outputs, other binding types (construction fails on them), HTTP functions (see
`tests/http_host.py`), the .NET host's own binding validation (see `tests/index_app.py`).
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import inspect
import json
import logging
import os
import re
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import azure.functions as func
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.functions import _abc
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest

log = logging.getLogger("tests.host")

ROOT = Path(__file__).resolve().parent.parent
HOST_JSON = ROOT / "host.json"
STORAGE_CONNECTIONS = ("PROW_STORAGE", "AzureWebJobsStorage")
POISON_SUFFIX = "-poison"
LEASE_SECONDS = 600          # the host leases a message for 10 minutes while the function runs
_QUEUE_NAME = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_SETTING = re.compile(r"%([^%]+)%")
_EXPRESSION = re.compile(r"\{([^{}]+)\}")
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$")
_CLIENT_OPTIONS = {"retry_total": 2, "initial_backoff": 0.2, "increment_base": 1.5,
                   "connection_timeout": 3, "read_timeout": 20}


class HostConfigError(ValueError):
    """The app uses something this host stand-in cannot play (or the real host would refuse)."""


class BindingError(Exception):
    """An output or input binding could not be resolved or written (fails the invocation)."""


# -- host.json ------------------------------------------------------------------------------------

def parse_timespan(value: str | int | float) -> float:
    """A host.json TimeSpan ("00:00:30", "1.02:00:00", "00:00:00.5") in seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    m = _TIMESPAN.match(value.strip())
    if not m:
        raise HostConfigError(f"not a TimeSpan: {value!r}")
    days, h, mins, secs = m.groups()
    return int(days or 0) * 86400 + int(h) * 3600 + int(mins) * 60 + float(secs)


@dataclass(frozen=True)
class QueueSettings:
    """`extensions.queues` of host.json, with the host's defaults."""
    batch_size: int = 16
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0      # the host's delay before a failed message is retried
    message_encoding: str = "base64"

    @classmethod
    def from_host_json(cls, host_json: Mapping[str, Any] | str | Path | None) -> "QueueSettings":
        if host_json is None:
            return cls()
        if not isinstance(host_json, Mapping):
            host_json = json.loads(Path(host_json).read_text())
        q = (host_json.get("extensions") or {}).get("queues") or {}
        encoding = str(q.get("messageEncoding", "base64")).lower()
        if encoding not in ("base64", "none"):
            raise HostConfigError(f"host.json queues.messageEncoding {encoding!r} is not base64 or none")
        return cls(batch_size=int(q.get("batchSize", 16)), max_dequeue_count=int(q.get("maxDequeueCount", 5)),
                   visibility_timeout=parse_timespan(q.get("visibilityTimeout", 0)), message_encoding=encoding)


# -- records ----------------------------------------------------------------------------------------

@dataclass
class Invocation:
    """One call of a user function."""
    function: str
    trigger: str                         # "queue" or "timer"
    queue: str | None = None
    message_id: str | None = None
    dequeue_count: int | None = None
    body: bytes | None = None
    outcome: str = "running"             # "ok", "retry" (failed, will come back), "poisoned" (failed, moved)
    exception: BaseException | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    thread: str = ""
    started: float = 0.0
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def text(self) -> str | None:
        return None if self.body is None else self.body.decode("utf-8", errors="replace")

    def describe(self) -> str:
        where = f"{self.queue}/{self.message_id} #{self.dequeue_count}" if self.trigger == "queue" else "timer"
        err = f": {type(self.exception).__name__}: {self.exception}" if self.exception else ""
        return f"{self.function} [{where}] {self.outcome}{err}"


@dataclass
class Poisoned:
    """A message the host moved to `<queue>-poison`."""
    queue: str
    poison_queue: str
    message_id: str
    dequeue_count: int
    content: str                         # as stored (base64 when messageEncoding is base64)
    reason: str                          # "max-dequeue-count", "dequeue-count-exceeded", "undecodable"
    function: str
    exception: BaseException | None = None

    def describe(self) -> str:
        err = f" after {type(self.exception).__name__}: {self.exception}" if self.exception else ""
        return (f"{self.queue}/{self.message_id} -> {self.poison_queue} ({self.reason}, dequeue_count "
                f"{self.dequeue_count}, function {self.function}){err}")


@dataclass
class Settlement:
    """What one `settle()` did."""
    invocations: list[Invocation] = field(default_factory=list)
    poisoned: list[Poisoned] = field(default_factory=list)
    pending: dict[str, int] = field(default_factory=dict)   # trigger queues with invisible messages left
    rounds: int = 0
    elapsed: float = 0.0

    def __iter__(self):
        return iter(self.invocations)

    def __len__(self) -> int:
        return len(self.invocations)

    def calls(self, function: str | None = None) -> list[Invocation]:
        return [i for i in self.invocations if function is None or i.function == function]

    @property
    def errors(self) -> list[Invocation]:
        return [i for i in self.invocations if i.exception is not None]

    def summary(self) -> str:
        lines = [i.describe() for i in self.invocations] + ["poisoned: " + p.describe() for p in self.poisoned]
        if self.pending:
            lines.append(f"pending (not visible yet): {self.pending}")
        return "\n".join(lines) or "(nothing ran)"


class PoisonedMessages(AssertionError):
    """settle() moved messages to poison queues and the test did not say that was expected."""

    def __init__(self, settlement: Settlement):
        self.settlement = settlement
        details = []
        for p in settlement.poisoned:
            details.append("  " + p.describe())
            if p.exception is not None:
                tb = "".join(traceback.format_exception(p.exception)).rstrip()
                details.append("    " + tb.replace("\n", "\n    "))
        super().__init__(f"{len(settlement.poisoned)} message(s) poisoned (pass raise_on_poison=False if "
                         f"expected):\n" + "\n".join(details))


class NotSettled(AssertionError):
    """settle() ran out of rounds or time with work left."""

    def __init__(self, message: str, settlement: Settlement):
        self.settlement = settlement
        super().__init__(f"{message}\n{settlement.summary()}")


# -- stand-ins for the worker's objects ---------------------------------------------------------

class Out(func.Out):
    """What the worker passes for an output binding."""

    def __init__(self) -> None:
        self._value = None

    def set(self, val) -> None:
        self._value = val

    def get(self):
        return self._value


class _TraceContext(_abc.TraceContext):
    trace_parent = property(lambda self: f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-00")
    trace_state = property(lambda self: "")
    attributes = property(lambda self: {})


class _RetryContext(_abc.RetryContext):
    retry_count = property(lambda self: 0)
    max_retry_count = property(lambda self: 0)
    exception = property(lambda self: None)


class Context(func.Context):
    """What the worker passes as `context` when a function declares that parameter."""

    def __init__(self, function_name: str, function_directory: str = str(ROOT)):
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._tls = threading.local()
        self._tls.invocation_id = self._invocation_id

    invocation_id = property(lambda self: self._invocation_id)
    thread_local_storage = property(lambda self: self._tls)
    function_name = property(lambda self: self._function_name)
    function_directory = property(lambda self: self._function_directory)
    trace_context = property(lambda self: _TraceContext())
    retry_context = property(lambda self: _RetryContext())


# -- binding expressions ------------------------------------------------------------------------

def _lookup(data: Mapping[str, Any], key: str):
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping):
            raise KeyError(key)
        matches = [k for k in node if isinstance(k, str) and k.lower() == part.lower()]
        if not matches:
            raise KeyError(key)
        node = node[matches[0]]
    return node


def resolve_expressions(template: str, data: Mapping[str, Any]) -> str:
    """Fill `{name}` binding expressions the way the host does (unknown names fail the invocation)."""
    def sub(m: re.Match) -> str:
        key = m.group(1).strip()
        low = key.lower()
        if low in ("rand-guid", "sys.randguid"):
            return str(uuid.uuid4())
        if low == "datetime":
            return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
        if low == "sys.utcnow":
            return datetime.now(timezone.utc).isoformat()
        try:
            value = _lookup(data, key)
        except KeyError:
            raise BindingError(f"No value for named parameter '{key}' in {template!r}") from None
        if isinstance(value, datetime):
            return value.isoformat()
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return _EXPRESSION.sub(sub, template)


# -- the host ---------------------------------------------------------------------------------------

@dataclass
class HostedFunction:
    name: str
    user_function: Callable
    kind: str                            # "queue" or "timer"
    trigger: dict
    queue: str | None
    connection: str
    outputs: list[dict]
    inputs: list[dict]
    has_return: bool
    wants_context: bool


class FunctionsHost:
    """Plays the Functions host for the queue- and timer-triggered functions of an app.

    `functions`: `{name: Function}` (or the functions) from `app.get_functions()`, which can be called
    only once per app. `connection_string`: what `PROW_STORAGE` / `AzureWebJobsStorage` mean.
    `host_json`: a path, a parsed dict or None (the host's defaults); defaults to the repo's host.json.
    `settings`: app settings for `%Name%` expressions and other connection names (over os.environ).
    `retry_delay`: seconds before a failed message is visible again (the host uses host.json's
    `visibilityTimeout`; pass `None` for that).
    """

    def __init__(self, functions: Mapping[str, Any] | Iterable[Any], connection_string: str, *,
                 host_json: Mapping[str, Any] | str | Path | None = HOST_JSON,
                 settings: Mapping[str, str] | None = None, retry_delay: float | None = 0.0,
                 poll_interval: float = 0.1):
        fns = list(functions.values()) if isinstance(functions, Mapping) else list(functions)
        self.connection_string = connection_string
        self.settings = {**os.environ, **(settings or {})}
        for name in STORAGE_CONNECTIONS:
            self.settings[name] = connection_string
        self.queue_settings = QueueSettings.from_host_json(host_json)
        self.retry_delay = self.queue_settings.visibility_timeout if retry_delay is None else float(retry_delay)
        self.poll_interval = poll_interval
        self.history: list[Invocation] = []
        self._lock = threading.Lock()
        self._queue_services: dict[str, Any] = {}
        self._blob_services: dict[str, Any] = {}
        self._existing_queues: set[tuple[str, str]] = set()
        self.functions: dict[str, HostedFunction] = {}
        for f in fns:
            hosted = self._describe(f)
            if hosted is not None:
                self.functions[hosted.name] = hosted
        for hosted in self.functions.values():   # fail now on a connection we cannot resolve
            for b in [hosted.trigger, *hosted.outputs, *hosted.inputs]:
                if b["type"] != "timerTrigger":
                    self._connection(b.get("connection"))

    @classmethod
    def from_app(cls, app: func.FunctionApp, connection_string: str, **kwargs) -> "FunctionsHost":
        """Builds from an app whose `get_functions()` has not been called yet (it can run once)."""
        return cls(app.get_functions(), connection_string, **kwargs)

    # -- discovery --------------------------------------------------------------------------------

    def _setting_expr(self, value: str, what: str) -> str:
        def sub(m: re.Match) -> str:
            if m.group(1) not in self.settings:
                raise HostConfigError(f"{what}: app setting {m.group(1)!r} is not set")
            return self.settings[m.group(1)]
        return _SETTING.sub(sub, value)

    def _describe(self, f) -> HostedFunction | None:
        name = f.get_function_name()
        bindings = json.loads(f.get_function_json())["bindings"]
        triggers = [b for b in bindings if b["type"].endswith("Trigger")]
        if len(triggers) != 1:
            raise HostConfigError(f"function {name}: expected one trigger, got {[b['type'] for b in triggers]}")
        trigger = dict(triggers[0])
        if trigger["type"] == "queueTrigger":
            kind = "queue"
            queue = self._setting_expr(trigger["queueName"], f"function {name}")
            if "{" in queue or not _QUEUE_NAME.match(queue):
                raise HostConfigError(f"function {name}: invalid queue name {queue!r} (3-63 lowercase letters, "
                                      f"digits, single hyphens, alphanumeric at both ends)")
        elif trigger["type"] == "timerTrigger":
            kind, queue = "timer", None
        else:
            return None                  # HTTP and others are not this host's business
        outputs, inputs, has_return = [], [], False
        for b in bindings:
            if b is triggers[0]:
                continue
            b = dict(b)
            for key in ("queueName", "path"):
                if key in b:
                    b[key] = self._setting_expr(b[key], f"function {name} binding {b['name']}")
            supported = {"OUT": ("queue", "blob"), "IN": ("blob",)}.get(b["direction"], ())
            if b["type"] not in supported:
                raise HostConfigError(f"function {name}: {b['direction']} binding of type {b['type']!r} "
                                      f"({b['name']}) is not modelled by tests/host.py")
            if b["name"] == "$return":
                has_return = True
            (outputs if b["direction"] == "OUT" else inputs).append(b)
        user = f.get_user_function()
        params = inspect.signature(user).parameters
        bound = {trigger["name"], *(b["name"] for b in outputs + inputs)}
        wants_context = "context" in params and "context" not in bound
        return HostedFunction(name, user, kind, trigger, queue, trigger.get("connection") or "AzureWebJobsStorage",
                              outputs, inputs, has_return, wants_context)

    @property
    def queue_functions(self) -> list[str]:
        return [n for n, f in self.functions.items() if f.kind == "queue"]

    @property
    def timer_functions(self) -> list[str]:
        return [n for n, f in self.functions.items() if f.kind == "timer"]

    # -- storage --------------------------------------------------------------------------------------

    def _connection(self, name: str | None) -> str:
        name = name or "AzureWebJobsStorage"
        value = self.settings.get(name)
        if not value:
            raise HostConfigError(f"connection {name!r} is not an app setting")
        return value

    def _queue_service(self, connection: str | None = None):
        conn = self._connection(connection)
        with self._lock:
            if conn not in self._queue_services:
                from azure.storage.queue import QueueServiceClient
                self._queue_services[conn] = QueueServiceClient.from_connection_string(conn, **_CLIENT_OPTIONS)
            return self._queue_services[conn]

    def _blob_service(self, connection: str | None = None):
        conn = self._connection(connection)
        with self._lock:
            if conn not in self._blob_services:
                from azure.storage.blob import BlobServiceClient
                self._blob_services[conn] = BlobServiceClient.from_connection_string(conn, **_CLIENT_OPTIONS)
            return self._blob_services[conn]

    def queue_client(self, queue: str, connection: str | None = None):
        """A raw client (no encoding policy): contents are exactly what is stored."""
        return self._queue_service(connection).get_queue_client(queue)

    def _encode(self, data: str | bytes) -> str:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if self.queue_settings.message_encoding == "base64":
            return base64.b64encode(raw).decode("ascii")
        return raw.decode("utf-8")

    def _decode(self, content: str) -> bytes:
        if self.queue_settings.message_encoding == "base64":
            return base64.b64decode(content, validate=True)
        return content.encode("utf-8")

    def _send_raw(self, queue: str, content: str, connection: str | None = None,
                  visibility_timeout: int | None = None):
        """Add a stored-form message, creating the queue if needed (AddMessageAndCreateIfNotExists)."""
        client = self.queue_client(queue, connection)
        key = (self._connection(connection), queue)
        if key not in self._existing_queues:
            try:
                client.create_queue()
            except ResourceExistsError:
                pass
            self._existing_queues.add(key)
        try:
            return client.send_message(content, visibility_timeout=visibility_timeout)
        except ResourceNotFoundError:   # deleted meanwhile
            try:
                client.create_queue()
            except ResourceExistsError:
                pass
            return client.send_message(content, visibility_timeout=visibility_timeout)

    # -- test helpers ----------------------------------------------------------------------------------

    def send(self, queue: str, data: str | bytes, visibility_timeout: int | None = None,
             connection: str | None = None):
        """Enqueue as the app's producers do (messageEncoding); returns the SDK's QueueMessage."""
        return self._send_raw(queue, self._encode(data), connection, visibility_timeout)

    def messages(self, queue: str, connection: str | None = None) -> list[str]:
        """The visible messages of a queue (up to 32), decoded, without consuming them."""
        try:
            peeked = self.queue_client(queue, connection).peek_messages(max_messages=32)
        except ResourceNotFoundError:
            return []
        out = []
        for m in peeked:
            try:
                out.append(self._decode(m.content).decode("utf-8"))
            except (binascii.Error, ValueError, UnicodeDecodeError):
                out.append(m.content)
        return out

    def poison(self, queue: str, connection: str | None = None) -> list[str]:
        """The messages of `<queue>-poison`, decoded."""
        return self.messages(queue + POISON_SUFFIX, connection)

    def count(self, queue: str, connection: str | None = None) -> int:
        """approximate_message_count: visible and invisible messages (0 for a missing queue)."""
        try:
            return self.queue_client(queue, connection).get_queue_properties().approximate_message_count
        except ResourceNotFoundError:
            return 0

    # -- invocation ---------------------------------------------------------------------------------

    def _read_blob_input(self, b: dict, data: Mapping[str, Any], fn: HostedFunction):
        from azure.functions.blob import InputStream
        path = resolve_expressions(b["path"], data)
        container, _, name = path.partition("/")
        try:
            content = self._blob_service(b.get("connection")).get_blob_client(container, name).download_blob().readall()
        except ResourceNotFoundError:
            return None
        annotation = inspect.signature(fn.user_function).parameters[b["name"]].annotation
        if annotation in (str, "str"):
            return content.decode("utf-8")
        if annotation in (bytes, "bytes"):
            return content
        return InputStream(data=content, name=path, length=len(content))

    def _write_outputs(self, fn: HostedFunction, values: dict[str, Any], targets: Mapping[str, str]) -> None:
        from azure.functions.blob import BlobConverter
        from azure.functions.queue import QueueMessageOutConverter
        for b in fn.outputs:
            value = values.get(b["name"])
            if value is None and b["name"] != "$return":
                continue                 # an Out never set (or set to None) writes nothing
            converter = QueueMessageOutConverter if b["type"] == "queue" else BlobConverter
            try:                         # the worker's get_datum(): a None return fails too
                datum = converter.encode(value, expected_type=None)
            except NotImplementedError:
                raise TypeError(f'unable to encode outgoing TypedData: unsupported type "{b["type"]}" for '
                                f'Python type "{type(value).__name__}"') from None
            if b["type"] == "queue":
                if datum.type in ("string", "bytes"):
                    items = [datum.value]
                else:                    # json: a list means several messages
                    parsed = json.loads(datum.value)
                    items = parsed if isinstance(parsed, list) else [parsed]
                    items = [i if isinstance(i, str) else json.dumps(i) for i in items]
                queue = targets[b["name"]]
                for item in items:
                    self._send_raw(queue, self._encode(item), b.get("connection"))
            else:                        # blob
                container, _, name = targets[b["name"]].partition("/")
                service = self._blob_service(b.get("connection"))
                try:
                    service.create_container(container)
                except ResourceExistsError:
                    pass
                payload = datum.value.encode("utf-8") if datum.type == "string" else datum.value
                service.get_blob_client(container, name).upload_blob(payload, overwrite=True)

    def _invoke(self, fn: HostedFunction, trigger_value: Any, data: Mapping[str, Any], inv: Invocation) -> None:
        """Run one invocation; sets inv.exception on failure (binding, function or output error)."""
        inv.thread = threading.current_thread().name
        inv.started = time.monotonic()
        try:
            args: dict[str, Any] = {fn.trigger["name"]: trigger_value}
            outs = {b["name"]: Out() for b in fn.outputs if b["name"] != "$return"}
            args.update(outs)
            for b in fn.inputs:
                args[b["name"]] = self._read_blob_input(b, data, fn)
            # output targets are bound before the function runs, as the host does
            targets = {b["name"]: resolve_expressions(b.get("queueName") or b.get("path"), data)
                       for b in fn.outputs}
            if fn.wants_context:
                args["context"] = Context(fn.name)
            result = fn.user_function(**args)
            if inspect.isawaitable(result):
                result = asyncio.run(_await(result))
            if result is not None and not fn.has_return:
                raise RuntimeError(f"function {fn.name!r} without a $return binding returned a non-None value")
            values = {name: out.get() for name, out in outs.items()}
            if fn.has_return:
                values["$return"] = result
            inv.outputs = {k: v for k, v in values.items() if v is not None or k == "$return"}
            self._write_outputs(fn, values, targets)
        except Exception as exc:  # noqa: BLE001 - the host records every failure
            inv.exception = exc
            log.warning("function %s failed (%s)", fn.name, inv.describe(), exc_info=exc)
        finally:
            inv.duration = time.monotonic() - inv.started

    # -- timers -----------------------------------------------------------------------------------

    def run_timer(self, name: str, past_due: bool = False, *, raise_errors: bool = True,
                  schedule_status: dict | None = None) -> Invocation:
        """Call a timer function now with a `TimerRequest`; re-raises its exception unless told not to."""
        fn = self.functions.get(name)
        if fn is None or fn.kind != "timer":
            raise KeyError(f"{name!r} is not a timer function (timers: {self.timer_functions})")
        inv = Invocation(function=name, trigger="timer")
        timer = TimerRequest(past_due=past_due, schedule_status=schedule_status,
                             schedule={"AdjustForDST": True})
        self._invoke(fn, timer, {}, inv)
        inv.outcome = "ok" if inv.exception is None else "error"
        with self._lock:
            self.history.append(inv)
        if inv.exception is not None and raise_errors:
            raise inv.exception
        return inv

    # -- queues -----------------------------------------------------------------------------------

    def _poison(self, fn: HostedFunction, msg, reason: str, settlement: Settlement,
                exception: BaseException | None) -> None:
        poison_queue = fn.queue + POISON_SUFFIX
        log.warning("message %s on %s: %s, moving to %s", msg.id, fn.queue, reason, poison_queue)
        self._send_raw(poison_queue, msg.content, fn.connection)
        self._delete(fn, msg)
        with self._lock:
            settlement.poisoned.append(Poisoned(fn.queue, poison_queue, msg.id, msg.dequeue_count, msg.content,
                                                reason, fn.name, exception))

    def _delete(self, fn: HostedFunction, msg) -> None:
        try:
            self.queue_client(fn.queue, fn.connection).delete_message(msg.id, msg.pop_receipt)
        except ResourceNotFoundError:
            pass                         # message or queue gone
        except HttpResponseError as e:
            if getattr(e, "error_code", None) != "PopReceiptMismatch":
                raise                    # someone else took it over: theirs to delete

    def _release(self, fn: HostedFunction, msg) -> None:
        try:
            self.queue_client(fn.queue, fn.connection).update_message(
                msg.id, msg.pop_receipt, visibility_timeout=int(round(self.retry_delay)))
        except ResourceNotFoundError:
            pass
        except HttpResponseError as e:
            if getattr(e, "error_code", None) != "PopReceiptMismatch":
                raise

    def _process(self, fn: HostedFunction, msg, settlement: Settlement) -> None:
        """The host's handling of one received message (QueueProcessor + the function executor)."""
        max_count = self.queue_settings.max_dequeue_count
        if msg.dequeue_count > max_count:
            self._poison(fn, msg, "dequeue-count-exceeded", settlement, None)
            return
        try:
            body = self._decode(msg.content)
        except (binascii.Error, ValueError):
            self._poison(fn, msg, "undecodable", settlement, None)
            return
        qm = QueueMessage(id=msg.id, body=body, dequeue_count=msg.dequeue_count, expiration_time=msg.expires_on,
                          insertion_time=msg.inserted_on, time_next_visible=msg.next_visible_on,
                          pop_receipt=msg.pop_receipt)
        data: dict[str, Any] = {}
        try:
            payload = json.loads(body)
            if isinstance(payload, dict):
                data.update(payload)
        except (ValueError, UnicodeDecodeError):
            pass
        data.update({"QueueTrigger": body.decode("utf-8", errors="replace"), "Id": msg.id,
                     "DequeueCount": msg.dequeue_count, "InsertionTime": msg.inserted_on,
                     "ExpirationTime": msg.expires_on, "NextVisibleTime": msg.next_visible_on,
                     "PopReceipt": msg.pop_receipt})
        inv = Invocation(function=fn.name, trigger="queue", queue=fn.queue, message_id=msg.id,
                         dequeue_count=msg.dequeue_count, body=body)
        with self._lock:
            settlement.invocations.append(inv)
            self.history.append(inv)
        self._invoke(fn, qm, data, inv)
        if inv.exception is None:
            inv.outcome = "ok"
            self._delete(fn, msg)
        elif msg.dequeue_count >= max_count:
            inv.outcome = "poisoned"
            self._poison(fn, msg, "max-dequeue-count", settlement, inv.exception)
        else:
            inv.outcome = "retry"
            self._release(fn, msg)

    def _receive(self, fn: HostedFunction) -> list:
        try:
            batch = self.queue_settings.batch_size
            return list(self.queue_client(fn.queue, fn.connection).receive_messages(
                messages_per_page=batch, max_messages=batch, visibility_timeout=LEASE_SECONDS))
        except ResourceNotFoundError:
            return []                    # the listener waits for the queue to exist

    def settle(self, *, max_rounds: int = 100, timeout: float = 30.0, wait_for_delayed: float = 0.0,
               raise_on_poison: bool = True, parallel: bool = False, max_workers: int | None = None,
               functions: Iterable[str] | None = None) -> Settlement:
        """Deliver queue messages to their functions until every trigger queue is empty.

        Each round leases up to batchSize messages from every trigger queue and runs them, one after
        another (default, deterministic) or all at once on threads (`parallel=True`, as the host runs
        a batch). Failed messages come back after `retry_delay` and are retried in a later round.
        When nothing is visible but a trigger queue still holds messages (sent with a visibility
        delay), waits up to `wait_for_delayed` seconds of idleness for them; what is still invisible
        after that is reported in `.pending`. Raises `NotSettled` after `max_rounds` rounds with work
        or `timeout` seconds, and `PoisonedMessages` if anything was poisoned (unless
        `raise_on_poison=False`). `functions` limits the run to some queue functions.
        """
        names = list(functions) if functions is not None else self.queue_functions
        unknown = [n for n in names if n not in self.functions or self.functions[n].kind != "queue"]
        if unknown:
            raise KeyError(f"not queue functions: {unknown} (queue functions: {self.queue_functions})")
        targets = [self.functions[n] for n in names]
        settlement = Settlement()
        start = time.monotonic()
        idle_since: float | None = None
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers or 64,
                                                     thread_name_prefix="host") if parallel else None
        try:
            while True:
                now = time.monotonic()
                work = [(fn, m) for fn in targets for m in self._receive(fn)]
                if work:
                    if settlement.rounds >= max_rounds:
                        self._abandon(work)
                        raise NotSettled(f"not settled after {max_rounds} rounds", settlement)
                    settlement.rounds += 1
                    idle_since = None
                    if pool is None:
                        for fn, m in work:
                            self._process(fn, m, settlement)
                    else:
                        futures = [pool.submit(self._process, fn, m, settlement) for fn, m in work]
                        for f in futures:
                            f.result()
                else:
                    pending = {}
                    for fn in targets:
                        if fn.queue not in pending and (c := self.count(fn.queue, fn.connection)):
                            pending[fn.queue] = c
                    settlement.pending = pending
                    if not pending:
                        break
                    idle_since = now if idle_since is None else idle_since
                    if now - idle_since >= wait_for_delayed:
                        break
                if time.monotonic() - start > timeout:
                    raise NotSettled(f"not settled within {timeout} s", settlement)
                if not work:
                    time.sleep(self.poll_interval)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
            settlement.elapsed = time.monotonic() - start
        if raise_on_poison and settlement.poisoned:
            raise PoisonedMessages(settlement)
        return settlement

    def _abandon(self, work) -> None:
        """Give leased but unprocessed messages back (when settle gives up)."""
        for fn, m in work:
            try:
                self.queue_client(fn.queue, fn.connection).update_message(m.id, m.pop_receipt, visibility_timeout=0)
            except HttpResponseError:
                pass


async def _await(awaitable):
    return await awaitable
