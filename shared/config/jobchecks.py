"""Per-job rules from Prow's `validateJobBase` and friends, on plain (already defaulted) values.

Each function returns problem messages; the caller adds the job and the file:line.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

__all__ = ["agent_problems", "annotation_problems", "clone_uri_problems", "job_name_problem",
           "label_problems", "merge_preset", "pod_spec_problems", "reserved_env", "KNOWN_AGENTS"]

KUBERNETES, JENKINS, TEKTON = "kubernetes", "jenkins", "tekton-pipeline"
KNOWN_AGENTS = (KUBERNETES, JENKINS, TEKTON)

_JOB_NAME = re.compile(r"[A-Za-z0-9\-._]+")
_JENKINS_JOB_NAME = re.compile(r"[A-Za-z0-9\-._](?:[A-Za-z0-9\-._/]*[A-Za-z0-9\-_])?")

# Labels Prow sets on every ProwJob and pod; a job may not set them itself.
_RESERVED_LABELS = ("prow.k8s.io/type", "created-by-prow", "prow.k8s.io/id")
GERRIT_REPORT_LABEL = "prow.k8s.io/gerrit-report-label"

# Environment variables of Prow's downward API, per job type.
_BASE_ENV = ("CI", "JOB_NAME", "JOB_SPEC", "JOB_TYPE", "PROW_JOB_ID", "BUILD_ID", "BUILD_NUMBER")
_REFS_ENV = ("REPO_OWNER", "REPO_NAME", "PULL_BASE_REF", "PULL_BASE_SHA", "PULL_REFS")
_PULL_ENV = ("PULL_NUMBER", "PULL_PULL_SHA", "PULL_HEAD_REF", "PULL_TITLE")

# Names the pod utilities use for their own containers, volumes and mounts.
_UTILITY_CONTAINERS = ("clonerefs", "initupload", "place-entrypoint", "sidecar")
_DECORATION_VOLUMES = ("logs", "code", "tools", "gcs-credentials", "s3-credentials")
_TEST_CONTAINER_MOUNTS = ("logs", "code", "tools")
_TEST_CONTAINER_MOUNT_PATHS = ("/logs", "/home/prow/go", "/tools")

_DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*")
_QUALIFIED_NAME = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def reserved_env(job_type: str) -> tuple[str, ...]:
    if job_type == "periodic":
        return _BASE_ENV
    if job_type in ("postsubmit", "batch"):
        return _BASE_ENV + _REFS_ENV
    if job_type == "presubmit":
        return _BASE_ENV + _REFS_ENV + _PULL_ENV
    return ()


def job_name_problem(name: str, agent: str) -> str | None:
    pattern = _JENKINS_JOB_NAME if agent == JENKINS else _JOB_NAME
    if pattern.fullmatch(name or ""):
        return None
    shown = "^[A-Za-z0-9-._]([A-Za-z0-9-._/]*[A-Za-z0-9-_])?$" if agent == JENKINS else "^[A-Za-z0-9-._]+$"
    return f"name {name!r} is invalid: job names must match {shown}"


def _qualified_name_problems(key: str) -> list[str]:
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["the prefix part must be non-empty"]
        if len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix):
            return ["the prefix part must be a lowercase DNS subdomain (at most 253 characters)"]
    else:
        return ["a qualified name must consist of a name and an optional DNS subdomain prefix, "
                "separated by '/'"]
    if not name:
        return ["the name part must be non-empty"]
    problems = []
    if len(name) > 63:
        problems.append("the name part must be no more than 63 characters")
    if not _QUALIFIED_NAME.fullmatch(name):
        problems.append("the name part must consist of alphanumeric characters, '-', '_' or '.', "
                        "and must start and end with an alphanumeric character")
    return problems


def _label_value_problems(value: str) -> list[str]:
    problems = []
    if len(value) > 63:
        problems.append("must be no more than 63 characters")
    if value and not _QUALIFIED_NAME.fullmatch(value):
        problems.append("must be empty or consist of alphanumeric characters, '-', '_' or '.', "
                        "and must start and end with an alphanumeric character")
    return problems


def label_problems(labels: Mapping[str, str]) -> list[str]:
    problems = []
    for key, value in labels.items():
        if key in _RESERVED_LABELS:
            problems.append(f"label {key} is reserved for decoration")
            continue
        for problem in _qualified_name_problems(key):
            problems.append(f"invalid label {key!r}: {problem}")
        for problem in _label_value_problems(value):
            problems.append(f"label {key} has invalid value {value!r}: {problem}")
    return problems


def annotation_problems(annotations: Mapping[str, str]) -> list[str]:
    return [f"invalid annotation key {key!r}: {problem}"
            for key in annotations for problem in _qualified_name_problems(key)]


def has_pipeline_run_spec(raw: Mapping) -> bool:
    tekton = raw.get("tekton_pipeline_run_spec")
    if isinstance(tekton, dict) and tekton.get("v1beta1") is not None:
        return True
    return raw.get("pipeline_run_spec") is not None


def agent_problems(agent: str, has_spec: bool, has_pipeline: bool, decoration: Any,
                   error_on_eviction: bool, namespace: str, pod_namespace: str) -> list[str]:
    """Prow's `validateAgent` (which stops at the first rule broken)."""
    if agent not in KNOWN_AGENTS:
        return []
    if has_spec and agent != KUBERNETES:
        return [f"job specs require agent: {KUBERNETES} (found {agent!r})"]
    if agent == KUBERNETES and not has_spec:
        return ["kubernetes jobs require a spec"]
    if has_pipeline and agent != TEKTON:
        return [f"job pipeline_run_spec require agent: {TEKTON} (found {agent!r})"]
    if agent == TEKTON and not has_pipeline:
        return [f"agent: {TEKTON} jobs require a pipeline_run_spec"]
    if decoration is not None and agent != KUBERNETES:
        return [f"decoration requires agent: {KUBERNETES} (found {agent!r})"]
    if error_on_eviction and agent != KUBERNETES:
        return [f"error_on_eviction only applies to agent: {KUBERNETES} (found {agent!r})"]
    if not namespace:
        return ["failed to default namespace"]
    if namespace != pod_namespace and agent != TEKTON:
        return [f"namespace customization requires agent: {TEKTON} (found {agent!r}); "
                f"namespace {namespace!r} differs from pod_namespace {pod_namespace!r}"]
    return []


