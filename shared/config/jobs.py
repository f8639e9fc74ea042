"""Job configuration: presubmits, postsubmits and periodics, loaded, defaulted and validated as Prow
does it (`pkg/config/jobs.go`, `pkg/config/config.go`: `mergeJobConfigs`, `finalizeJobConfig`,
`ValidateJobConfig`).

`build_job_config(prow_doc, prow_file, job_docs, diags)` takes the parsed config.yaml (which may
hold jobs and presets itself) and the parsed job files, in Prow's order, and returns a `JobConfig`.
Every problem goes to `diags` with its file and line; a job with problems is still returned, so a
caller can show everything at once (checkconfig) or refuse the whole config (runtime).
"""
from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator

from . import jobchecks
from .decoration import (CredentialSecret, DecorationDefault, apply_default, check_decoration_fields,
                         entry_matches, plain, read_decoration_defaults, resolve_decoration,
                         storage_location, validate_decoration)
from .durations import parse_duration
from .errors import Diagnostics
from .regex import RE2Error, compile_re2
from .yamlnodes import YList, YMap

__all__ = ["Brancher", "ChangeMatcher", "JobBase", "JobConfig", "Periodic", "Postsubmit", "Preset",
           "Presubmit", "build_job_config", "default_rerun_command", "default_trigger"]

DEFAULT_CLUSTER = "default"
DEFAULT_NAMESPACE = "default"
DEFAULT_TENANT_ID = "GlobalDefaultID"

ChangedFiles = Callable[[], Iterable[str]]


def default_trigger(name: str) -> str:
    """Prow's default trigger; the name goes in unescaped (a `.` in it matches any character)."""
    return f"(?m)^/test( | .* ){name},?($|\\s.*)"


def default_rerun_command(name: str) -> str:
    return f"/test {name}"


# -- models ----------------------------------------------------------------------------------------

@dataclass(eq=False)
class Brancher:
    """`branches` / `skip_branches`: regexes joined with `|`, searched unanchored."""
    branches: tuple[str, ...] = ()
    skip_branches: tuple[str, ...] = ()
    branch_re: Any = None     # compiled, or None when branches is empty
    skip_re: Any = None

    def runs_against_all_branches(self) -> bool:
        return not self.branches and not self.skip_branches

    def should_run(self, branch: str) -> bool:
        if self.runs_against_all_branches():
            return True
        if self.skip_branches and self.skip_re is not None and self.skip_re.search(branch):
            return False
        return not self.branches or (self.branch_re is not None and bool(self.branch_re.search(branch)))

    def intersects(self, other: "Brancher") -> bool:
        """Prow's `Brancher.Intersects`: could both run for one branch?

        Two `branches` lists are compared as literal strings (not as regexes); a `branches` list
        against a skip-only brancher is decided by running each listed name through it.
        """
        if self.runs_against_all_branches() or other.runs_against_all_branches():
            return True
        if self.branches:
            if other.branches:
                return bool(set(self.branches) & set(other.branches))
            return any(other.should_run(branch) for branch in sorted(set(self.branches)))
        if not other.branches:
            return True   # both only skip some branches
        return other.intersects(self)


@dataclass(eq=False)
class ChangeMatcher:
    """`run_if_changed` / `skip_if_only_changed`."""
    run_if_changed: str = ""
    skip_if_only_changed: str = ""
    changes_re: Any = None

    def could_run(self) -> bool:
        return bool(self.run_if_changed or self.skip_if_only_changed)

    def runs_against_changes(self, changes: Iterable[str]) -> bool:
        if self.changes_re is None:
            return False
        for change in changes:
            if self.run_if_changed and self.changes_re.search(change):
                return True
            if self.skip_if_only_changed and not self.changes_re.search(change):
                return True
        return False

    def should_run(self, changes: ChangedFiles) -> tuple[bool, bool]:
        """(determined, should_run): undetermined when neither regex is set."""
        if self.could_run():
            return True, self.runs_against_changes(changes())
        return False, False


@dataclass(frozen=True, eq=False)
class Preset:
    labels: dict[str, str]
    env: list[dict]
    volumes: list[dict]
    volume_mounts: list[dict]
    file: str
    line: int | None


