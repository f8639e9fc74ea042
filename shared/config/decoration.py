"""Decoration config: plank's defaults, Prow's field-by-field merge, validation, storage names.

A decorated job's effective `decoration_config` is built as Prow's
`Plank.mergeDefaultDecorationConfig` does: every entry of `plank.default_decoration_config_entries`
(or of the older map `plank.default_decoration_configs`, taken as `*`, then orgs, then repos) that
matches the job's repo and cluster is merged in order, a later entry winning field by field, and
the job's own `decoration_config` is merged on top. "Field by field" follows
`DecorationConfig.ApplyDefault`: nested structs (`utility_images`, `resources`,
`gcs_configuration`, `censoring_options`, `scheduling_options`) merge per field too.

Configs are plain dicts here (YAML mappings converted); "unset" means absent or null, except for
the string fields Go treats as unset when empty and the lists Go treats as unset when empty.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .durations import parse_duration, parse_prow_duration
from .errors import Diagnostics
from .yamlnodes import YList, YMap

__all__ = ["DecorationDefault", "CredentialSecret", "apply_default", "container_name_problem", "entry_matches",
           "plain", "read_decoration_defaults", "resolve_decoration", "storage_location",
           "suggest_container_name", "validate_decoration", "check_decoration_fields"]

UTILITY_IMAGES = ("clonerefs", "initupload", "entrypoint", "sidecar")
_RESOURCE_FIELDS = ("clonerefs", "initupload", "place_entrypoint", "sidecar")
_GCS_STRING_FIELDS = ("bucket", "path_prefix", "path_strategy", "default_org", "default_repo",
                      "job_url_prefix", "local_output_dir")
_EMPTY_MEANS_UNSET = {"github_app_id"}                       # Go string fields
_EMPTY_LIST_MEANS_UNSET = {"ssh_key_secrets", "ssh_host_fingerprints", "github_api_endpoints"}
PATH_STRATEGIES = ("legacy", "single", "explicit")
CREDENTIAL_SECRET_KEYS = ("gcs_credentials_secret", "s3_credentials_secret")


def plain(value: Any) -> Any:
    """A deep copy with YMap/YList (and any dict/list) turned into plain dicts and lists."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {key: item if isinstance(item, str) else plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [item if isinstance(item, str) else plain(item) for item in value]
    return value


def _unset(value: Any) -> bool:
    return value is None


def _merge_fields(job: dict | None, default: dict | None, fields: Iterable[str],
                  empty_unset: bool) -> dict | None:
    if job is None:
        return plain(default) if default is not None else None
    if default is None:
        return plain(job)
    merged = plain(job)
    for key in fields:
        value = merged.get(key)
        if value is None or (empty_unset and value == ""):
            if default.get(key) is not None:
                merged[key] = plain(default[key])
    return merged


def _merge_gcs(job: dict | None, default: dict | None) -> dict | None:
    if job is None or default is None:
        return _merge_fields(job, default, (), False)
    merged = _merge_fields(job, default, _GCS_STRING_FIELDS, True)
    default_types = default.get("mediaTypes") or {}
    if isinstance(default_types, dict) and default_types:
        # As in Prow, the default's media types are laid over the job's.
        media = dict(merged.get("mediaTypes") or {})
        media.update(default_types)
        merged["mediaTypes"] = media
    if merged.get("compress_file_types") is None and default.get("compress_file_types") is not None:
        merged["compress_file_types"] = plain(default["compress_file_types"])
    return merged


_NESTED = {
    "utility_images": lambda j, d: _merge_fields(j, d, UTILITY_IMAGES, True),
    "resources": lambda j, d: _merge_fields(j, d, _RESOURCE_FIELDS, False),
    "gcs_configuration": _merge_gcs,
    "censoring_options": lambda j, d: _merge_fields(
        j, d, ("censoring_concurrency", "censoring_buffer_size", "include_directories",
               "exclude_directories"), False),
    "scheduling_options": lambda j, d: _merge_fields(j, d, ("affinity", "tolerations"), False),
}


