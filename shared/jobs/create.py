"""Job records from the loaded config, as Prow's pjutil builds them (`NewPresubmit`, `PostsubmitSpec`,
`PeriodicSpec`, `NewProwJob`, `decorate.LabelsAndAnnotationsForSpec`).

The config models (shared/config/jobs.py) arrive already defaulted: `cluster` is `default` when
unset, `namespace` falls back to `pod_namespace`, presets are merged into `spec`, and for decorated
jobs `decoration_config` is the merge of the job's own and plank's defaults. So a spec here only
copies fields; nothing is defaulted twice.
"""
from __future__ import annotations

import copy
import posixpath
import uuid
from datetime import datetime
from typing import Any, Mapping

from shared.config.jobchecks import _label_value_problems as label_value_problems
from shared.config.jobs import JobBase, Periodic, Postsubmit, Presubmit

from .buildid import new_build_id
from .model import (BASE_REF_LABEL, BATCH, CONTEXT_ANNOTATION, CONTEXT_LABEL, CREATED_BY_PROW,
                    EVENT_GUID_LABEL, IS_OPTIONAL_LABEL, JOB_ANNOTATION, JOB_LABEL, ORG_LABEL, PERIODIC,
                    POSTSUBMIT, PRESUBMIT, PULL_LABEL, REPO_LABEL, TRIGGERED, TYPE_LABEL, ProwJob,
                    format_time, utc_now)

GITHUB_URL = "https://github.com"
_LABEL_VALUE_MAX = 63


def pull_refs(org: str, repo: str, *, base_ref: str, base_sha: str, number: int, sha: str, author: str = "",
              head_ref: str = "", title: str = "", github_url: str = GITHUB_URL) -> dict[str, Any]:
    """A presubmit's refs for one pull request (pjutil's createRefs)."""
    repo_link = f"{github_url}/{org}/{repo}"
    pull: dict[str, Any] = {"number": number, "author": author, "sha": sha}
    if title:
        pull["title"] = title
    if head_ref:
        pull["head_ref"] = head_ref
    pull.update({"link": f"{repo_link}/pull/{number}",
                 "commit_link": f"{repo_link}/pull/{number}/commits/{sha}",
                 "author_link": f"{github_url}/{author}"})
    return {"org": org, "repo": repo, "repo_link": repo_link, "base_ref": base_ref, "base_sha": base_sha,
            "base_link": f"{repo_link}/commit/{base_sha}", "pulls": [pull]}


def push_refs(org: str, repo: str, *, base_ref: str, base_sha: str, github_url: str = GITHUB_URL) -> dict[str, Any]:
    """A postsubmit's refs: the pushed branch at the pushed commit, no pulls."""
    repo_link = f"{github_url}/{org}/{repo}"
    return {"org": org, "repo": repo, "repo_link": repo_link, "base_ref": base_ref, "base_sha": base_sha,
            "base_link": f"{repo_link}/commit/{base_sha}"}


def _set(spec: dict, key: str, value: Any) -> None:
    """Go's `omitempty`: zero values are not serialised."""
    if value not in (None, "", 0, False, [], {}):
        spec[key] = copy.deepcopy(value)