def _names(items: Any) -> list[Any]:
    return [item.get("name") for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def pod_spec_problems(job_type: str, spec: Mapping, decoration: Mapping | None) -> list[str]:
    """Prow's `validatePodSpec` (reserved names, duplicates, container count)."""
    problems: list[str] = []
    if spec.get("initContainers"):
        problems.append("pod spec may not use init containers")
    containers = spec.get("containers")
    if containers is not None and not isinstance(containers, list):
        return problems + ["spec.containers must be a list"]
    containers = [c for c in containers or []]
    if any(not isinstance(c, dict) for c in containers):
        return problems + ["every entry of spec.containers must be a mapping"]
    if len(containers) < 1:
        return problems + [f"pod spec must specify at least 1 container, found: {len(containers)}"]
    if len(containers) > 1 and decoration is None:
        return problems + [f"pod utility decoration must be enabled to use multiple containers: {len(containers)}"]
    if len(containers) > 1:
        seen: set[Any] = set()
        for container in containers:
            name = container.get("name")
            if not name:
                problems.append("container does not have name. all containers must have names when "
                                "defining multiple containers")
            if name in seen:
                problems.append(f"container named {name!r} is defined more than once")
            seen.add(name)
            if name in _UTILITY_CONTAINERS:
                problems.append(f"container name {name} is a reserved for decoration. please specify a "
                                "different container name that does not conflict with pod utility "
                                "container names")
    reserved = reserved_env(job_type)
    for container in containers:
        env_names: set[Any] = set()
        for env_name in _names(container.get("env")):
            if env_name in env_names:
                problems.append(f"env var named {env_name!r} is defined more than once")
            env_names.add(env_name)
            if env_name in reserved:
                problems.append(f"env {env_name} is reserved")
    decorated_volumes = set(_DECORATION_VOLUMES)
    if decoration is not None:
        oauth = decoration.get("oauth_token_secret")
        if isinstance(oauth, dict) and oauth.get("name"):
            decorated_volumes.add(oauth["name"])
        for secret in decoration.get("ssh_key_secrets") or []:
            decorated_volumes.add(secret)
    volume_names: set[Any] = set()
    for volume_name in _names(spec.get("volumes")):
        if volume_name in volume_names:
            problems.append(f"volume named {volume_name!r} is defined more than once")
        volume_names.add(volume_name)
        if volume_name in decorated_volumes:
            problems.append(f"volume {volume_name} is a reserved for decoration")
    for container in containers:
        mounts = container.get("volumeMounts")
        for mount in mounts if isinstance(mounts, list) else []:
            if not isinstance(mount, dict):
                continue
            name = mount.get("name")
            if name not in volume_names and name not in decorated_volumes:
                problems.append(f"volumeMount named {name!r} is undefined")
            if name in _TEST_CONTAINER_MOUNTS:
                problems.append(f"volumeMount name {name} is reserved for decoration")
            if mount.get("mountPath") in _TEST_CONTAINER_MOUNT_PATHS:
                problems.append(f"mount {name} at {mount.get('mountPath')} conflicts with decoration mount")
    return problems


def decorated_container_problems(spec: Mapping) -> list[str]:
    """Decorated containers need a command to wrap (`command` and/or `args`, first one non-empty)."""
    problems = []
    for index, container in enumerate(spec.get("containers") or []):
        if not isinstance(container, dict):
            continue
        args = list(container.get("command") or []) + list(container.get("args") or [])
        if not args or args[0] == "":
            name = container.get("name") or f"#{index + 1}"
            problems.append(f"decorated job containers must specify command and/or args (container {name})")
    return problems


def _list_field(mapping: dict, key: str) -> list:
    value = mapping.get(key)
    if not isinstance(value, list):
        value = mapping[key] = []
    return value


def merge_preset(preset_labels: Mapping[str, str], env: list, volumes: list, volume_mounts: list,
                 labels: Mapping[str, str], spec: dict) -> str | None:
    """Apply one preset to a job's pod spec (in place) if all its labels match, as Prow does."""
    for key, value in preset_labels.items():
        if labels.get(key) != value:
            return None
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    for variable in env:
        for container in containers:
            current = _list_field(container, "env")
            if any(isinstance(e, dict) and e.get("name") == variable.get("name") for e in current):
                return f"env var duplicated in pod spec: {variable.get('name')}"
            current.append(dict(variable))
    if volumes:
        current_volumes = _list_field(spec, "volumes")
        for volume in volumes:
            if any(isinstance(v, dict) and v.get("name") == volume.get("name") for v in current_volumes):
                return f"volume duplicated in pod spec: {volume.get('name')}"
            current_volumes.append(dict(volume))
    for mount in volume_mounts:
        for container in containers:
            current = _list_field(container, "volumeMounts")
            if any(isinstance(m, dict) and m.get("name") == mount.get("name") for m in current):
                return f"volume mount duplicated in pod spec: {mount.get('name')}"
            current.append(dict(mount))
    return None


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _url_parse_problem(uri: str) -> str | None:
    """The errors Go's url.Parse reports for clone URIs."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        return "invalid control character in URL"
    if re.search(r"%(?![0-9A-Fa-f]{2})", uri):
        return "invalid URL escape"
    if uri.startswith(":"):
        return "missing protocol scheme"
    if not _SCHEME.match(uri):
        first_segment = uri.split("/", 1)[0]
        if ":" in first_segment:
            return "first path segment in URL cannot contain colon"
    return None


def _scheme(uri: str) -> str:
    match = _SCHEME.match(uri)
    return match.group(0)[:-1].lower() if match else ""


def clone_uri_problems(clone_uri: str, extra_refs: list, oauth_configured: bool) -> list[str]:
    """Prow's `UtilityConfig.Validate`: clone URIs must parse; OAuth needs http(s)."""
    problems = []

    def check(uri: str, label: str) -> None:
        trimmed = uri[uri.find("@") + 1:]
        if not clone_uri:   # Prow only looks at URIs when the job's own clone_uri is set
            return
        problem = _url_parse_problem(trimmed)
        if problem:
            problems.append(f"{label}couldn't parse uri from clone_uri: {problem}")
            return
        if oauth_configured and _scheme(trimmed) not in ("http", "https"):
            problems.append(f"{label}scheme must be http or https when OAuth secret is specified: {trimmed}")

    check(clone_uri, "")
    for index, ref in enumerate(extra_refs):
        if isinstance(ref, dict) and isinstance(ref.get("clone_uri"), str):
            check(ref["clone_uri"], f"extra_ref[{index}]: ")
    return problems