def apply_default(config: Mapping | None, default: Mapping | None) -> dict | None:
    """Prow's `DecorationConfig.ApplyDefault`: fields unset in `config` come from `default`."""
    if config is None and default is None:
        return None
    if config is None or default is None:
        return plain(config if config is not None else default)
    merged = plain(config)
    for key, merge in _NESTED.items():
        job_part = merged.get(key)
        default_part = default.get(key)
        value = merge(job_part if isinstance(job_part, dict) else None,
                      default_part if isinstance(default_part, dict) else None)
        if value is not None:
            merged[key] = value
    for key, default_value in default.items():
        if key in _NESTED or default_value is None:
            continue
        current = merged.get(key)
        if key in _EMPTY_MEANS_UNSET:
            missing = current is None or current == ""
        elif key in _EMPTY_LIST_MEANS_UNSET:
            missing = not current
        else:
            missing = current is None
        if missing:
            merged[key] = plain(default_value)
    return merged


@dataclass(frozen=True)
class DecorationDefault:
    """One default decoration config and the jobs it applies to."""
    repo: str            # "", "*", "org" or "org/repo"
    cluster: str         # "", "*" or a cluster alias
    config: dict | None
    file: str
    line: int | None
    raw: Any = field(default=None, compare=False, repr=False)   # the config as written (YMap)

    def matches(self, repo: str, cluster: str) -> bool:
        return entry_matches(self.repo, self.cluster, repo, cluster)


def entry_matches(entry_repo: str, entry_cluster: str, repo: str, cluster: str) -> bool:
    """Prow's matching of a defaults entry (decoration, prowjob defaults) against a job: the
    cluster filter, then `*`/empty, `org` or `org/repo` against the job's repo."""
    if entry_cluster not in ("", "*") and entry_cluster != cluster:
        return False
    if entry_repo in ("", "*") or entry_repo == repo:
        return True
    for prefix in ("https://", "http://"):
        if repo.startswith(prefix):
            repo = repo[len(prefix):]
    return entry_repo == repo or entry_repo == repo.split("/")[0]


@dataclass(frozen=True)
class CredentialSecret:
    """A `gcs_credentials_secret` / `s3_credentials_secret` that this app does not use."""
    file: str
    line: int | None
    key: str
    value: Any


def read_decoration_defaults(plank: Any, file: str, diags: Diagnostics) -> list[DecorationDefault]:
    """The default decoration entries from config.yaml's `plank:` section, in merge order."""
    if not isinstance(plank, dict):
        return []
    mapped = plank.get("default_decoration_configs")
    sliced = plank.get("default_decoration_config_entries")
    line_of = plank.line_of if isinstance(plank, YMap) else (lambda key: None)
    if mapped and sliced:
        diags.error(file, line_of("default_decoration_config_entries"),
                    "plank.default_decoration_configs and plank.default_decoration_config_entries "
                    "are mutually exclusive, please use one or the other "
                    f"(default_decoration_configs is at line {line_of('default_decoration_configs')})")
        return []
    entries: list[DecorationDefault] = []
    if mapped:
        if not isinstance(mapped, dict):
            diags.error(file, line_of("default_decoration_configs"),
                        "plank.default_decoration_configs must be a mapping of '*', org or org/repo "
                        "to a decoration config")
            return []
        keys = [str(k) for k in mapped]
        ordered = ([k for k in keys if k == "*"] + [k for k in keys if k != "*" and "/" not in k]
                   + [k for k in keys if k != "*" and "/" in k])
        for key in ordered:
            config = mapped.get(key)
            line = mapped.line_of(key) if isinstance(mapped, YMap) else None
            if config is not None and not isinstance(config, dict):
                diags.error(file, line, f"plank.default_decoration_configs[{key!r}] must be a mapping")
                continue
            entries.append(DecorationDefault(key, "", plain(config) if config is not None else None,
                                             file, line, config))
    elif sliced:
        if not isinstance(sliced, list):
            diags.error(file, line_of("default_decoration_config_entries"),
                        "plank.default_decoration_config_entries must be a list of {repo, cluster, config}")
            return []
        for index, item in enumerate(sliced):
            line = sliced.line_of(index) if isinstance(sliced, YList) else None
            if not isinstance(item, dict):
                diags.error(file, line, f"plank.default_decoration_config_entries[{index}] must be a mapping")
                continue
            repo, cluster, config = item.get("repo"), item.get("cluster"), item.get("config")
            problem = None
            if repo is not None and not isinstance(repo, str):
                problem = "repo must be a string"
            elif cluster is not None and not isinstance(cluster, str):
                problem = "cluster must be a string"
            elif config is not None and not isinstance(config, dict):
                problem = "config must be a mapping"
            if problem:
                diags.error(file, line, f"plank.default_decoration_config_entries[{index}]: {problem}")
                continue
            entries.append(DecorationDefault(repo or "", cluster or "",
                                             plain(config) if config is not None else None, file, line,
                                             config))
    return entries


