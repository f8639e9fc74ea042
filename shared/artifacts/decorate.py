"""Decoration of a job's pod (plank's `decorate`), plugged into `shared.kube.pods.pod_for_job`.

As in Prow: `clonerefs` (Prow's image, when there is something to clone) → the job's own init
containers → `initupload` → `place-entrypoint` (Prow's entrypoint image copying itself into
/tools); every test container runs `/tools/entrypoint` with its command in `ENTRYPOINT_OPTIONS`
(timeout, grace period, process log, marker file); `sidecar` last. Volumes `logs`, `tools`, `code`,
`clonerefs-tmp`, the clone secrets; `ARTIFACTS`, `GOPATH` and the downward-API env on the test
containers; working dir, memory, security context and scheduling defaults; the pod's grace period
5/4 of the decoration grace period.

Different from Prow, on purpose:
- `initupload` and `sidecar` are our images (images/), which write to Azure Blob. Their options
  keep Prow's env names and shape (`INITUPLOAD_OPTIONS`, `SIDECAR_OPTIONS`, `JOB_SPEC`) plus
  `PROW_ARTIFACTS_ACCOUNT_URL` and the container.
- `gcs_credentials_secret` / `s3_credentials_secret` are never mounted (checkconfig says so).
  Storage access is either workload identity — a projected service-account token with the Entra
  audience, mounted into initupload and sidecar only, with the env the azure-identity client reads
  (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_AUTHORITY_HOST`) — or
  a short-lived user-delegation SAS for the container in `PROW_ARTIFACTS_SAS` on those two
  containers. The test container gets neither, and no account key is ever in the pod.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Mapping

from shared.kube.pods import PodSpecMissing, _kube_env

from .paths import split_bucket

LOG_MOUNT = {"name": "logs", "mountPath": "/logs"}
CODE_MOUNT = {"name": "code", "mountPath": "/home/prow/go"}
TOOLS_MOUNT = {"name": "tools", "mountPath": "/tools"}
CLONEREFS_TMP_MOUNT = {"name": "clonerefs-tmp", "mountPath": "/tmp"}
ARTIFACTS_DIR = "/logs/artifacts"
CLONE_LOG = "/logs/clone.json"
GITHUB_API = "https://api.github.com"
GIT_USER_NAME, GIT_USER_EMAIL = "ci-robot", "ci-robot@k8s.io"
DEFAULT_TIMEOUT = timedelta(hours=2)
DEFAULT_GRACE_PERIOD = timedelta(seconds=15)

IDENTITY_VOLUME = "azure-identity-token"
IDENTITY_DIR = "/var/run/secrets/azure/tokens"
IDENTITY_AUDIENCE = "api://AzureADTokenExchange"
AUTHORITY_HOST = "https://login.microsoftonline.com/"

WORKLOAD_IDENTITY, SAS = "workload-identity", "sas"
ACCOUNT_URL_ENV, CONTAINER_ENV, SAS_ENV = "PROW_ARTIFACTS_ACCOUNT_URL", "PROW_ARTIFACTS_CONTAINER", "PROW_ARTIFACTS_SAS"


class DecorationError(PodSpecMissing):
    """A decorated job whose pod cannot be built (missing images, storage, identity): the launcher
    ends the job in `error` with this text, as plank does for a pod it cannot build."""


@dataclass(frozen=True)
class StorageAccess:
    """How the pod's uploaders reach the app's storage (app settings `PROW_ARTIFACTS_*`)."""
    account_url: str
    mode: str = WORKLOAD_IDENTITY
    client_id: str = ""
    tenant_id: str = ""
    service_account: str = ""
    # sas mode: (container, lifetime) -> a SAS token with create/write/read on that container
    sas_for: Callable[[str, timedelta], str] | None = field(default=None, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, sas_for=None) -> "StorageAccess":
        env = os.environ if env is None else env
        mode = env.get("PROW_ARTIFACTS_AUTH", "").strip() or WORKLOAD_IDENTITY
        if mode not in (WORKLOAD_IDENTITY, SAS):
            raise DecorationError(f"PROW_ARTIFACTS_AUTH {mode!r} must be {WORKLOAD_IDENTITY!r} or {SAS!r}")
        return cls(account_url=env.get("PROW_ARTIFACTS_ACCOUNT_URL", "").strip() or blob_account_url(env),
                   mode=mode, client_id=env.get("PROW_ARTIFACTS_CLIENT_ID", "").strip(),
                   tenant_id=env.get("PROW_ARTIFACTS_TENANT_ID", "").strip(),
                   service_account=env.get("PROW_ARTIFACTS_SERVICE_ACCOUNT", "").strip(), sas_for=sas_for)


def blob_account_url(env: Mapping[str, str]) -> str:
    """The app storage's blob endpoint, from `PROW_STORAGE` (connection string or identity form)."""
    conn = env.get("PROW_STORAGE", "").strip()
    if conn:
        parts = dict(p.split("=", 1) for p in conn.split(";") if "=" in p)
        if parts.get("BlobEndpoint"):
            return parts["BlobEndpoint"].rstrip("/")
        if parts.get("AccountName"):
            suffix = parts.get("EndpointSuffix", "core.windows.net")
            return f"{parts.get('DefaultEndpointsProtocol', 'https')}://{parts['AccountName']}.blob.{suffix}"
    uri = env.get("PROW_STORAGE__blobServiceUri", "").strip()
    if uri:
        return uri.rstrip("/")
    account = env.get("PROW_STORAGE__accountName", "").strip()
    return f"https://{account}.blob.core.windows.net" if account else ""


