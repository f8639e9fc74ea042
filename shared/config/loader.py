"""Load config.yaml, the job configs and plugins.yaml into one `LoadedConfig`, collecting every
problem with its file and line instead of stopping at the first.

What counts as an error, a warning or a notice follows Prow:

- errors: what makes Prow's config or plugin agent refuse the config (YAML that does not parse, a
  value of the wrong type, a bad regex, a duplicated job, a plugin listed at org and repo level,
  a path that does not exist). A config with errors is never served.
- warnings: what Prow's `checkconfig` reports under a warning name (`unknown-fields`, ...); they
  fail `checkconfig --strict` only, and only the enabled names are kept (`warnings=`).
- notices: what this app does differently from Prow (jobs for agents it does not run, credential
  secrets it does not need, plugins that need an outside service); they never fail anything.

Duplicate mapping keys are read as Prow's YAML reader reads them (the last value wins, silently);
we add a notice so the user sees the shadowed value.

Where the bytes come from is a `ConfigReader`: the local file system by default, or the blob
snapshot that `shared.config.source` builds.
"""
from __future__ import annotations

import dataclasses
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Collection, Iterable, Literal, Protocol

from shared.cron import validate_cron

from .decoration import CredentialSecret
from .errors import Diagnostic, Diagnostics
from .jobfiles import list_local_files, read_maybe_gzip, select_job_files
from .jobs import JobBase, JobConfig, build_job_config
from .plugins import PluginConfig, parse_plugin_config
from .schema import unknown_fields
from .yamlnodes import YAMLLoadError, YMap, load_yaml

# checkconfig's warning names (cmd/checkconfig/main.go).
DEFAULT_WARNINGS: tuple[str, ...] = (
    "mismatched-tide", "tide-strict-branch", "tide-context-policy", "mismatched-tide-lenient",
    "non-decorated-jobs", "long-job-names", "duplicate-job-refs", "needs-ok-to-test",
    "managed-webhooks", "validate-owners", "missing-trigger", "validate-urls", "unknown-fields",
    "validate-cluster-field", "validate-supplemental-prow-config-hierarchy",
    "validate-unmanaged-branchconfig-has-no-subconfig", "validate-label",
    "required-job-annotations", "periodic-default-clone-config", "validate-config-updater-acls",
)
EXPENSIVE_WARNINGS: tuple[str, ...] = ("verify-owners-presence",)
OPTIONAL_WARNINGS: tuple[str, ...] = (
    "valid-decoration-config", "unknown-fields-all", "validate-github-app-installation",
)
ALL_WARNINGS: tuple[str, ...] = DEFAULT_WARNINGS + EXPENSIVE_WARNINGS + OPTIONAL_WARNINGS
UNKNOWN_FIELDS = "unknown-fields"
UNKNOWN_FIELDS_ALL = "unknown-fields-all"
# The warnings this implementation checks so far (checkconfig lists the enabled ones it does not).
CHECKED_WARNINGS: frozenset[str] = frozenset({UNKNOWN_FIELDS, UNKNOWN_FIELDS_ALL})

RUNNABLE_AGENT = "kubernetes"

_CREDENTIALS_REASON = ("this app uploads artifacts to Azure Blob with the job pod's upload sidecar "
                       "identity, so the secret is not mounted")


class ConfigReader(Protocol):
    """Where configuration bytes come from. Paths are strings in the reader's own syntax."""

    def kind(self, path: str) -> Literal["file", "dir"] | None:
        """"file", "dir", or None when nothing is there."""

    def read(self, path: str) -> bytes:
        """The bytes of one file; raises OSError when it cannot be read."""

    def files_under(self, root: str) -> list[str]:
        """Every file below directory `root`, recursively, relative to it with `/` separators."""

    def join(self, root: str, relative: str) -> str:
        """The path of `relative` (as from files_under) below `root`."""