def resolve_decoration(defaults: Iterable[DecorationDefault], repo: str, cluster: str,
                       job_config: Mapping | None) -> dict:
    """The decoration config in effect for a decorated job (never None, as in Prow)."""
    merged: dict | None = None
    for entry in defaults:
        if entry.matches(repo, cluster):
            merged = apply_default(entry.config, merged)
    merged = apply_default(job_config, merged)
    return merged if merged is not None else {}


# -- storage names ---------------------------------------------------------------------------------

def storage_location(bucket: str) -> tuple[str, str, str]:
    """(provider, container, path) of a Prow bucket: `gs://x/p`, `s3://x` or bare `x` (= gs)."""
    provider, sep, rest = bucket.partition("://")
    if not sep:
        provider, rest = "gs", bucket
    container, _, path = rest.partition("/")
    return provider, container, path


_CONTAINER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")


def container_name_problem(name: str) -> str | None:
    """Why Azure Blob storage would reject `name` as a container name, or None if it is valid."""
    if _CONTAINER_NAME.fullmatch(name):
        return None
    reasons = []
    if not 3 <= len(name) <= 63:
        reasons.append(f"is {len(name)} characters long")
    if any(c.isupper() for c in name):
        reasons.append("has capital letters")
    for char, what in (("_", "underscores"), (".", "dots")):
        if char in name:
            reasons.append(f"has {what}")
    others = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "-_."))})
    if others:
        reasons.append("has the characters " + " ".join(repr(c) for c in others))
    if name[:1] == "-" or name[-1:] == "-":
        reasons.append("starts or ends with a hyphen")
    if "--" in name:
        reasons.append("has consecutive hyphens")
    return ", ".join(reasons) or "is not a valid name"


def suggest_container_name(name: str) -> str:
    """A valid Azure container name close to `name`."""
    candidate = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    candidate = candidate[:63].rstrip("-")
    if len(candidate) < 3:
        candidate = f"{candidate}-logs" if candidate else "prow-logs"
    return candidate


def _bucket_problem(bucket: Any) -> str | None:
    if not isinstance(bucket, str):
        return "must be a string"
    if not bucket:
        return None
    provider, container, _ = storage_location(bucket)
    if provider not in ("gs", "s3"):
        return (f"storage provider {provider!r} is not supported; use gs://<name>, s3://<name> or a "
                "bare <name>, which all mean the Azure Blob container <name>")
    problem = container_name_problem(container)
    if problem is None:
        return None
    return (f"{bucket!r} maps to Azure Blob container {container!r}, which Azure rejects: the name "
            f"{problem}. Container names are 3-63 characters of lowercase letters, digits and single "
            f"hyphens, starting and ending with a letter or digit; use {suggest_container_name(container)!r} "
            "instead (and create that container)")


# -- validation ------------------------------------------------------------------------------------

_MEDIA_TYPE = re.compile(
    r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+"
    r"(\s*;\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+=(\"[^\"]*\"|[!#$%&'*+.^_`|~0-9A-Za-z-]+))*\s*;?\s*")


