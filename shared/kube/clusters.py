"""Build clusters and the one client for their pods (`ClusterClient`).

Where clusters come from (`Clusters.from_env()`):
- `PROW_KUBECONFIG`: a kubeconfig file; each context is a build cluster named by the context
  (a job's `cluster:` picks it; jobs without one use `default`). Whatever auth the kubeconfig holds
  (token, client certificate, ...) is used as the `kubernetes` client reads it.
- `PROW_AKS_CLUSTERS`: for AKS without a kubeconfig, JSON `{"<alias>": {"server": "https://...",
  "certificate_authority_data": "<base64 PEM>" (optional)}}`. Requests carry an Entra ID bearer token
  from azure-identity's `DefaultAzureCredential` for the AKS server's scope
  (`6dae42f8-4368-4678-94ff-3960e28e3630/.default`), renewed before it expires.
  `PROW_AKS_CLIENT_ID` picks a user-assigned managed identity.
A kubeconfig context and an AKS entry of the same name: the kubeconfig wins.

`ClusterClient` returns pods as plain dicts in the API's JSON shape and raises one error family:
`PodExists` (409), `PodNotFound` (404), `PodRejected` (other 4xx: the request itself is wrong, retrying
cannot help), `ClusterUnavailable` (5xx, 429, timeouts, refused connections: try again later).
The `kubernetes` package is imported only when a client is built.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
import threading
import time
from typing import Any, Callable, Mapping

log = logging.getLogger("prow.kube")

KUBECONFIG_SETTING = "PROW_KUBECONFIG"
AKS_SETTING = "PROW_AKS_CLUSTERS"
AKS_CLIENT_ID_SETTING = "PROW_AKS_CLIENT_ID"
AKS_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"   # the AKS AAD server application
DEFAULT_CLUSTER = "default"
REQUEST_TIMEOUT = (3.0, 20.0)      # connect, read (seconds)
_TOKEN_MARGIN = 300                # renew a token this many seconds before it expires


class KubeError(Exception):
    """Root of the cluster client's errors."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = ""):
        super().__init__(message)
        self.status = status
        self.reason = reason


class UnknownCluster(KubeError):
    pass


class PodExists(KubeError):
    pass


class PodNotFound(KubeError):
    pass


class PodRejected(KubeError):
    pass


class ClusterUnavailable(KubeError):
    pass


class BearerToken:
    """An azure-identity token for one scope, cached until shortly before it expires."""

    def __init__(self, credential: Any, scope: str = AKS_SCOPE, *, clock: Callable[[], float] = time.time):
        self.credential = credential
        self.scope = scope
        self.clock = clock
        self._token: str | None = None
        self._expires_on = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or self.clock() >= self._expires_on - _TOKEN_MARGIN:
                access = self.credential.get_token(self.scope)
                self._token, self._expires_on = access.token, float(access.expires_on)
            return self._token


def _error_from_api(exc: Any, what: str) -> KubeError:
    status = getattr(exc, "status", None) or 0
    message, reason = "", getattr(exc, "reason", "") or ""
    try:
        body = json.loads(getattr(exc, "body", None) or "{}")
        message, reason = body.get("message", ""), body.get("reason", reason)
    except (ValueError, TypeError, AttributeError):
        pass
    message = message or f"{status} {reason}".strip()
    text = f"{what}: {message}"
    if status == 409:
        return PodExists(text, status=status, reason=reason)
    if status == 404:
        return PodNotFound(text, status=status, reason=reason)
    if status == 429 or status >= 500 or status == 0:
        return ClusterUnavailable(text, status=status, reason=reason)
    return PodRejected(text, status=status, reason=reason)


class ClusterClient:
    """Pod calls on one build cluster (a `kubernetes.client.ApiClient` underneath)."""

    def __init__(self, name: str, api_client: Any, *, timeout: tuple[float, float] = REQUEST_TIMEOUT):
        from kubernetes import client
        self.name = name
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.timeout = timeout

    @classmethod
    def from_kubeconfig(cls, path: str, context: str, **kw: Any) -> "ClusterClient":
        from kubernetes import client, config
        configuration = client.Configuration()
        config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                persist_config=False)
        configuration.retries = False          # retries are the queue's job: one attempt per call
        return cls(context, client.ApiClient(configuration), **kw)

    @classmethod
    def for_aks(cls, name: str, server: str, token: BearerToken, *, certificate_authority_data: str | None = None,
                **kw: Any) -> "ClusterClient":
        from kubernetes import client
        configuration = client.Configuration()
        configuration.host = server
        configuration.retries = False
        if certificate_authority_data:
            handle = tempfile.NamedTemporaryFile("wb", suffix=".crt", delete=False)
            with handle:
                handle.write(base64.b64decode(certificate_authority_data))
            configuration.ssl_ca_cert = handle.name

        def refresh(cfg) -> None:
            cfg.api_key = {"authorization": token.get()}
            cfg.api_key_prefix = {"authorization": "Bearer"}

        refresh(configuration)
        configuration.refresh_api_key_hook = refresh
        return cls(name, client.ApiClient(configuration), **kw)

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError
        try:
            return fn(*args, _request_timeout=self.timeout, _preload_content=False, **kwargs)
        except ApiException as exc:
            raise _error_from_api(exc, what) from exc
        except (HTTPError, OSError) as exc:
            raise ClusterUnavailable(f"{what}: cluster {self.name} did not answer: {exc}") from exc

    @staticmethod
    def _json(response: Any) -> Any:
        return json.loads(response.data or b"null")

    def create_pod(self, namespace: str, pod: Mapping[str, Any]) -> dict[str, Any]:
        name = (pod.get("metadata") or {}).get("name", "")
        return self._json(self._call(f"create pod {namespace}/{name} on {self.name}",
                                     self.core.create_namespaced_pod, namespace, dict(pod)))

    def get_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self._json(self._call(f"get pod {namespace}/{name} on {self.name}",
                                         self.core.read_namespaced_pod, name, namespace))
        except PodNotFound:
            return None

    def list_pods(self, namespace: str, labels: Mapping[str, str] | str = "") -> list[dict[str, Any]]:
        selector = labels if isinstance(labels, str) else ",".join(f"{k}={v}" for k, v in labels.items())
        answer = self._json(self._call(f"list pods in {namespace} on {self.name}", self.core.list_namespaced_pod,
                                       namespace, label_selector=selector or None))
        return list(answer.get("items") or [])

    def delete_pod(self, namespace: str, name: str) -> bool:
        """Delete a pod; False if it was already gone."""
        try:
            self._call(f"delete pod {namespace}/{name} on {self.name}", self.core.delete_namespaced_pod,
                       name, namespace)
            return True
        except PodNotFound:
            return False

    def pod_log(self, namespace: str, name: str, *, container: str | None = None,
                tail_lines: int | None = None) -> str:
        kwargs = {k: v for k, v in (("container", container), ("tail_lines", tail_lines)) if v is not None}
        response = self._call(f"log of pod {namespace}/{name} on {self.name}",
                              self.core.read_namespaced_pod_log, name, namespace, **kwargs)
        return (response.data or b"").decode("utf-8", errors="replace")