def user_delegation_sas(blob_service: Any) -> Callable[[str, timedelta], str]:
    """A `sas_for` that signs with a user-delegation key of the app's identity (no account key)."""
    def sas_for(container: str, lifetime: timedelta) -> str:
        from datetime import datetime, timezone
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas
        start = datetime.now(timezone.utc) - timedelta(minutes=5)
        expiry = start + lifetime + timedelta(minutes=5)
        key = blob_service.get_user_delegation_key(start, expiry)
        return generate_container_sas(blob_service.account_name, container, user_delegation_key=key,
                                      permission=ContainerSasPermissions(read=True, add=True, create=True,
                                                                         write=True, list=True),
                                      start=start, expiry=expiry)
    return sas_for


def default_decorator(clients: Any = None) -> "Decorator":
    """The decorator for the current app settings; `sas` mode signs with the app's identity."""
    env = os.environ
    if clients is None:
        from shared.storage import default_clients
        clients = default_clients()
    sas_for = user_delegation_sas(clients.blob()) if env.get("PROW_ARTIFACTS_AUTH", "").strip() == SAS else None
    ensured: set[str] = set()

    def ensure_container(name: str) -> None:
        """The app creates the job's container before its pod exists (the pods' access cannot)."""
        if name not in ensured:
            from azure.core.exceptions import ResourceExistsError
            try:
                clients.blob().create_container(name)
            except ResourceExistsError:
                pass
            ensured.add(name)

    return Decorator(StorageAccess.from_env(env, sas_for=sas_for), ensure_container=ensure_container)


def _duration(value: Any, default: timedelta) -> timedelta:
    from shared.config.durations import parse_prow_duration
    if value is None or value == "":
        return default
    return parse_prow_duration(value)


