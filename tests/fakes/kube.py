"""A stateful fake of the Kubernetes API's pod calls, served over real HTTP for the real `kubernetes` client.

No real API server can be installed on our machines (platform notes §5); this one answers the calls the app
makes with the shapes the apiserver uses. It runs in-process on 127.0.0.1 (a free port) in a thread.

    with FakeKube(token="t0k") as kube:               # or the `fake_kube` fixture below
        write_kubeconfig(path, {"default": kube})     # a kubeconfig whose context points at the fake
        ...the code under test creates pods...
        pod = kube.pod("test-pods", name)             # live state (a dict in the API's JSON shape)
        kube.run(name)                                # Pending -> Running (startTime, container running)
        kube.succeed(name) / kube.fail_pod(name, exit_code=2, reason="Error") / kube.set_phase(...)
        kube.set_log(name, "text", container="test")
        assert kube.count("POST", "/api/v1/namespaces/*/pods") == 1

Served (core/v1 pods only):
    POST   /api/v1/namespaces/{ns}/pods                201 Pod | 409 AlreadyExists | 422 Invalid (no name,
                                                       no containers, bad name) | 404 NotFound (namespace
                                                       not in `namespaces`, when that is set)
    GET    /api/v1/namespaces/{ns}/pods, /api/v1/pods  PodList; labelSelector (=, ==, !=, in, notin, key,
                                                       !key) and fieldSelector (metadata.name,
                                                       metadata.namespace, status.phase; = and !=)
    GET    /api/v1/namespaces/{ns}/pods/{name}         Pod | 404 NotFound
    DELETE /api/v1/namespaces/{ns}/pods/{name}         200 Pod with deletionTimestamp | 404; the pod is gone at
                                                       once, or with `graceful_delete=True` stays (terminating)
                                                       until `finish_deletion()`
    GET    /api/v1/namespaces/{ns}/pods/{name}/log     text/plain (container, tailLines) | 404 | 400 when a
                                                       multi-container pod gets no container
Errors are Kubernetes `Status` bodies (kind, apiVersion v1, status Failure, message, reason, details, code).
Auth: with `token`, every request needs `Authorization: Bearer <token>` (401 Unauthorized otherwise).
No Content-Type is required on writes (kubernetes 37 sends none).

Injected failures (queued; each matching request consumes one; `applied=True` runs the real handler first
so only the answer is lost):
    fail(method, path, *, status=500, times=1, applied=False)      (a Status body with reason InternalError)
    fail_timeout(method, path, *, times=1, delay=2.0, applied=False) (no answer; connection closed after delay)
Request log: `log` -> [Request(method, path, query, headers, body, status)]; `find()`, `count()`,
`clear_log()`. Patterns as in the fake GitHub: a verb or "*", a glob path ("*" also matches "/").

Not modelled: watches, patch, other resources, resourceVersion conflicts, admission, scheduling.
"""
from __future__ import annotations

import copy
import fnmatch
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

import pytest

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_POD_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/pods(?:/([^/]+))?(/log)?$")
_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "AlreadyExists",
            422: "Invalid", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code: int, message: str, *, reason: str | None = None, name: str = "",
                kind: str = "pods") -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason or _REASONS.get(code, "Unknown"), "code": code}
    if name or code in (404, 409, 422):
        body["details"] = {"name": name, "kind": kind}
    return body


@dataclass
class Failure:
    method: str
    path: str
    kind: str                  # "status" or "timeout"
    status: int = 500
    times: int = 1
    delay: float = 0.0
    applied: bool = False
    hits: int = 0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # None: no answer (injected timeout)
    failure: Failure | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class _Error(Exception):
    def __init__(self, code: int, message: str, *, reason: str | None = None, name: str = ""):
        super().__init__(message)
        self.body = status_body(code, message, reason=reason, name=name)
        self.code = code


def _matches(pattern: str, value: str) -> bool:
    return pattern == "*" or pattern.upper() == value.upper()