@dataclass(eq=False, kw_only=True)
class JobBase:
    name: str
    file: str
    line: int | None
    raw: YMap
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    agent: str = jobchecks.KUBERNETES
    cluster: str = DEFAULT_CLUSTER
    namespace: str = DEFAULT_NAMESPACE
    max_concurrency: int = 0
    job_queue_name: str = ""
    error_on_eviction: bool = False
    hidden: bool = False
    spec: dict | None = None
    decorate: bool = False
    decoration_config: dict | None = None   # effective (merged) when decorate is true
    extra_refs: list[dict] = field(default_factory=list)
    path_alias: str = ""
    clone_uri: str = ""
    skip_submodules: bool = False
    clone_depth: int = 0
    skip_fetch_head: bool = False
    reporter_config: dict | None = None
    rerun_auth_config: dict | None = None
    prowjob_defaults: dict = field(default_factory=dict)

    job_type = ""

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def storage_container(self) -> str | None:
        """The Azure Blob container of a decorated job's artifacts."""
        gcs = (self.decoration_config or {}).get("gcs_configuration") if self.decorate else None
        bucket = gcs.get("bucket") if isinstance(gcs, dict) else None
        return storage_location(bucket)[1] if isinstance(bucket, str) and bucket else None


@dataclass(eq=False, kw_only=True)
class _RepoJob(JobBase):
    """What presubmits and postsubmits share: a repo, branch filters and changed-file filters."""

    repo: str
    skip_report: bool = False
    context: str = ""
    brancher: Brancher = field(default_factory=Brancher)
    changes: ChangeMatcher = field(default_factory=ChangeMatcher)
    jenkins_spec: dict | None = None

    @property
    def branches(self) -> tuple[str, ...]:
        return self.brancher.branches

    @property
    def skip_branches(self) -> tuple[str, ...]:
        return self.brancher.skip_branches

    @property
    def run_if_changed(self) -> str:
        return self.changes.run_if_changed

    @property
    def skip_if_only_changed(self) -> str:
        return self.changes.skip_if_only_changed

    def could_run(self, base_ref: str) -> bool:
        return self.brancher.should_run(base_ref)


@dataclass(eq=False, kw_only=True)
class Presubmit(_RepoJob):
    always_run: bool = False
    optional: bool = False
    trigger: str = ""
    rerun_command: str = ""
    run_before_merge: bool = False

    job_type = "presubmit"

    @cached_property
    def trigger_re(self):
        """The compiled trigger (compiled on first use; invalid triggers were reported at load)."""
        try:
            return compile_re2(self.trigger) if self.trigger else None
        except RE2Error:
            return None

    def should_run(self, base_ref: str, changes: ChangedFiles, forced: bool, default: bool) -> bool:
        """Prow's `Presubmit.ShouldRun`; `changes` is called only when needed."""
        if not self.could_run(base_ref):
            return False
        if self.always_run or forced:
            return True
        determined, should = self.changes.should_run(changes)
        return (determined and should) or default

    def needs_explicit_trigger(self) -> bool:
        return not self.always_run and not self.changes.could_run()

    def triggers_conditionally(self) -> bool:
        return self.needs_explicit_trigger() or self.changes.could_run()

    def trigger_matches(self, body: str) -> bool:
        pattern = self.trigger_re
        return pattern is not None and bool(pattern.search(body))

    def context_required(self) -> bool:
        return not self.optional and not self.skip_report


@dataclass(eq=False, kw_only=True)
class Postsubmit(_RepoJob):
    always_run: bool | None = None     # unset means "runs" (unless the change matchers say no)

    job_type = "postsubmit"

    def should_run(self, base_ref: str, changes: ChangedFiles) -> bool:
        if not self.could_run(base_ref):
            return False
        determined, should = self.changes.should_run(changes)
        if determined:
            return should
        return True if self.always_run is None else self.always_run


@dataclass(eq=False, kw_only=True)
class Periodic(JobBase):
    cron: str = ""
    interval: timedelta | None = None            # parsed `interval`
    minimum_interval: timedelta | None = None    # parsed `minimum_interval`
    tags: list[str] = field(default_factory=list)
    retry: dict | None = None
    retry_interval: timedelta | None = None

    job_type = "periodic"