def _ns(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def path_for_refs(refs: Mapping[str, Any]) -> str:
    alias = refs.get("path_alias") or f"github.com/{refs.get('org', '')}/{refs.get('repo', '')}"
    return f"{CODE_MOUNT['mountPath']}/src/{alias}"


def _clonerefs(dc: Mapping[str, Any], refs: list[dict]) -> tuple[dict, list[dict]]:
    mounts, volumes, key_files = [], [], []
    for secret in dc.get("ssh_key_secrets") or []:
        name = f"ssh-keys-{secret}"
        volumes.append({"name": name, "secret": {"secretName": secret, "defaultMode": 0o400}})
        mounts.append({"name": name, "mountPath": f"/secrets/ssh/{secret}", "readOnly": True})
        key_files.append(f"/secrets/ssh/{secret}")
    options: dict[str, Any] = {"src_root": CODE_MOUNT["mountPath"], "log": CLONE_LOG,
                               "git_user_name": GIT_USER_NAME, "git_user_email": GIT_USER_EMAIL, "refs": refs}
    if key_files:
        options["key_files"] = key_files
    oauth = dc.get("oauth_token_secret")
    if oauth:
        volumes.append({"name": oauth["name"], "secret": {"secretName": oauth["name"],
                                                           "items": [{"key": oauth["key"], "path": f"./{oauth['key']}"}]}})
        mounts.append({"name": oauth["name"], "mountPath": "/secrets/oauth", "readOnly": True})
        options["oauth_token_file"] = f"/secrets/oauth/{oauth['key']}"
    if dc.get("ssh_host_fingerprints"):
        options["host_fingerprints"] = list(dc["ssh_host_fingerprints"])
    app_key = dc.get("github_app_private_key_secret")
    if app_key:
        volumes.append({"name": app_key["name"], "secret": {"secretName": app_key["name"],
                                                             "items": [{"key": app_key["key"], "path": f"./{app_key['key']}"}]}})
        mounts.append({"name": app_key["name"], "mountPath": "/secrets/github-app", "readOnly": True})
    mounts.append(dict(CLONEREFS_TMP_MOUNT))
    volumes.append({"name": CLONEREFS_TMP_MOUNT["name"], "emptyDir": {}})
    args: list[str] = []
    cookie = dc.get("cookiefile_secret")
    if cookie:
        secret, _, base = cookie.partition("/")
        volumes.append({"name": "cookiefile", "secret": {"secretName": secret, "defaultMode": 0o400}})
        mounts.append({"name": "cookiefile", "mountPath": "/secrets/cookiefile", "readOnly": True})
        options["cookie_path"] = f"/secrets/cookiefile/{base or secret}"
        args.append("--cookiefile=" + options["cookie_path"])
    options["github_api_endpoints"] = list(dc.get("github_api_endpoints") or [GITHUB_API])
    if dc.get("github_app_id"):
        options["github_app_id"] = dc["github_app_id"]
    if app_key:
        options["github_app_private_key_file"] = f"/secrets/github-app/{app_key['key']}"
    container = {"name": "clonerefs", "image": dc["utility_images"]["clonerefs"],
                 "env": _kube_env({"CLONEREFS_OPTIONS": _compact(options)}),
                 "volumeMounts": [dict(LOG_MOUNT), dict(CODE_MOUNT)] + mounts}
    if args:
        container["args"] = args
    _resources(container, dc, "clonerefs")
    return container, volumes


def _resources(container: dict, dc: Mapping[str, Any], key: str) -> None:
    resources = (dc.get("resources") or {}).get(key)
    if resources:
        container["resources"] = json.loads(json.dumps(resources))


def _wrapper(container: dict, prefix: str) -> dict[str, Any]:
    logs = LOG_MOUNT["mountPath"]
    return {"args": list(container.get("command") or []) + list(container.get("args") or []),
            "container_name": container.get("name", ""),
            "process_log": f"{logs}/{prefix}-log.txt" if prefix else f"{logs}/process-log.txt",
            "marker_file": f"{logs}/{prefix}-marker.txt" if prefix else f"{logs}/marker-file.txt",
            "metadata_file": (f"{ARTIFACTS_DIR}/{prefix}-metadata.json" if prefix
                              else f"{ARTIFACTS_DIR}/metadata.json")}


class Decorator:
    """`Decorator(access)(pod_spec, job, env)`: the pod builder's `decorate` seam."""

    def __init__(self, access: StorageAccess, *, ensure_container: Callable[[str], None] | None = None):
        self.access = access
        self.ensure_container = ensure_container

    def __call__(self, spec: dict, job: Any, env: dict[str, str]) -> None:
        dc = job.spec.get("decoration_config")
        if not dc:
            for container in spec.get("containers") or []:
                container["env"] = list(container.get("env") or []) + _kube_env(env)
            return
        decorate_pod(spec, job.spec, dc, env, self.access)
        bucket = (dc.get("gcs_configuration") or {}).get("bucket")
        if self.ensure_container is not None and bucket:
            self.ensure_container(split_bucket(bucket)[1])


def _storage_env_and_mounts(spec: dict, dc: Mapping[str, Any], container: str, access: StorageAccess,
                            lifetime: timedelta) -> tuple[dict[str, str], list[dict]]:
    if not access.account_url:
        raise DecorationError("the pod's uploaders need the storage account: set PROW_ARTIFACTS_ACCOUNT_URL "
                              "or PROW_STORAGE")
    env = {ACCOUNT_URL_ENV: access.account_url, CONTAINER_ENV: container}
    if access.mode == SAS:
        if access.sas_for is None:
            raise DecorationError("PROW_ARTIFACTS_AUTH is 'sas' but no user-delegation SAS can be made")
        env[SAS_ENV] = access.sas_for(container, lifetime)
        return env, []
    if not access.client_id:
        raise DecorationError("workload identity needs PROW_ARTIFACTS_CLIENT_ID (the identity the "
                              "pod's service account is federated with)")
    if not spec.get("serviceAccountName"):
        account = access.service_account or dc.get("default_service_account_name") or ""
        if account:
            spec["serviceAccountName"] = account
    env.update({"AZURE_CLIENT_ID": access.client_id, "AZURE_AUTHORITY_HOST": AUTHORITY_HOST,
                "AZURE_FEDERATED_TOKEN_FILE": f"{IDENTITY_DIR}/{IDENTITY_VOLUME}"})
    if access.tenant_id:
        env["AZURE_TENANT_ID"] = access.tenant_id
    volume = {"name": IDENTITY_VOLUME, "projected": {"sources": [{"serviceAccountToken": {
        "audience": IDENTITY_AUDIENCE, "expirationSeconds": 3600, "path": IDENTITY_VOLUME}}]}}
    spec.setdefault("volumes", []).append(volume)
    return env, [{"name": IDENTITY_VOLUME, "mountPath": IDENTITY_DIR, "readOnly": True}]


def decorate_pod(spec: dict, job_spec: Mapping[str, Any], dc: Mapping[str, Any], raw_env: dict[str, str],
                 access: StorageAccess) -> None:
    images = dc.get("utility_images") or {}
    missing = [name for name in ("clonerefs", "initupload", "entrypoint", "sidecar") if not images.get(name)]
    if missing:
        raise DecorationError("the following utility images are not specified: " + ", ".join(missing))
    gcs = dict(dc.get("gcs_configuration") or {})
    if not gcs.get("bucket"):
        raise DecorationError("gcs_configuration.bucket is not set: artifacts need a storage container")
    timeout = _duration(dc.get("timeout"), DEFAULT_TIMEOUT)
    grace = _duration(dc.get("grace_period"), DEFAULT_GRACE_PERIOD)

    raw_env = {**raw_env, "ARTIFACTS": ARTIFACTS_DIR, "GOPATH": CODE_MOUNT["mountPath"]}
    job_spec_env = raw_env["JOB_SPEC"]
    refs = ([dict(job_spec["refs"])] if job_spec.get("refs") else []) + [dict(r) for r in job_spec.get("extra_refs") or []]
    cloning = bool(refs) and not dc.get("skip_cloning")

    clone_volumes: list[dict] = []
    if cloning:
        cloner, clone_volumes = _clonerefs(dc, refs)
        spec["initContainers"] = [cloner] + list(spec.get("initContainers") or [])

    container_name = split_bucket(gcs["bucket"])[1]
    storage_env, storage_mounts = _storage_env_and_mounts(spec, dc, container_name, access,
                                                          timeout + grace + timedelta(hours=1))

    initupload_options = {**gcs, "log": CLONE_LOG} if cloning else dict(gcs)
    initupload = {"name": "initupload", "image": images["initupload"],
                  "env": _kube_env({"JOB_SPEC": job_spec_env, "INITUPLOAD_OPTIONS": _compact(initupload_options),
                                    **storage_env}),
                  "volumeMounts": ([dict(LOG_MOUNT)] if cloning else []) + storage_mounts}
    _resources(initupload, dc, "initupload")
    place = {"name": "place-entrypoint", "image": images["entrypoint"], "args": ["--copy-mode-only"],
             "volumeMounts": [dict(TOOLS_MOUNT)]}
    _resources(place, dc, "place_entrypoint")
    spec["initContainers"] = list(spec.get("initContainers") or []) + [initupload, place]

    containers = spec.get("containers") or []
    wrappers = []
    for container in containers:
        container["env"] = list(container.get("env") or []) + _kube_env(raw_env)
    for container in containers:
        wrapper = _wrapper(container, "" if len(containers) == 1 else container.get("name", ""))
        options = {"timeout": _ns(timeout), "grace_period": _ns(grace), "artifact_dir": ARTIFACTS_DIR, **wrapper}
        container["command"] = [f"{TOOLS_MOUNT['mountPath']}/entrypoint"]
        container.pop("args", None)
        container["env"] = container["env"] + _kube_env({"ENTRYPOINT_OPTIONS": _compact(options)})
        container["volumeMounts"] = list(container.get("volumeMounts") or []) + [dict(LOG_MOUNT), dict(TOOLS_MOUNT)]
        wrappers.append(wrapper)

    sidecar_options: dict[str, Any] = {"gcs_options": {**gcs, "items": [ARTIFACTS_DIR]}, "entries": wrappers}
    if dc.get("upload_ignores_interrupts"):
        sidecar_options["ignore_interrupts"] = True
    sidecar = {"name": "sidecar", "image": images["sidecar"],
               "env": _kube_env({"JOB_SPEC": job_spec_env, "SIDECAR_OPTIONS": _compact(sidecar_options),
                                 **storage_env}),
               "volumeMounts": [dict(LOG_MOUNT)] + storage_mounts,
               "terminationMessagePolicy": "FallbackToLogsOnError"}
    _resources(sidecar, dc, "sidecar")

    spec["volumes"] = list(spec.get("volumes") or []) + [{"name": "logs", "emptyDir": {}},
                                                         {"name": "tools", "emptyDir": {}}]
    if cloning:
        workdir = next((r for r in refs if r.get("workdir")), refs[0])
        for container in containers:
            container["workingDir"] = path_for_refs(workdir)
            container["volumeMounts"].append(dict(CODE_MOUNT))
        spec["volumes"] += clone_volumes + [{"name": "code", "emptyDir": {}}]

    memory = dc.get("default_memory_request")
    if memory is not None:
        for container in containers:
            requests = container.setdefault("resources", {}).setdefault("requests", {})
            requests.setdefault("memory", memory)
    security = spec.setdefault("securityContext", {})
    for key, field_name in (("run_as_user", "runAsUser"), ("run_as_group", "runAsGroup"), ("fs_group", "fsGroup")):
        if dc.get(key) is not None and security.get(field_name) is None:
            security[field_name] = dc[key]
    scheduling = dc.get("scheduling_options") or {}
    if scheduling.get("affinity") is not None and spec.get("affinity") is None:
        spec["affinity"] = scheduling["affinity"]
    if scheduling.get("tolerations") is not None and spec.get("tolerations") is None:
        spec["tolerations"] = scheduling["tolerations"]
    if dc.get("set_limit_equals_memory_request"):
        for container in containers:
            requested = (container.get("resources") or {}).get("requests", {}).get("memory")
            if requested is not None:
                container["resources"].setdefault("limits", {})["memory"] = requested

    spec["containers"] = containers + [sidecar]
    if spec.get("terminationGracePeriodSeconds") is None and dc.get("grace_period") is not None:
        spec["terminationGracePeriodSeconds"] = int(grace.total_seconds()) * 5 // 4
    if not spec.get("serviceAccountName") and dc.get("default_service_account_name"):
        spec["serviceAccountName"] = dc["default_service_account_name"]