def validate_decoration(config: Mapping) -> list[str]:
    """Prow's `DecorationConfig.Validate` on an effective config, plus our storage rule."""
    problems: list[str] = []
    images = config.get("utility_images")
    if not isinstance(images, dict):
        problems.append("utility image config is not specified")
    else:
        missing = [name for name in UTILITY_IMAGES if not images.get(name)]
        if missing:
            problems.append("the following utility images are not specified: " + ", ".join(missing))
    gcs = config.get("gcs_configuration")
    if not isinstance(gcs, dict):
        problems.append("GCS upload configuration (gcs_configuration) is not specified")
    else:
        bucket = gcs.get("bucket")
        if not bucket:
            problems.append("gcs_configuration.bucket is not set: artifacts need a storage container")
        media = gcs.get("mediaTypes") or {}
        if isinstance(media, dict):
            for extension, media_type in media.items():
                if not isinstance(media_type, str) or not _MEDIA_TYPE.fullmatch(media_type):
                    problems.append(f"gcs_configuration.mediaTypes[{extension!r}]: invalid media type {media_type!r}")
        strategy = gcs.get("path_strategy") or ""
        if strategy not in PATH_STRATEGIES:
            problems.append(f"gcs_configuration.path_strategy {strategy!r} must be one of "
                            "'legacy', 'explicit' or 'single'")
        elif strategy != "explicit" and not (gcs.get("default_org") and gcs.get("default_repo")):
            problems.append(f"gcs_configuration.default_org and default_repo must be set for "
                            f"path_strategy {strategy!r}")
    if config.get("oauth_token_secret") is not None and config.get("ssh_key_secrets"):
        problems.append("both oauth_token_secret and ssh_key_secrets are specified")
    return problems


_PROW_DURATIONS = ("timeout", "grace_period")
_STRING_DURATIONS = ("pod_pending_timeout", "pod_running_timeout", "pod_unscheduled_timeout")


def check_decoration_fields(raw: Any, where: str, diags: Diagnostics,
                            seen: set[tuple[str, int | None, str]],
                            credentials: list[CredentialSecret]) -> None:
    """Checks on one place a decoration config is written (a job's or a default entry's).

    Reported once per place, however many jobs use it: durations that Prow could not parse, a
    bucket that is no valid Azure container name. Credential secret settings, which this app
    ignores, are collected into `credentials`.
    """
    if not isinstance(raw, YMap):
        return
    file = raw.file

    def report(key_map: YMap, key: str, message: str) -> None:
        marker = (key_map.file, key_map.line_of(key), key)
        if marker not in seen:
            seen.add(marker)
            diags.error(key_map.file, key_map.line_of(key), f"{where}: {message}")

    for key in _PROW_DURATIONS:
        value = raw.get(key)
        if value is not None:
            try:
                parse_prow_duration(value)
            except ValueError as exc:
                report(raw, key, f"decoration_config.{key}: {exc}")
    for key in _STRING_DURATIONS:
        value = raw.get(key)
        if value is not None:
            try:
                parse_duration(value)
            except ValueError as exc:
                report(raw, key, f"decoration_config.{key}: {exc}")
    for key in CREDENTIAL_SECRET_KEYS:
        if key in raw:
            marker = (file, raw.line_of(key), "credential:" + key)
            if marker not in seen:
                seen.add(marker)
                credentials.append(CredentialSecret(file, raw.line_of(key), key, raw.get(key)))
    for key in ("utility_images", "gcs_configuration", "resources"):
        value = raw.get(key)
        if value is not None and not isinstance(value, dict):
            report(raw, key, f"decoration_config.{key} must be a mapping")
    gcs = raw.get("gcs_configuration")
    if isinstance(gcs, YMap) and gcs.get("bucket") is not None:
        problem = _bucket_problem(gcs.get("bucket"))
        if problem:
            report(gcs, "bucket", f"gcs_configuration.bucket {problem}")


def decoration_timeouts(config: Mapping) -> dict[str, Any]:
    """The effective timeouts of a decoration config as timedeltas (absent ones omitted)."""
    result = {}
    for key in _PROW_DURATIONS:
        if config.get(key) is not None:
            try:
                result[key] = parse_prow_duration(config[key])
            except ValueError:
                pass
    for key in _STRING_DURATIONS:
        if config.get(key) is not None:
            try:
                result[key] = parse_duration(config[key])
            except ValueError:
                pass
    return result