@dataclass(eq=False)
class JobConfig:
    presubmits: dict[str, list[Presubmit]] = field(default_factory=dict)
    postsubmits: dict[str, list[Postsubmit]] = field(default_factory=dict)
    periodics: list[Periodic] = field(default_factory=list)
    presets: list[Preset] = field(default_factory=list)
    decorate_all_jobs: bool = False
    pod_namespace: str = DEFAULT_NAMESPACE
    decoration_defaults: list[DecorationDefault] = field(default_factory=list)
    # gcs_credentials_secret / s3_credentials_secret settings (ignored by this app) for one notice.
    ignored_credential_secrets: list[CredentialSecret] = field(default_factory=list)
    in_repo_config_enabled_map: dict[str, bool] = field(default_factory=dict)

    def all_presubmits(self, repos: Iterable[str] = ()) -> list[Presubmit]:
        wanted = set(repos)
        return [job for repo, jobs in self.presubmits.items() if not wanted or repo in wanted
                for job in jobs]

    def all_postsubmits(self, repos: Iterable[str] = ()) -> list[Postsubmit]:
        wanted = set(repos)
        return [job for repo, jobs in self.postsubmits.items() if not wanted or repo in wanted
                for job in jobs]

    def all_jobs(self) -> Iterator[JobBase]:
        yield from self.all_presubmits()
        yield from self.all_postsubmits()
        yield from self.periodics

    def presubmits_for(self, repo: str) -> list[Presubmit]:
        return list(self.presubmits.get(repo, []))

    def postsubmits_for(self, repo: str) -> list[Postsubmit]:
        return list(self.postsubmits.get(repo, []))

    def periodic(self, name: str) -> Periodic | None:
        return next((job for job in self.periodics if job.name == name), None)

    def counts_by_agent(self) -> dict[str, Counter]:
        """{"presubmits": Counter({"kubernetes": n, "jenkins": m}), "postsubmits": ..., "periodics": ...}"""
        return {
            "presubmits": Counter(job.agent for job in self.all_presubmits()),
            "postsubmits": Counter(job.agent for job in self.all_postsubmits()),
            "periodics": Counter(job.agent for job in self.periodics),
        }

    def storage_containers(self) -> set[str]:
        return {c for c in (job.storage_container for job in self.all_jobs()) if c}

    def in_repo_config_enabled(self, repo: str) -> bool:
        """`in_repo_config.enabled`, narrowest of `org/repo`, `org`, `*` wins."""
        for key in (repo, repo.split("/")[0], "*"):
            if key in self.in_repo_config_enabled_map:
                return self.in_repo_config_enabled_map[key]
        return False


# -- reading typed fields --------------------------------------------------------------------------

_TYPE_NAMES = {str: "a string", bool: "a boolean (true/false)", int: "an integer",
               list: "a list", dict: "a mapping"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Fields:
    """Typed access to a job's YAML mapping; a wrong type is an error (as Go's unmarshal makes it)."""

    def __init__(self, raw: YMap, where: str, diags: Diagnostics):
        self.raw = raw
        self.where = where
        self.diags = diags

    def error(self, key: str | None, message: str) -> None:
        line = self.raw.line_of(key) if key is not None else self.raw.line
        self.diags.error(self.raw.file, line, f"{self.where}: {message}")

    def _get(self, key: str, kind: type) -> Any:
        value = self.raw.get(key)
        if value is None:
            return None
        if kind is str and isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        self.error(key, f"{key}: expected {_TYPE_NAMES[kind]}, got {_type_name(value)} ({value!r})")
        return None

    def str(self, key: str) -> str:
        return self._get(key, str) or ""

    def bool(self, key: str) -> bool:
        return bool(self._get(key, bool))

    def opt_bool(self, key: str) -> bool | None:
        return self._get(key, bool)

    def int(self, key: str) -> int:
        return self._get(key, int) or 0

    def mapping(self, key: str) -> YMap | None:
        return self._get(key, dict)

    def str_list(self, key: str) -> list[str]:
        items = self._get(key, list) or []
        result = []
        for index, item in enumerate(items):
            if isinstance(item, str):
                result.append(item)
            else:
                line = items.line_of(index) if isinstance(items, YList) else self.raw.line_of(key)
                self.diags.error(self.raw.file, line,
                                 f"{self.where}: {key}[{index}]: expected a string, got {_type_name(item)} ({item!r})")
        return result

    def str_map(self, key: str) -> dict[str, str]:
        mapping = self._get(key, dict) or {}
        result = {}
        for name, value in mapping.items():
            if value is None:
                value = ""
            if isinstance(name, str) and isinstance(value, str):
                result[name] = value
                continue
            line = mapping.line_of(name) if isinstance(mapping, YMap) else self.raw.line_of(key)
            self.diags.error(self.raw.file, line,
                             f"{self.where}: {key}.{name}: keys and values must be strings, got "
                             f"{_type_name(value)} ({value!r}); quote the value")
        return result

    def map_list(self, key: str) -> list[dict]:
        items = self._get(key, list) or []
        result = []
        for index, item in enumerate(items):
            if isinstance(item, dict):
                result.append(item)
            else:
                line = items.line_of(index) if isinstance(items, YList) else self.raw.line_of(key)
                self.diags.error(self.raw.file, line,
                                 f"{self.where}: {key}[{index}]: expected a mapping, got {_type_name(item)}")
        return result


# -- building --------------------------------------------------------------------------------------

@dataclass
class _Settings:
    pod_namespace: str = DEFAULT_NAMESPACE
    decorate_all_jobs: bool = False
    decoration_defaults: list[DecorationDefault] = field(default_factory=list)
    job_queue_names: frozenset = frozenset()
    prowjob_default_entries: list[tuple[str, str, dict]] = field(default_factory=list)
    in_repo_config: dict[str, bool] = field(default_factory=dict)


def _read_settings(prow_doc: Any, prow_file: str, diags: Diagnostics) -> _Settings:
    settings = _Settings()
    if not isinstance(prow_doc, YMap):
        return settings
    where = _Fields(prow_doc, "config", diags)
    settings.pod_namespace = where.str("pod_namespace") or DEFAULT_NAMESPACE
    settings.decorate_all_jobs = where.bool("decorate_all_jobs")
    plank = prow_doc.get("plank")
    if plank is not None and not isinstance(plank, dict):
        diags.error(prow_file, prow_doc.line_of("plank"), "plank must be a mapping")
        plank = None
    settings.decoration_defaults = read_decoration_defaults(plank, prow_file, diags)
    if isinstance(plank, dict) and isinstance(plank.get("job_queue_capacities"), dict):
        settings.job_queue_names = frozenset(plank["job_queue_capacities"])
    entries = prow_doc.get("prowjob_default_entries")
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("config"), dict):
                settings.prowjob_default_entries.append(
                    (str(entry.get("repo") or ""), str(entry.get("cluster") or ""), plain(entry["config"])))
    in_repo = prow_doc.get("in_repo_config")
    if isinstance(in_repo, dict) and isinstance(in_repo.get("enabled"), dict):
        settings.in_repo_config = {str(k): bool(v) for k, v in in_repo["enabled"].items() if v is not None}
    return settings