def parse_label_selector(selector: str) -> list[tuple[str, str, set[str]]]:
    """`a=b,c!=d,e in (x,y),f notin (z),g,!h` -> [(key, op, values)]."""
    requirements = []
    for part in re.findall(r"(?:[^,(]|\([^)]*\))+", selector or ""):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\S+)\s+(in|notin)\s+\(([^)]*)\)", part)
        if m:
            requirements.append((m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}))
        elif "!=" in part:
            k, v = part.split("!=", 1)
            requirements.append((k.strip(), "!=", {v.strip()}))
        elif "=" in part:
            k, v = part.split("==", 1) if "==" in part else part.split("=", 1)
            requirements.append((k.strip(), "=", {v.strip()}))
        elif part.startswith("!"):
            requirements.append((part[1:].strip(), "!exists", set()))
        else:
            requirements.append((part, "exists", set()))
    return requirements


def labels_match(labels: Mapping[str, str], requirements: Iterable[tuple[str, str, set[str]]]) -> bool:
    for key, op, values in requirements:
        present = key in labels
        value = labels.get(key)
        ok = {"=": present and value in values, "in": present and value in values,
              "!=": not present or value not in values, "notin": not present or value not in values,
              "exists": present, "!exists": not present}[op]
        if not ok:
            return False
    return True


def _field_value(pod: Mapping[str, Any], path: str) -> str:
    node: Any = pod
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return "" if node is None else str(node)


