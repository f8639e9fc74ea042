"""A job's `status.url`, as Prow's `pjutil.JobURL` builds it.

1. A decorated job with a URL prefix (`decoration_config.gcs_configuration.job_url_prefix`, else
   `plank.job_url_prefix_config` for `org/repo`, then `org`, then `*`; periodics use `extra_refs[0]`):
   prefix + `<storage provider>/` (unless `plank.jobURLPrefixDisableAppendStorageProvider`) +
   `<bucket>/<run dir>`, path-joined.
2. Otherwise `plank.job_url_template` (Go template over the job) rendered.
3. Neither (our addition, so a status link is never empty): `PROW_DASHBOARD_URL` + `/view/` + the
   same storage path for a decorated job, or + `/prowjob?prowjob=<id>` for another.
"""
from __future__ import annotations

import logging
import os
import posixpath
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from shared.artifacts.paths import Layout, LayoutError, split_bucket
from shared.gotemplate import TemplateError, TemplateExecError, render_for_job

from .model import ProwJob

log = logging.getLogger("prow.jobs")

DASHBOARD_SETTING = "PROW_DASHBOARD_URL"


def _lookup(table: Any, refs: Mapping[str, Any] | None) -> Any:
    """Prow's per-repo lookup: `org/repo`, then `org`, then `*`."""
    if not isinstance(table, Mapping):
        return None
    refs = refs or {}
    org, repo = refs.get("org", ""), refs.get("repo", "")
    for key in (f"{org}/{repo}", org, "*"):
        if key in table:
            return table[key]
    return None


def job_url_prefix(job: ProwJob, plank: Mapping[str, Any]) -> str:
    gcs = (job.spec.get("decoration_config") or {}).get("gcs_configuration") or {}
    if gcs.get("job_url_prefix"):
        return gcs["job_url_prefix"]
    return _lookup(plank.get("job_url_prefix_config"), job.primary_refs) or ""


def _storage_path(job: ProwJob, *, with_provider: bool) -> str:
    gcs = (job.spec.get("decoration_config") or {}).get("gcs_configuration") or {}
    layout = Layout.for_job(gcs, {"type": job.type, "job": job.job, "buildid": job.build_id,
                                  "refs": job.refs, "extra_refs": job.spec.get("extra_refs")})
    provider, container = split_bucket(gcs["bucket"])
    parts = [provider] if with_provider else []
    return posixpath.join(*parts, container, layout.run_dir)


def _join_url(prefix: str, path: str) -> str:
    parts = urlsplit(prefix)
    return urlunsplit(parts._replace(path=posixpath.join(parts.path or "/", path)))


def job_url(job: ProwJob, plank: Mapping[str, Any] | None, *, dashboard_url: str | None = None) -> str:
    """The job's URL; "" when it cannot be built (logged, as Prow logs and carries on)."""
    plank = plank if isinstance(plank, Mapping) else {}
    decorated = bool(job.spec.get("decoration_config"))
    prefix = job_url_prefix(job, plank) if decorated else ""
    try:
        if prefix:
            with_provider = not plank.get("jobURLPrefixDisableAppendStorageProvider")
            return _join_url(prefix, _storage_path(job, with_provider=with_provider))
        template = plank.get("job_url_template")
        if isinstance(template, str) and template:
            return render_for_job(template, job.to_dict())
        base = (dashboard_url if dashboard_url is not None else os.environ.get(DASHBOARD_SETTING, "")).rstrip("/")
        if not base:
            return ""
        if decorated:
            return _join_url(base + "/view/", _storage_path(job, with_provider=True))
        return f"{base}/prowjob?prowjob={job.name}"
    except (LayoutError, TemplateError, TemplateExecError, KeyError) as exc:
        log.warning("jobs: no URL for %s (%s): %s", job.name, job.job, exc)
        return ""