class _Builder:
    def __init__(self, settings: _Settings, diags: Diagnostics,
                 cron_validator: Callable[[str], None] | None):
        self.settings = settings
        self.diags = diags
        self.cron_validator = cron_validator
        self.config = JobConfig(
            decorate_all_jobs=settings.decorate_all_jobs, pod_namespace=settings.pod_namespace,
            decoration_defaults=settings.decoration_defaults,
            in_repo_config_enabled_map=settings.in_repo_config)
        self.raw_presubmits: list[tuple[str, YMap, int | None]] = []
        self.raw_postsubmits: list[tuple[str, YMap, int | None]] = []
        self.raw_periodics: list[tuple[YMap, int | None]] = []
        self.seen_decoration_sites: set = set()
        self.default_decorations: dict[tuple[str, str], dict] = {}

    # collecting ---------------------------------------------------------------------------------

    def collect(self, file: str, doc: Any) -> None:
        if doc is None:
            return
        if not isinstance(doc, YMap):
            self.diags.error(file, getattr(doc, "line", None),
                             "a job config file must be a mapping (with presubmits, postsubmits, "
                             f"periodics or presets), got {_type_name(doc)}")
            return
        for kind, target in (("presubmits", self.raw_presubmits), ("postsubmits", self.raw_postsubmits)):
            section = doc.get(kind)
            if section is None:
                continue
            if not isinstance(section, YMap):
                self.diags.error(file, doc.line_of(kind),
                                 f"{kind} must be a mapping of \"org/repo\" to a list of jobs, got {_type_name(section)}")
                continue
            for repo, jobs in section.items():
                if jobs is None:
                    continue
                if not isinstance(repo, str) or not isinstance(jobs, YList):
                    self.diags.error(file, section.line_of(repo),
                                     f"{kind}[{repo!r}] must be a list of jobs keyed by an \"org/repo\" string")
                    continue
                for index, job in enumerate(jobs):
                    if isinstance(job, YMap):
                        target.append((repo, job, jobs.line_of(index)))
                    else:
                        self.diags.error(file, jobs.line_of(index),
                                         f"{kind}[{repo!r}][{index}] must be a mapping, got {_type_name(job)}")
        periodics = doc.get("periodics")
        if periodics is not None:
            if not isinstance(periodics, YList):
                self.diags.error(file, doc.line_of("periodics"), "periodics must be a list of jobs")
            else:
                for index, job in enumerate(periodics):
                    if isinstance(job, YMap):
                        self.raw_periodics.append((job, periodics.line_of(index)))
                    else:
                        self.diags.error(file, periodics.line_of(index),
                                         f"periodics[{index}] must be a mapping, got {_type_name(job)}")
        presets = doc.get("presets")
        if presets is not None:
            if not isinstance(presets, YList):
                self.diags.error(file, doc.line_of("presets"), "presets must be a list")
            else:
                for index, raw in enumerate(presets):
                    preset = self._preset(file, raw, presets.line_of(index), index)
                    if preset is not None:
                        self.config.presets.append(preset)

    def _preset(self, file: str, raw: Any, line: int | None, index: int) -> Preset | None:
        if not isinstance(raw, YMap):
            self.diags.error(file, line, f"presets[{index}] must be a mapping")
            return None
        fields = _Fields(raw, f"presets[{index}]", self.diags)
        lists = {}
        for key in ("env", "volumes", "volumeMounts"):
            items = fields.map_list(key)
            for position, item in enumerate(items):
                if not isinstance(item.get("name"), str):
                    fields.error(key, f"{key}[{position}] needs a name")
            lists[key] = [plain(item) for item in items]
        return Preset(fields.str_map("labels"), lists["env"], lists["volumes"], lists["volumeMounts"],
                      file, line)

    def check_presets(self) -> None:
        first: dict[str, Preset] = {}
        for preset in self.config.presets:
            for key, value in preset.labels.items():
                pair = f"{key}:{value}"
                if pair in first:
                    other = first[pair]
                    self.diags.error(preset.file, preset.line,
                                     f"duplicated preset 'label:value' pair {pair!r}: also used by the "
                                     f"preset at {other.file}:{other.line}")
                else:
                    first[pair] = preset

    # jobs ---------------------------------------------------------------------------------------

    def build(self) -> None:
        for repo, raw, line in self.raw_presubmits:
            job = self._presubmit(repo, raw, line)
            self.config.presubmits.setdefault(repo, []).append(job)
        for repo, raw, line in self.raw_postsubmits:
            job = self._postsubmit(repo, raw, line)
            self.config.postsubmits.setdefault(repo, []).append(job)
        for raw, line in self.raw_periodics:
            self.config.periodics.append(self._periodic(raw, line))

    def _base(self, job: JobBase, fields: _Fields, repo: str) -> None:
        """Read, default and decorate the fields every job type has."""
        settings = self.settings
        job.labels = fields.str_map("labels")
        job.annotations = fields.str_map("annotations")
        job.agent = fields.str("agent") or jobchecks.KUBERNETES
        job.cluster = fields.str("cluster") or DEFAULT_CLUSTER
        job.namespace = fields.str("namespace") or settings.pod_namespace
        job.max_concurrency = fields.int("max_concurrency")
        job.job_queue_name = fields.str("job_queue_name")
        job.error_on_eviction = fields.bool("error_on_eviction")
        job.hidden = fields.bool("hidden")
        job.path_alias = fields.str("path_alias")
        job.clone_uri = fields.str("clone_uri")
        job.skip_submodules = fields.bool("skip_submodules")
        job.clone_depth = fields.int("clone_depth")
        job.skip_fetch_head = fields.bool("skip_fetch_head")
        job.extra_refs = [plain(ref) for ref in fields.map_list("extra_refs")]
        reporter = fields.mapping("reporter_config")
        job.reporter_config = plain(reporter) if reporter is not None else None
        rerun_auth = fields.mapping("rerun_auth_config")
        job.rerun_auth_config = plain(rerun_auth) if rerun_auth is not None else None
        spec = fields.mapping("spec")
        job.spec = plain(spec) if spec is not None else None

        if job.job_type == "periodic":
            first_ref = job.extra_refs[0] if job.extra_refs else None
            repo = f"{first_ref.get('org')}/{first_ref.get('repo')}" if first_ref else ""
        decorate = fields.opt_bool("decorate")
        job.decorate = settings.decorate_all_jobs if decorate is None else decorate
        raw_dc = fields.mapping("decoration_config")
        if raw_dc is not None:
            check_decoration_fields(raw_dc, f"{fields.where}", self.diags, self.seen_decoration_sites,
                                    self.config.ignored_credential_secrets)
        job_dc = plain(raw_dc) if raw_dc is not None else None
        if job.decorate:
            key = (repo, job.cluster)
            defaults = self.default_decorations.get(key)
            if defaults is None:
                defaults = self.default_decorations[key] = resolve_decoration(
                    settings.decoration_defaults, repo, job.cluster, None)
            job.decoration_config = apply_default(job_dc, defaults) or {}
        else:
            job.decoration_config = job_dc

        own_defaults = fields.mapping("prowjob_defaults")
        merged: dict | None = None
        for entry_repo, entry_cluster, entry_config in settings.prowjob_default_entries:
            if entry_matches(entry_repo, entry_cluster, repo, job.cluster):
                merged = _merge_unset(entry_config, merged)
        merged = _merge_unset(plain(own_defaults) if own_defaults is not None else None, merged) or {}
        if not merged.get("tenant_id"):
            merged["tenant_id"] = DEFAULT_TENANT_ID
        job.prowjob_defaults = merged

        if job.spec is not None:
            labels = job.labels
            for preset in self.config.presets:
                if any(labels.get(k) != v for k, v in preset.labels.items()):
                    continue
                problem = jobchecks.merge_preset(preset.labels, preset.env, preset.volumes,
                                                 preset.volume_mounts, labels, job.spec)
                if problem:
                    fields.error(None, f"failed to merge presets for podspec: {problem} "
                                       f"(preset at {preset.file}:{preset.line})")
                    break

    def _compile(self, fields: _Fields, key: str, pattern: str, what: str):
        try:
            return compile_re2(pattern)
        except RE2Error as exc:
            fields.error(key, f"{key}: invalid {what} regular expression {pattern!r}: {exc}")
            return None

    def _brancher(self, fields: _Fields) -> Brancher:
        branches = tuple(fields.str_list("branches"))
        skip = tuple(fields.str_list("skip_branches"))
        brancher = Brancher(branches, skip)
        if branches:
            brancher.branch_re = self._compile(fields, "branches", "|".join(branches), "branch")
        if skip:
            brancher.skip_re = self._compile(fields, "skip_branches", "|".join(skip), "branch")
        return brancher

    def _changes(self, fields: _Fields) -> ChangeMatcher:
        matcher = ChangeMatcher(fields.str("run_if_changed"), fields.str("skip_if_only_changed"))
        key = "run_if_changed" if matcher.run_if_changed else "skip_if_only_changed"
        pattern = matcher.run_if_changed or matcher.skip_if_only_changed
        if pattern:
            matcher.changes_re = self._compile(fields, key, pattern, "file")
        return matcher

    def _presubmit(self, repo: str, raw: YMap, line: int | None) -> Presubmit:
        name = raw.get("name") if isinstance(raw.get("name"), str) else ""
        fields = _Fields(raw, f"presubmit {name!r} ({repo})", self.diags)
        name = fields.str("name")
        job = Presubmit(name=name, file=raw.file, line=line, raw=raw, repo=repo)
        self._base(job, fields, repo)
        job.always_run = fields.bool("always_run")
        job.optional = fields.bool("optional")
        job.skip_report = fields.bool("skip_report")
        job.run_before_merge = fields.bool("run_before_merge")
        job.context = fields.str("context") or name
        jenkins = fields.mapping("jenkins_spec")
        job.jenkins_spec = plain(jenkins) if jenkins is not None else None
        job.trigger = fields.str("trigger")
        job.rerun_command = fields.str("rerun_command")
        job.brancher = self._brancher(fields)
        job.changes = self._changes(fields)

        if not job.trigger and not job.rerun_command:
            # Always valid (and matched by its rerun command) for a valid job name; compiled on use.
            job.trigger = default_trigger(name)
            job.rerun_command = default_rerun_command(name)
        elif job.trigger and job.rerun_command:
            pattern = self._compile(fields, "trigger", job.trigger, "trigger")
            if pattern is not None and not pattern.search(job.rerun_command):
                fields.error("rerun_command", f"rerun command {job.rerun_command!r} does not match "
                                              f"trigger {job.trigger!r}")
        else:
            present = "trigger" if job.trigger else "rerun_command"
            fields.error(present, "either both of trigger and rerun_command must be set, or neither "
                                  f"(only {present} is set)")

        self._validate_base(job, fields)
        if job.always_run and job.run_if_changed:
            fields.error("always_run", "always_run and run_if_changed are mutually exclusive")
        elif job.always_run and job.skip_if_only_changed:
            fields.error("always_run", "always_run and skip_if_only_changed are mutually exclusive")
        if job.run_if_changed and job.skip_if_only_changed:
            fields.error("skip_if_only_changed",
                         "run_if_changed and skip_if_only_changed are mutually exclusive")
        self._validate_reporting(job, fields)
        return job

    def _postsubmit(self, repo: str, raw: YMap, line: int | None) -> Postsubmit:
        name = raw.get("name") if isinstance(raw.get("name"), str) else ""
        fields = _Fields(raw, f"postsubmit {name!r} ({repo})", self.diags)
        name = fields.str("name")
        job = Postsubmit(name=name, file=raw.file, line=line, raw=raw, repo=repo)
        self._base(job, fields, repo)
        job.always_run = fields.opt_bool("always_run")
        job.skip_report = fields.bool("skip_report")
        job.context = fields.str("context") or name
        jenkins = fields.mapping("jenkins_spec")
        job.jenkins_spec = plain(jenkins) if jenkins is not None else None
        job.brancher = self._brancher(fields)
        job.changes = self._changes(fields)
        self._validate_base(job, fields)
        if job.always_run and job.run_if_changed:
            fields.error("always_run", "always_run and run_if_changed are mutually exclusive")
        elif job.always_run and job.skip_if_only_changed:
            fields.error("always_run", "always_run and skip_if_only_changed are mutually exclusive")
        if job.run_if_changed and job.skip_if_only_changed:
            fields.error("skip_if_only_changed",
                         "run_if_changed and skip_if_only_changed are mutually exclusive")
        self._validate_reporting(job, fields)
        return job

    def _periodic(self, raw: YMap, line: int | None) -> Periodic:
        name = raw.get("name") if isinstance(raw.get("name"), str) else ""
        fields = _Fields(raw, f"periodic {name!r}", self.diags)
        name = fields.str("name")
        job = Periodic(name=name, file=raw.file, line=line, raw=raw)
        self._base(job, fields, "")
        job.cron = fields.str("cron")
        interval = fields.str("interval")
        minimum = fields.str("minimum_interval")
        job.tags = fields.str_list("tags")
        retry = fields.mapping("retry")
        job.retry = plain(retry) if retry is not None else None
        self._validate_base(job, fields)

        schedules = [key for key, value in (("cron", job.cron), ("interval", interval),
                                            ("minimum_interval", minimum)) if value]
        if len(schedules) > 1:
            fields.error(schedules[1], "cron, interval and minimum_interval are mutually exclusive "
                                       f"(found {', '.join(schedules)})")
        elif not schedules:
            fields.error(None, "at least one of cron, interval or minimum_interval must be set")
        else:
            if job.cron and self.cron_validator is not None:
                try:
                    self.cron_validator(job.cron)
                except ValueError as exc:
                    fields.error("cron", f"invalid cron string {job.cron!r}: {exc}")
            for key, value in (("interval", interval), ("minimum_interval", minimum)):
                if value:
                    try:
                        setattr(job, key, parse_duration(value))
                    except ValueError as exc:
                        fields.error(key, f"cannot parse {key}: {exc}")
            if retry is not None:
                retry_fields = _Fields(retry, f"periodic {name!r} retry", self.diags)
                try:
                    job.retry_interval = parse_duration(retry_fields.str("interval"))
                except ValueError as exc:
                    retry_fields.error("interval", f"cannot parse retry interval: {exc}")
                retry_fields.int("attempts")
                retry_fields.bool("run_all")
        return job

    # per-job validation -------------------------------------------------------------------------

    def _validate_base(self, job: JobBase, fields: _Fields) -> None:
        problem = jobchecks.job_name_problem(job.name, job.agent)
        if problem:
            fields.error("name", problem)
        if job.max_concurrency < 0:
            fields.error("max_concurrency", f"max_concurrency: {job.max_concurrency} must be a non-negative number")
        raw = job.raw
        if job.agent not in jobchecks.KNOWN_AGENTS:
            self.diags.notice(job.file, raw.line_of("agent"),
                              f"{fields.where}: agent {job.agent!r} is unknown and cannot be validated")
        for problem in jobchecks.agent_problems(
                job.agent, job.spec is not None, jobchecks.has_pipeline_run_spec(raw), job.decoration_config,
                job.error_on_eviction, job.namespace, self.settings.pod_namespace):
            key = "agent" if "agent" in raw else ("spec" if "spec" in raw else None)
            fields.error("namespace" if problem.startswith("namespace") else key, problem)
        if job.spec is not None:
            for problem in jobchecks.pod_spec_problems(job.job_type, job.spec, job.decoration_config):
                fields.error("spec", problem)
        for problem in jobchecks.label_problems(job.labels):
            fields.error("labels", problem)
        for problem in jobchecks.annotation_problems(job.annotations):
            fields.error("annotations", problem)
        if job.job_queue_name and job.job_queue_name not in self.settings.job_queue_names:
            fields.error("job_queue_name", f"invalid job queue name {job.job_queue_name!r}: not a key of "
                                           "plank.job_queue_capacities")
        containers = (job.spec or {}).get("containers")
        if not isinstance(containers, list) or not containers:
            return   # jenkins jobs have no pod spec; nothing more to check
        auth = job.rerun_auth_config or {}
        if auth.get("allow_anyone") and any(auth.get(k) for k in (
                "github_users", "github_team_ids", "github_team_slugs", "github_orgs")):
            fields.error("rerun_auth_config", "allow anyone is set to true and permitted users or groups "
                                              "are specified")
        dc = job.decoration_config
        oauth = isinstance(dc, dict) and dc.get("oauth_token_secret") is not None
        for problem in jobchecks.clone_uri_problems(job.clone_uri, job.extra_refs, oauth):
            fields.error("clone_uri", problem)
        if dc is not None:
            key = "decoration_config" if "decoration_config" in raw else ("decorate" if "decorate" in raw else None)
            for problem in validate_decoration(dc):
                fields.error(key, f"invalid decoration config: {problem}")
            for problem in jobchecks.decorated_container_problems(job.spec):
                fields.error("spec", problem)

    def _validate_reporting(self, job: Presubmit | Postsubmit, fields: _Fields) -> None:
        if not job.skip_report and not job.context:
            fields.error("context", "job is set to report but has no context configured")
        if job.skip_report and job.labels.get(jobchecks.GERRIT_REPORT_LABEL):
            fields.error("labels", f"gerrit report label {jobchecks.GERRIT_REPORT_LABEL} set to non-empty "
                                   "string but job is configured to skip reporting.")

    # cross-job validation -----------------------------------------------------------------------

    def check_duplicates(self) -> None:
        for kind, jobs_by_repo in (("presubmit", self.config.presubmits),
                                   ("postsubmit", self.config.postsubmits)):
            for repo, jobs in jobs_by_repo.items():
                self._check_repo(kind, repo, jobs)
        seen: dict[str, Periodic] = {}
        for job in self.config.periodics:
            earlier = seen.get(job.name)
            if earlier is not None:
                self.diags.error(job.file, job.line, f"periodic {job.name!r} is defined more than once "
                                                     f"(also at {earlier.location}); periodic names must be unique")
            else:
                seen[job.name] = job

    def _check_repo(self, kind: str, repo: str, jobs: list) -> None:
        by_name: dict[str, list] = defaultdict(list)
        for job in jobs:
            for earlier in by_name[job.name]:
                if earlier.brancher.intersects(job.brancher):
                    self.diags.error(job.file, job.line,
                                     f"{kind} {job.name!r} for {repo} is defined more than once for "
                                     f"overlapping branches (also at {earlier.location})")
                    break
            by_name[job.name].append(job)
        by_context: dict[str, list] = defaultdict(list)
        for job in jobs:
            for earlier in by_context[job.context]:
                if earlier.name != job.name and earlier.brancher.intersects(job.brancher):
                    self.diags.error(job.file, job.line,
                                     f"{kind}s {earlier.name!r} and {job.name!r} for {repo} report to the "
                                     f"same GitHub context {job.context!r} on overlapping branches "
                                     f"({earlier.name!r} is at {earlier.location})")
            by_context[job.context].append(job)

    def check_default_decorations(self) -> None:
        for entry in self.settings.decoration_defaults:
            check_decoration_fields(entry.raw, "plank default decoration config", self.diags,
                                    self.seen_decoration_sites, self.config.ignored_credential_secrets)


def _merge_unset(config: dict | None, default: dict | None) -> dict | None:
    """ProwJobDefault.ApplyDefault: fields unset (null or "") in `config` come from `default`."""
    if config is None and default is None:
        return None
    if config is None or default is None:
        return dict(config if config is not None else default)
    merged = dict(config)
    for key, value in default.items():
        if merged.get(key) in (None, ""):
            merged[key] = value
    return merged


def build_job_config(prow_doc: YMap | None, prow_file: str, job_docs: list[tuple[str, YMap | None]],
                     diags: Diagnostics, *, cron_validator: Callable[[str], None] | None = None) -> JobConfig:
    """Merge, default and validate the jobs of config.yaml and the job files (in Prow's order).

    `cron_validator(expr)` raises ValueError for a cron expression Prow would reject; without it
    cron strings are not checked here.
    """
    settings = _read_settings(prow_doc, prow_file, diags)
    builder = _Builder(settings, diags, cron_validator)
    builder.check_default_decorations()
    builder.collect(prow_file, prow_doc)
    for file, doc in job_docs:
        builder.collect(file, doc)
    builder.check_presets()
    builder.build()
    builder.check_duplicates()
    return builder.config