class LocalReader:
    """The local file system, walked as Go's filepath.Walk (symlinked directories not entered)."""

    def kind(self, path: str) -> Literal["file", "dir"] | None:
        if os.path.isdir(path):
            return "dir"
        if os.path.exists(path):
            return "file"
        return None

    def read(self, path: str) -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    def files_under(self, root: str) -> list[str]:
        return list_local_files(root)

    def join(self, root: str, relative: str) -> str:
        return os.path.join(root, *relative.split("/"))


@dataclass
class ProwConfig:
    """config.yaml: the raw mapping (with lines) and the typed values read so far."""

    file: str
    raw: YMap = field(default_factory=lambda: YMap("", 1))

    def _string(self, key: str, default: str) -> str:
        value = self.raw.get(key)
        return value if isinstance(value, str) and value else default

    @property
    def prowjob_namespace(self) -> str:
        return self._string("prowjob_namespace", "default")

    @property
    def pod_namespace(self) -> str:
        return self._string("pod_namespace", "default")


@dataclass
class LoadedConfig:
    prow: ProwConfig
    jobs: JobConfig
    plugins: PluginConfig
    diagnostics: list[Diagnostic]
    files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def notices(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "notice"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def all_jobs(self) -> list[JobBase]:
        return list(self.jobs.all_jobs())

    def agent_counts(self) -> dict[str, int]:
        """Jobs of every kind by agent."""
        return dict(Counter(job.agent for job in self.jobs.all_jobs()))


def _read_yaml(reader: ConfigReader, path: str, diags: Diagnostics, *, gzipped: bool) -> tuple[bool, Any]:
    """(read ok, document). Read and syntax errors go to `diags`; duplicate keys become notices."""
    try:
        data = reader.read(path)
        if gzipped:
            data = read_maybe_gzip(data)
    except (OSError, ValueError) as exc:
        diags.error(path, None, f"cannot read: {exc}")
        return False, None
    try:
        value, duplicates = load_yaml(data, path)
    except YAMLLoadError as exc:
        diags.extend([exc.diagnostic])
        return False, None
    for line, key in duplicates:
        diags.notice(path, line, f"duplicate key {key!r}: this value replaces the earlier one "
                                 f"(Prow keeps the last one too)")
    return True, value


def _mapping_or_error(value: Any, path: str, what: str, diags: Diagnostics) -> YMap | None:
    if value is None or isinstance(value, YMap):
        return value
    diags.error(path, getattr(value, "line", 1), f"{what} must be a mapping, not a {type(value).__name__}")
    return None


def _enabled(warnings: Collection[str] | None) -> frozenset[str]:
    return frozenset(DEFAULT_WARNINGS if warnings is None else warnings)


def load_config(config_path: str, job_config_path: str | None = None,
                plugin_config_path: str | None = None, *, reader: ConfigReader | None = None,
                warnings: Collection[str] | None = None) -> LoadedConfig:
    """Read and validate everything; never raises for a config problem (see `.errors`).

    `warnings` are the enabled checkconfig warning names (default: Prow's default set); warnings
    of other names are dropped. Unknown fields are checked in config.yaml and plugins.yaml with
    `unknown-fields`, and in job files too with `unknown-fields-all`.
    """
    reader = reader or LocalReader()
    enabled = _enabled(warnings)
    check_unknown = UNKNOWN_FIELDS in enabled or UNKNOWN_FIELDS_ALL in enabled
    diags = Diagnostics()
    files: list[str] = []

    prow_doc: YMap | None = None
    if not config_path:
        diags.error("config.yaml", None, "no config path given (--config-path / PROW_CONFIG_PATH)")
    else:
        kind = reader.kind(config_path)
        if kind is None:
            diags.error(config_path, None, "config file does not exist")
        elif kind == "dir":
            diags.error(config_path, None, "the prow config must be a file, not a directory")
        else:
            files.append(config_path)
            ok, value = _read_yaml(reader, config_path, diags, gzipped=True)
            prow_doc = _mapping_or_error(value, config_path, "config.yaml", diags) if ok else None
            if prow_doc is not None and check_unknown:
                # With unknown-fields-all on, Prow checks config.yaml as part of that check only.
                diags.extend(_as_kind(unknown_fields(prow_doc, "prow_config"),
                                      UNKNOWN_FIELDS_ALL if UNKNOWN_FIELDS_ALL in enabled else UNKNOWN_FIELDS))

    job_docs: list[tuple[str, YMap | None]] = []
    if job_config_path:
        for path in _job_files(reader, job_config_path, diags):
            files.append(path)
            ok, value = _read_yaml(reader, path, diags, gzipped=True)
            if not ok:
                continue
            doc = _mapping_or_error(value, path, "a job config file", diags)
            job_docs.append((path, doc))
            if doc is not None and UNKNOWN_FIELDS_ALL in enabled:
                diags.extend(unknown_fields(doc, "job_config"))

    jobs = build_job_config(prow_doc, config_path, job_docs, diags, cron_validator=validate_cron)

    plugins = PluginConfig.empty()
    if plugin_config_path:
        kind = reader.kind(plugin_config_path)
        if kind is None:
            diags.error(plugin_config_path, None, "plugin config file does not exist")
        elif kind == "dir":
            diags.error(plugin_config_path, None, "the plugin config must be a file, not a directory")
        else:
            files.append(plugin_config_path)
            ok, value = _read_yaml(reader, plugin_config_path, diags, gzipped=False)
            if ok:
                plugins = parse_plugin_config(value, plugin_config_path, diags)
                if plugins.raw is not None and check_unknown:
                    diags.extend(_as_kind(unknown_fields(plugins.raw, "plugin_config"),
                                          UNKNOWN_FIELDS if UNKNOWN_FIELDS in enabled else UNKNOWN_FIELDS_ALL))

    prow = ProwConfig(config_path, prow_doc if prow_doc is not None else YMap(config_path, 1))
    loaded = LoadedConfig(prow, jobs, plugins, [], files)
    _notice_agents(jobs, diags)
    _notice_credentials(jobs, diags)
    loaded.diagnostics = [d for d in diags.items
                          if d.severity != "warning" or not d.kind or d.kind in enabled]
    return loaded


def _as_kind(found: Iterable[Diagnostic], kind: str) -> list[Diagnostic]:
    return [dataclasses.replace(d, kind=kind) if d.severity == "warning" else d for d in found]


def _job_files(reader: ConfigReader, root: str, diags: Diagnostics) -> list[str]:
    kind = reader.kind(root)
    if kind is None:
        diags.error(root, None, "job config path does not exist")
        return []
    if kind == "file":
        return [root]

    def full(relative: str) -> str:
        return reader.join(root, relative)

    selection = select_job_files(reader.files_under(root), lambda rel: reader.read(full(rel)), diags,
                                 display=full)
    return [full(relative) for relative in selection.files]


def _notice_agents(jobs: JobConfig, diags: Diagnostics) -> None:
    """One notice per agent this app does not run, with the count and the first job."""
    by_agent: dict[str, list[JobBase]] = {}
    for job in jobs.all_jobs():
        if job.agent != RUNNABLE_AGENT:
            by_agent.setdefault(job.agent, []).append(job)
    for agent, found in sorted(by_agent.items()):
        first = found[0]
        diags.notice(first.file, first.line,
                     f"{len(found)} job(s) use agent {agent} (first: {first.name}); this app runs only "
                     f"agent {RUNNABLE_AGENT} jobs: these are loaded but never started")


def _notice_credentials(jobs: JobConfig, diags: Diagnostics) -> None:
    """One notice per credentials secret that is set, at its first place, with how many places."""
    sites: dict[tuple[str, str], list[CredentialSecret]] = {}
    for secret in jobs.ignored_credential_secrets:
        if isinstance(secret.value, str) and secret.value:
            sites.setdefault((secret.key, secret.value), []).append(secret)
    for (key, value), found in sites.items():
        first = found[0]
        more = f" (and {len(found) - 1} more place(s))" if len(found) > 1 else ""
        diags.notice(first.file, first.line, f"{key} {value!r}{more} is ignored: {_CREDENTIALS_REASON}")
