"""The pod of a job, as plank builds it (`decorate.ProwJobToPod`) for an undecorated job.

`pod_for_job(job)` copies the job's `pod_spec`, sets what Prow sets (restartPolicy Never, a single
container named `test`, no service-account token unless asked for, terminationMessagePolicy
FallbackToLogsOnError), gives every container the downward-API environment (spec §5.2), and names
and labels the pod: name = the job id (so a second create of the same job is a 409), labels = the
job's labels plus `prow.k8s.io/id` and `prow.k8s.io/build-id`, annotations = the job's.

Decoration (clonerefs, initupload, entrypoint wrapping, sidecar: issue 6) plugs in as a `decorate`
callable: `decorate(pod_spec, job, env) -> None`, mutating the copied pod spec in place. Without one,
every job's pod is built undecorated and each container gets `env` appended.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Callable

from shared.artifacts.records import refs_string
from shared.jobs.create import labels_and_annotations
from shared.jobs.model import BUILD_ID_LABEL, ID_LABEL, PERIODIC, PRESUBMIT, ProwJob

TEST_CONTAINER = "test"
Decorator = Callable[[dict, ProwJob, dict], None]


class PodSpecMissing(ValueError):
    pass


def pull_refs_string(refs: dict) -> str:
    """Prow's canonical refs: `base_ref[:base_sha]` then `,number:sha[:ref]` per pull."""
    return refs_string(refs)


def job_spec_json(job: ProwJob, build_id: str) -> str:
    """`JOB_SPEC`: downwardapi.JobSpec as JSON (empty fields omitted, as Go's omitempty)."""
    spec: dict[str, Any] = {"type": job.type, "job": job.job, "buildid": build_id, "prowjobid": job.name}
    for key in ("refs", "extra_refs", "decoration_config"):
        if job.spec.get(key):
            spec[key] = job.spec[key]
    return json.dumps(spec, separators=(",", ":"))


def downward_env(job: ProwJob, build_id: str) -> dict[str, str]:
    env = {"CI": "true", "JOB_NAME": job.job, "JOB_TYPE": job.type, "PROW_JOB_ID": job.name,
           "BUILD_ID": build_id, "BUILD_NUMBER": build_id, "JOB_SPEC": job_spec_json(job, build_id)}
    refs = job.refs
    if job.type == PERIODIC or not refs:
        return env
    env.update({"REPO_OWNER": refs.get("org", ""), "REPO_NAME": refs.get("repo", ""),
                "PULL_BASE_REF": refs.get("base_ref", ""), "PULL_BASE_SHA": refs.get("base_sha", ""),
                "PULL_REFS": pull_refs_string(refs), "SRC_HOST": "github.com",
                "SRC_BASE": f"{refs.get('org', '')}/{refs.get('repo', '')}"})
    pulls = refs.get("pulls") or []
    if job.type == PRESUBMIT and pulls:
        env.update({"PULL_NUMBER": str(pulls[0].get("number", "")), "PULL_PULL_SHA": pulls[0].get("sha", ""),
                    "PULL_HEAD_REF": pulls[0].get("head_ref", ""), "PULL_TITLE": pulls[0].get("title", "")})
    return env


def _kube_env(env: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": env[k]} for k in sorted(env)]


def pod_for_job(job: ProwJob, build_id: str | None = None, *, decorate: Decorator | None = None) -> dict[str, Any]:
    """The pod to create for `job` (API JSON shape, camelCase), for build `build_id`."""
    build_id = build_id if build_id is not None else job.build_id
    if not job.spec.get("pod_spec"):
        raise PodSpecMissing(f"prowjob {job.name!r} lacks a pod spec")
    spec = copy.deepcopy(job.spec["pod_spec"])
    spec["restartPolicy"] = "Never"
    containers = spec.get("containers") or []
    if len(containers) == 1:
        containers[0]["name"] = TEST_CONTAINER
    if spec.get("automountServiceAccountToken") is None and not spec.get("serviceAccountName"):
        spec["automountServiceAccountToken"] = False
    env = downward_env(job, build_id)
    if decorate is None:
        for container in containers:
            container["env"] = list(container.get("env") or []) + _kube_env(env)
    else:
        decorate(spec, job, env)
    for container in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
        container.setdefault("terminationMessagePolicy", "FallbackToLogsOnError")
    labels, annotations = labels_and_annotations(job.spec, {**job.labels, ID_LABEL: job.name,
                                                            BUILD_ID_LABEL: build_id}, job.annotations)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod_name(job), "labels": labels, "annotations": annotations},
            "spec": spec}


def pod_name(job: ProwJob) -> str:
    """The pod's name: the job id (a UUID: a valid, unique pod name)."""
    return job.name