class FakeKube:
    def __init__(self, *, token: str | None = None, namespaces: Iterable[str] | None = None,
                 graceful_delete: bool = False):
        self.token = token
        self.namespaces = set(namespaces) if namespaces is not None else None
        self.graceful_delete = graceful_delete
        self._lock = threading.RLock()
        self._pods: dict[tuple[str, str], dict[str, Any]] = {}
        self._logs: dict[tuple[str, str, str], str] = {}
        self._failures: list[Failure] = []
        self._resource_version = 1000
        self.log: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None   # clients that hang up (timeouts) are normal
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True, name="fake-kube")
        self._started = False

    # -- lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeKube":
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._server.shutdown()
            self._started = False
        self._server.server_close()

    def __enter__(self) -> "FakeKube":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- state for tests

    def _next_version(self) -> str:
        self._resource_version += 1
        return str(self._resource_version)

    def pods(self, namespace: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(p) for (ns, _), p in sorted(self._pods.items())
                    if namespace is None or ns == namespace]

    def pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            pod = self._pods.get((namespace, name))
            return copy.deepcopy(pod) if pod else None

    def _find(self, name: str, namespace: str | None) -> dict[str, Any]:
        matches = [p for (ns, n), p in self._pods.items() if n == name and (namespace is None or ns == namespace)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} pods named {name!r}" + (f" in {namespace}" if namespace else ""))
        return matches[0]

    def add_pod(self, namespace: str, pod: Mapping[str, Any]) -> dict[str, Any]:
        """Put a pod on the cluster directly (as if someone else had created it)."""
        with self._lock:
            return copy.deepcopy(self._create(namespace, copy.deepcopy(dict(pod))))

    def set_phase(self, name: str, phase: str, *, namespace: str | None = None, reason: str | None = None,
                  message: str | None = None, exit_code: int | None = None, container_reason: str | None = None,
                  started: bool = True) -> dict[str, Any]:
        """Move a pod: `phase` (Pending/Running/Succeeded/Failed/Unknown), pod `reason`, and every
        container's state: running (Running), terminated with `exit_code` (Succeeded/Failed) or waiting."""
        with self._lock:
            pod = self._find(name, namespace)
            status = pod.setdefault("status", {})
            status["phase"] = phase
            for key, value in (("reason", reason), ("message", message)):
                if value is None:
                    status.pop(key, None)
                else:
                    status[key] = value
            if started and phase != "Pending":
                status.setdefault("startTime", _now())
            code = exit_code if exit_code is not None else (0 if phase == "Succeeded" else 1)
            statuses = []
            for c in (pod.get("spec") or {}).get("containers") or []:
                if phase == "Running":
                    state = {"running": {"startedAt": status.get("startTime", _now())}}
                elif phase in ("Succeeded", "Failed"):
                    state = {"terminated": {"exitCode": code, "reason": container_reason or
                                            ("Completed" if code == 0 else "Error"),
                                            "startedAt": status.get("startTime", _now()), "finishedAt": _now()}}
                else:
                    state = {"waiting": {"reason": container_reason or "ContainerCreating"}}
                statuses.append({"name": c.get("name", ""), "image": c.get("image", ""), "ready": phase == "Running",
                                 "restartCount": 0, "state": state})
            status["containerStatuses"] = statuses
            pod["metadata"]["resourceVersion"] = self._next_version()
            return copy.deepcopy(pod)

    def schedule(self, name: str, **kw) -> dict[str, Any]:
        """Pending, but scheduled (startTime set, containers waiting)."""
        with self._lock:
            self._find(name, kw.get("namespace")).setdefault("status", {})["startTime"] = _now()
        return self.set_phase(name, "Pending", **kw)

    def run(self, name: str, **kw) -> dict[str, Any]:
        return self.set_phase(name, "Running", **kw)

    def succeed(self, name: str, **kw) -> dict[str, Any]:
        return self.set_phase(name, "Succeeded", exit_code=0, **kw)

    def fail_pod(self, name: str, *, exit_code: int = 1, **kw) -> dict[str, Any]:
        return self.set_phase(name, "Failed", exit_code=exit_code, **kw)

    def set_log(self, name: str, text: str, *, container: str = "", namespace: str | None = None) -> None:
        with self._lock:
            pod = self._find(name, namespace)
            self._logs[(pod["metadata"]["namespace"], name, container)] = text

    def finish_deletion(self, name: str, *, namespace: str | None = None) -> None:
        with self._lock:
            pod = self._find(name, namespace)
            self._pods.pop((pod["metadata"]["namespace"], name), None)

    # -- failures and log

    def fail(self, method: str, path: str, *, status: int = 500, times: int = 1, applied: bool = False) -> Failure:
        with self._lock:
            f = Failure(method, path, "status", status, times, applied=applied)
            self._failures.append(f)
            return f

    def fail_timeout(self, method: str, path: str, *, times: int = 1, delay: float = 2.0,
                     applied: bool = False) -> Failure:
        with self._lock:
            f = Failure(method, path, "timeout", times=times, delay=delay, applied=applied)
            self._failures.append(f)
            return f

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def find(self, method: str = "*", path: str = "*") -> list[Request]:
        with self._lock:
            return [r for r in self.log if _matches(method, r.method) and fnmatch.fnmatchcase(r.path, path)]

    def count(self, method: str = "*", path: str = "*") -> int:
        return len(self.find(method, path))

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def _take_failure(self, method: str, path: str) -> Failure | None:
        with self._lock:
            for f in self._failures:
                if _matches(f.method, method) and fnmatch.fnmatchcase(path, f.path):
                    f.hits += 1
                    f.times -= 1
                    if f.times <= 0:
                        self._failures.remove(f)
                    return f
        return None

    # -- the API

    def _create(self, namespace: str, pod: dict[str, Any]) -> dict[str, Any]:
        meta = pod.setdefault("metadata", {}) or {}
        pod["metadata"] = meta
        name = meta.get("name") or ""
        if not name and meta.get("generateName"):
            name = meta["generateName"] + uuid.uuid4().hex[:5]
        if not name:
            raise _Error(422, "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required")
        if len(name) > 253 or not _NAME.match(name):
            raise _Error(422, f"Pod \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": a lowercase "
                              "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
                         name=name)
        if not (pod.get("spec") or {}).get("containers"):
            raise _Error(422, f"Pod \"{name}\" is invalid: spec.containers: Required value", name=name)
        if self.namespaces is not None and namespace not in self.namespaces:
            raise _Error(404, f"namespaces \"{namespace}\" not found", name=namespace)
        if (namespace, name) in self._pods:
            raise _Error(409, f"pods \"{name}\" already exists", name=name)
        pod.setdefault("apiVersion", "v1")
        pod.setdefault("kind", "Pod")
        meta.update({"name": name, "namespace": namespace, "uid": str(uuid.uuid4()),
                     "creationTimestamp": _now(), "resourceVersion": self._next_version()})
        pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        self._pods[(namespace, name)] = pod
        return pod

    def _get(self, namespace: str, name: str) -> dict[str, Any]:
        pod = self._pods.get((namespace, name))
        if pod is None:
            raise _Error(404, f"pods \"{name}\" not found", name=name)
        return pod

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        with self._lock:
            if path == "/api/v1/pods" and method == "GET":
                return 200, self._list(None, query)
            m = _POD_PATH.match(path)
            if not m:
                raise _Error(404, "the server could not find the requested resource", name="")
            namespace, name, log = m.groups()
            if name is None:
                if method == "POST":
                    try:
                        pod = json.loads(body or b"{}")
                    except ValueError:
                        raise _Error(400, "the body of the request was in an unknown format") from None
                    return 201, copy.deepcopy(self._create(namespace, pod))
                if method == "GET":
                    return 200, self._list(namespace, query)
                raise _Error(405, f"method {method} not allowed")
            if log:
                if method != "GET":
                    raise _Error(405, f"method {method} not allowed")
                pod = self._get(namespace, name)
                containers = [c.get("name") for c in pod["spec"].get("containers") or []]
                container = (query.get("container") or [""])[0]
                if not container and len(containers) > 1:
                    raise _Error(400, f"a container name must be specified for pod {name}, choose one of: "
                                      f"[{' '.join(containers)}]")
                text = self._logs.get((namespace, name, container)) or self._logs.get((namespace, name, "")) or ""
                tail = (query.get("tailLines") or [""])[0]
                if tail:
                    lines = text.splitlines(keepends=True)
                    text = "".join(lines[-int(tail):]) if int(tail) > 0 else ""
                return 200, text
            if method == "GET":
                return 200, copy.deepcopy(self._get(namespace, name))
            if method == "DELETE":
                pod = self._get(namespace, name)
                pod["metadata"]["deletionTimestamp"] = _now()
                pod["metadata"]["resourceVersion"] = self._next_version()
                answer = copy.deepcopy(pod)
                if not self.graceful_delete:
                    del self._pods[(namespace, name)]
                return 200, answer
            raise _Error(405, f"method {method} not allowed")

    def _list(self, namespace: str | None, query: dict[str, list[str]]) -> dict[str, Any]:
        requirements = parse_label_selector((query.get("labelSelector") or [""])[0])
        fields = []
        for part in filter(None, (query.get("fieldSelector") or [""])[0].split(",")):
            negate = "!=" in part
            k, v = part.split("!=" if negate else ("==" if "==" in part else "="), 1)
            fields.append((k.strip(), negate, v.strip()))
        items = []
        for (ns, _), pod in sorted(self._pods.items()):
            if namespace is not None and ns != namespace:
                continue
            if not labels_match(pod["metadata"].get("labels") or {}, requirements):
                continue
            if any((_field_value(pod, k) == v) == negate for k, negate, v in fields):
                continue
            items.append(copy.deepcopy(pod))
        return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": str(self._resource_version)},
                "items": items}