class Clusters:
    """The build clusters by alias; clients are built on first use and kept."""

    def __init__(self, *, kubeconfig: str | None = None, aks: Mapping[str, Mapping[str, Any]] | None = None,
                 credential_factory: Callable[[], Any] | None = None):
        self.kubeconfig = kubeconfig
        self.aks = dict(aks or {})
        self.credential_factory = credential_factory or _default_credential
        self._contexts: list[str] | None = None
        self._clients: dict[str, ClusterClient] = {}
        self._token: BearerToken | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kw: Any) -> "Clusters":
        env = os.environ if env is None else env
        raw = env.get(AKS_SETTING, "").strip()
        try:
            aks = json.loads(raw) if raw else {}
        except ValueError as exc:
            raise ValueError(f"{AKS_SETTING} is not JSON: {exc}") from exc
        if not isinstance(aks, dict) or not all(isinstance(v, dict) and v.get("server") for v in aks.values()):
            raise ValueError(f'{AKS_SETTING} must be {{"<alias>": {{"server": "https://..."}}}}')
        client_id = env.get(AKS_CLIENT_ID_SETTING, "").strip()
        kw.setdefault("credential_factory", (lambda: _default_credential(client_id)) if client_id else None)
        return cls(kubeconfig=env.get(KUBECONFIG_SETTING, "").strip() or None, aks=aks, **kw)

    def contexts(self) -> list[str]:
        if self._contexts is None:
            names: list[str] = []
            if self.kubeconfig:
                import yaml
                with open(self.kubeconfig, "rb") as handle:
                    doc = yaml.safe_load(handle) or {}
                names = [c.get("name") for c in doc.get("contexts") or [] if isinstance(c, dict) and c.get("name")]
            self._contexts = names
        return list(self._contexts)

    def aliases(self) -> list[str]:
        return sorted(set(self.contexts()) | set(self.aks))

    def describe_sources(self) -> str:
        parts = []
        if self.kubeconfig:
            parts.append(f"{KUBECONFIG_SETTING} contexts: {', '.join(self.contexts()) or 'none'}")
        if self.aks:
            parts.append(f"{AKS_SETTING}: {', '.join(sorted(self.aks))}")
        return "; ".join(parts) or f"neither {KUBECONFIG_SETTING} nor {AKS_SETTING} is set"

    def get(self, alias: str | None) -> ClusterClient:
        alias = alias or DEFAULT_CLUSTER
        with self._lock:
            if alias in self._clients:
                return self._clients[alias]
            if alias in self.contexts():
                client = ClusterClient.from_kubeconfig(self.kubeconfig, alias)
            elif alias in self.aks:
                entry = self.aks[alias]
                if self._token is None:
                    self._token = BearerToken(self.credential_factory())
                client = ClusterClient.for_aks(alias, entry["server"], self._token,
                                               certificate_authority_data=entry.get("certificate_authority_data"))
            else:
                raise UnknownCluster(f"unknown cluster alias {alias!r} ({self.describe_sources()})")
            self._clients[alias] = client
            return client


def _default_credential(client_id: str | None = None):
    from azure.identity import DefaultAzureCredential
    return DefaultAzureCredential(**({"managed_identity_client_id": client_id} if client_id else {}))


_default: Clusters | None = None
_default_key: tuple | None = None
_default_lock = threading.Lock()


def default_clusters() -> Clusters:
    """The process-wide clusters for the current settings (rebuilt when they change)."""
    global _default, _default_key
    key = tuple(os.environ.get(name, "") for name in (KUBECONFIG_SETTING, AKS_SETTING, AKS_CLIENT_ID_SETTING))
    with _default_lock:
        if _default is None or _default_key != key:
            _default, _default_key = Clusters.from_env(), key
        return _default
