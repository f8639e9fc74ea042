"""Where a job's files go: Prow's `pkg/pod-utils/gcs` layout, read from a decoration config.

A `Layout` is built from a job's `gcs_configuration` and its JOB_SPEC-shaped facts (type, job name,
build id, refs). Every path is relative to the container; `bucket` `gs://x`, `s3://x` and `x` all
mean container `x` in the app's storage (`container`), while `bucket_url` keeps the scheme as
written (bare = `gs://`) for the directory alias and job URLs, as Prow writes them.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any, Mapping

PRESUBMIT, POSTSUBMIT, PERIODIC, BATCH = "presubmit", "postsubmit", "periodic", "batch"
EXPLICIT, LEGACY, SINGLE = "explicit", "legacy", "single"

STARTED = "started.json"
FINISHED = "finished.json"
PROWJOB = "prowjob.json"
PODINFO = "podinfo.json"
BUILD_LOG = "build-log.txt"
CLONE_LOG = "clone-log.txt"
CLONE_RECORDS = "clone-records.json"
LATEST_BUILD = "latest-build.txt"
SIDECAR_LOGS = "sidecar-logs.json"
ARTIFACTS = "artifacts"


class LayoutError(ValueError):
    """A decoration config or job that has no place in Prow's layout."""


def split_bucket(bucket: str) -> tuple[str, str]:
    """(scheme, container) of `gs://x`, `s3://x` or a bare `x` (= gs)."""
    scheme, sep, rest = bucket.partition("://")
    if not sep:
        scheme, rest = "gs", bucket
    container = rest.split("/", 1)[0]
    if not container:
        raise LayoutError(f"gcs_configuration.bucket {bucket!r} names no container")
    return scheme, container


def repo_segment(org: str, repo: str, strategy: str, default_org: str = "", default_repo: str = "") -> str:
    """The `<repo-seg>` of a presubmit path under `path_strategy` (empty collapses in the path)."""
    trimmed = org[len("https://"):] if org.startswith("https://") else org   # Gerrit hosts
    explicit = f"{trimmed}_{repo.replace('/', '_')}"
    if strategy == EXPLICIT:
        return explicit
    if strategy == LEGACY:
        if org == default_org:
            return "" if repo == default_repo else repo
        return explicit
    if strategy == SINGLE:
        return "" if (org == default_org and repo == default_repo) else explicit
    raise LayoutError(f"path_strategy {strategy!r} must be one of 'legacy', 'explicit' or 'single'")


def _join(*parts: str) -> str:
    return posixpath.join(*[p for p in parts if p])


@dataclass(frozen=True)
class Layout:
    bucket: str                 # as configured: gs://x, s3://x or x
    job_type: str
    job: str
    build_id: str
    org: str = ""
    repo: str = ""
    pull: str = ""              # first pull's number (presubmits)
    path_strategy: str = EXPLICIT
    default_org: str = ""
    default_repo: str = ""
    path_prefix: str = ""

    @classmethod
    def for_job(cls, gcs_configuration: Mapping[str, Any], job_spec: Mapping[str, Any]) -> "Layout":
        """From a `gcs_configuration` and a JOB_SPEC-shaped dict (`type`, `job`, `buildid`, `refs`)."""
        gcs = gcs_configuration or {}
        if not gcs.get("bucket"):
            raise LayoutError("gcs_configuration.bucket is not set: artifacts need a storage container")
        refs = job_spec.get("refs") or (job_spec.get("extra_refs") or [{}])[0] or {}
        pulls = refs.get("pulls") or []
        job_type = job_spec.get("type", "")
        if job_type not in (PRESUBMIT, POSTSUBMIT, PERIODIC, BATCH):
            raise LayoutError(f"job type {job_type!r} has no artifact path")
        build_id = str(job_spec.get("buildid") or job_spec.get("build_id") or "")
        if not build_id:
            raise LayoutError(f"job {job_spec.get('job')!r} has no build id yet")
        return cls(bucket=gcs["bucket"], job_type=job_type, job=job_spec.get("job", ""), build_id=build_id,
                   org=refs.get("org", ""), repo=refs.get("repo", ""),
                   pull=str(pulls[0].get("number", "")) if pulls else "",
                   path_strategy=gcs.get("path_strategy") or EXPLICIT,
                   default_org=gcs.get("default_org") or "", default_repo=gcs.get("default_repo") or "",
                   path_prefix=gcs.get("path_prefix") or "")

    @property
    def container(self) -> str:
        return split_bucket(self.bucket)[1]

    @property
    def bucket_url(self) -> str:
        scheme, container = split_bucket(self.bucket)
        return f"{scheme}://{container}"

    @property
    def repo_segment(self) -> str:
        return repo_segment(self.org, self.repo, self.path_strategy, self.default_org, self.default_repo)

    @property
    def run_dir(self) -> str:
        """The job run's directory (`path_prefix` applies here only)."""
        if self.job_type == PRESUBMIT:
            path = _join("pr-logs", "pull", self.repo_segment, self.pull, self.job, self.build_id)
        elif self.job_type == BATCH:
            path = _join("pr-logs", "pull", "batch", self.job, self.build_id)
        else:
            path = _join("logs", self.job, self.build_id)
        return _join(self.path_prefix, path)

    @property
    def run_url(self) -> str:
        return f"{self.bucket_url}/{self.run_dir}"

    def path(self, name: str) -> str:
        return f"{self.run_dir}/{name}"

    @property
    def latest_build_paths(self) -> list[str]:
        if self.job_type == PRESUBMIT:
            return [_join("pr-logs", "directory", self.job, LATEST_BUILD),
                    _join("pr-logs", "pull", self.repo_segment, self.pull, self.job, LATEST_BUILD)]
        if self.job_type == BATCH:
            return [_join("pr-logs", "directory", self.job, LATEST_BUILD)]
        return [_join("logs", self.job, LATEST_BUILD)]

    @property
    def alias_path(self) -> str | None:
        """`pr-logs/directory/<job>/<build>.txt` (presubmits only): holds `run_url`."""
        if self.job_type != PRESUBMIT:
            return None
        return _join("pr-logs", "directory", self.job, f"{self.build_id}.txt")