def _handler_for(kube: FakeKube):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(self.command, parts.path, parse_qs(parts.query),
                              {k.lower(): v for k, v in self.headers.items()}, body)
            with kube._lock:
                kube.log.append(request)
            failure = kube._take_failure(self.command, parts.path)
            request.failure = failure
            if failure is not None and failure.applied:
                try:
                    kube.handle(self.command, parts.path, request.query, body)
                except _Error:
                    pass
            if failure is not None and failure.kind == "timeout":
                time.sleep(failure.delay)
                self.close_connection = True
                return
            if failure is not None:
                status, answer = failure.status, status_body(failure.status, "Internal error occurred: injected")
            elif kube.token is not None and self.headers.get("Authorization") != f"Bearer {kube.token}":
                status, answer = 401, status_body(401, "Unauthorized")
            else:
                try:
                    status, answer = kube.handle(self.command, parts.path, request.query, body)
                except _Error as e:
                    status, answer = e.code, e.body
            request.status = status
            if isinstance(answer, str):
                data, ctype = answer.encode(), "text/plain"
            else:
                data, ctype = json.dumps(answer).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

    return Handler


def write_kubeconfig(path: str | Path, clusters: Mapping[str, FakeKube], *, current: str | None = None) -> Path:
    """A kubeconfig with one context per cluster alias, each pointing at its fake (bearer token auth)."""
    import yaml

    names = list(clusters)
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": current or (names[0] if names else ""),
           "clusters": [{"name": n, "cluster": {"server": k.url}} for n, k in clusters.items()],
           "users": [{"name": n, "user": {"token": k.token} if k.token else {}} for n, k in clusters.items()],
           "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in names]}
    path = Path(path)
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def fake_kube():
    with FakeKube(token="fake-kube-token") as kube:
        yield kube