def _spec_from_base(job: JobBase, job_type: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": job_type, "agent": job.agent}
    _set(spec, "cluster", job.cluster)
    _set(spec, "namespace", job.namespace)
    spec["job"] = job.name
    extra_refs = [_decorate_refs(ref, job) for ref in job.extra_refs] if job.decorate else job.extra_refs
    _set(spec, "extra_refs", extra_refs)
    _set(spec, "max_concurrency", job.max_concurrency)
    _set(spec, "error_on_eviction", job.error_on_eviction)
    _set(spec, "pod_spec", job.spec)
    if job.decorate:
        _set(spec, "decoration_config", job.decoration_config)
    _set(spec, "reporter_config", job.reporter_config)
    _set(spec, "rerun_auth_config", job.rerun_auth_config)
    _set(spec, "hidden", job.hidden)
    _set(spec, "prowjob_defaults", job.prowjob_defaults)
    _set(spec, "job_queue_name", job.job_queue_name)
    return spec


def _decorate_refs(refs: Mapping[str, Any], job: JobBase) -> dict[str, Any]:
    refs = dict(refs)
    blobless = (job.decoration_config or {}).get("blobless_fetch")
    if refs.get("blobless_fetch") is None and blobless is not None:
        refs["blobless_fetch"] = blobless
    return refs


def _complete_primary_refs(refs: Mapping[str, Any], job: JobBase) -> dict[str, Any]:
    refs = copy.deepcopy(dict(refs))
    for key in ("path_alias", "clone_uri", "skip_submodules", "clone_depth", "skip_fetch_head"):
        value = getattr(job, key)
        if value:
            refs[key] = value
    return _decorate_refs(refs, job) if job.decorate else refs


def presubmit_spec(job: Presubmit, refs: Mapping[str, Any], *, batch: bool = False) -> dict[str, Any]:
    spec = _spec_from_base(job, BATCH if batch else PRESUBMIT)
    _set(spec, "context", job.context)
    if not batch:
        _set(spec, "report", not job.skip_report)
        _set(spec, "rerun_command", job.rerun_command)
    if job.jenkins_spec and "github_branch_source_job" in job.jenkins_spec:
        spec["jenkins_spec"] = {"github_branch_source_job": job.jenkins_spec["github_branch_source_job"]}
    spec["refs"] = _complete_primary_refs(refs, job)
    return _ordered(spec)


def postsubmit_spec(job: Postsubmit, refs: Mapping[str, Any]) -> dict[str, Any]:
    spec = _spec_from_base(job, POSTSUBMIT)
    _set(spec, "context", job.context)
    _set(spec, "report", not job.skip_report)
    if job.jenkins_spec and "github_branch_source_job" in job.jenkins_spec:
        spec["jenkins_spec"] = {"github_branch_source_job": job.jenkins_spec["github_branch_source_job"]}
    spec["refs"] = _complete_primary_refs(refs, job)
    return _ordered(spec)


def periodic_spec(job: Periodic) -> dict[str, Any]:
    spec = _spec_from_base(job, PERIODIC)
    spec["report"] = True          # periodics always report (Prow cannot turn it off per job)
    return _ordered(spec)


_SPEC_ORDER = ("type", "agent", "cluster", "namespace", "job", "refs", "extra_refs", "report", "context",
               "rerun_command", "max_concurrency", "error_on_eviction", "pod_spec", "decoration_config",
               "reporter_config", "rerun_auth_config", "hidden", "prowjob_defaults", "job_queue_name",
               "jenkins_spec")


def _ordered(spec: dict[str, Any]) -> dict[str, Any]:
    """Prow's field order (ProwJobSpec), so printed jobs read like Prow's."""
    return {key: spec[key] for key in sorted(spec, key=lambda k: _SPEC_ORDER.index(k) if k in _SPEC_ORDER else 99)}


def _valid_label_value(value: str) -> bool:
    return not label_value_problems(value)


def _go_base(path: str) -> str:
    """Go's filepath.Base."""
    trimmed = path.rstrip("/")
    if not trimmed:
        return "/" if path else "."
    return posixpath.basename(trimmed)


def labels_and_annotations(spec: Mapping[str, Any], extra_labels: Mapping[str, str] | None = None,
                           extra_annotations: Mapping[str, str] | None = None
                           ) -> tuple[dict[str, str], dict[str, str]]:
    """Prow's labels and annotations for a job spec (extra ones win over the automatic ones).

    The job and context labels are cut to 63 characters (trailing `._-` stripped), the annotations
    keep the full values; any label value still invalid becomes its path basename if that is valid,
    else the label is dropped.
    """
    labels = {CREATED_BY_PROW: "true", TYPE_LABEL: spec.get("type", "")}
    annotations: dict[str, str] = {}
    for key, value in ((JOB_LABEL, spec.get("job", "")), (CONTEXT_LABEL, spec.get("context", ""))):
        labels[key] = value[:_LABEL_VALUE_MAX].rstrip("._-") if len(value) > _LABEL_VALUE_MAX else value
        annotations[key] = value
    refs = spec.get("refs") or (spec.get("extra_refs") or [None])[0]
    if refs:
        labels[ORG_LABEL] = refs.get("org", "")
        labels[REPO_LABEL] = refs.get("repo", "")
        labels[BASE_REF_LABEL] = refs.get("base_ref", "")
        pulls = refs.get("pulls") or []
        if pulls:
            labels[PULL_LABEL] = str(pulls[0].get("number", ""))
    labels.update(extra_labels or {})
    for key, value in list(labels.items()):
        if not _valid_label_value(value):
            base = _go_base(value)
            if _valid_label_value(base):
                labels[key] = base
            else:
                del labels[key]
    annotations.update(extra_annotations or {})
    return labels, annotations


def new_prowjob(spec: Mapping[str, Any], extra_labels: Mapping[str, str] | None = None,
                extra_annotations: Mapping[str, str] | None = None, *, namespace: str = "default",
                now: datetime | None = None, name: str | None = None) -> ProwJob:
    """pjutil.NewProwJob: a triggered job with a random UUID name and `startTime` now."""
    labels, annotations = labels_and_annotations(spec, extra_labels, extra_annotations)
    spec = copy.deepcopy(dict(spec))
    slack = (spec.get("reporter_config") or {}).get("slack")
    if isinstance(slack, dict) and slack.get("report") is None:
        states = slack.get("job_states_to_report")
        slack["report"] = not (states is not None and len(states) == 0)
    return ProwJob(name=name or str(uuid.uuid4()), namespace=namespace, labels=labels, annotations=annotations,
                   spec=spec, status={"startTime": format_time(now or utc_now()), "state": TRIGGERED},
                   created=new_build_id())


def new_presubmit(job: Presubmit, refs: Mapping[str, Any], *, event_guid: str = "",
                  extra_labels: Mapping[str, str] | None = None, namespace: str = "default",
                  now: datetime | None = None) -> ProwJob:
    """pjutil.NewPresubmit: the job's labels, `event-GUID` and `is-optional`, its annotations."""
    labels = {**job.labels, **(extra_labels or {}), EVENT_GUID_LABEL: event_guid,
              IS_OPTIONAL_LABEL: "true" if job.optional else "false"}
    return new_prowjob(presubmit_spec(job, refs), labels, dict(job.annotations), namespace=namespace, now=now)


def new_postsubmit(job: Postsubmit, refs: Mapping[str, Any], *, event_guid: str = "",
                   extra_labels: Mapping[str, str] | None = None, namespace: str = "default",
                   now: datetime | None = None) -> ProwJob:
    labels = {**job.labels, **(extra_labels or {})}
    if event_guid:
        labels[EVENT_GUID_LABEL] = event_guid
    return new_prowjob(postsubmit_spec(job, refs), labels, dict(job.annotations), namespace=namespace, now=now)


def new_periodic(job: Periodic, *, extra_labels: Mapping[str, str] | None = None, namespace: str = "default",
                 now: datetime | None = None) -> ProwJob:
    return new_prowjob(periodic_spec(job), {**job.labels, **(extra_labels or {})}, dict(job.annotations),
                       namespace=namespace, now=now)
