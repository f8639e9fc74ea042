"""The ProwJob record (`prow.k8s.io/v1` `ProwJob`, spec §1) and its state machine.

A `ProwJob` keeps Prow's JSON shape: `metadata` (name, namespace, labels, annotations), `spec` and
`status` hold exactly the keys Prow serialises (`status.startTime` camelCase included), so
`to_dict()` is what `mkpj` prints and what `prowjob.json` will hold.

States: triggered → pending → success | failure | aborted | error; triggered may also end directly
in aborted or error. A job is complete once `status.completionTime` is set, and nothing moves a
complete job again (`InvalidTransition`). `aborted` may be written before completion by another
actor (trigger, dedup); plank (reconcile) then deletes the pod and completes it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

API_VERSION = "prow.k8s.io/v1"
KIND = "ProwJob"

SCHEDULING, TRIGGERED, PENDING = "scheduling", "triggered", "pending"
SUCCESS, FAILURE, ABORTED, ERROR = "success", "failure", "aborted", "error"
STATES = (SCHEDULING, TRIGGERED, PENDING, SUCCESS, FAILURE, ABORTED, ERROR)
FINAL_STATES = frozenset({SUCCESS, FAILURE, ABORTED, ERROR})

PRESUBMIT, POSTSUBMIT, PERIODIC, BATCH = "presubmit", "postsubmit", "periodic", "batch"
JOB_TYPES = (PRESUBMIT, POSTSUBMIT, PERIODIC, BATCH)

KUBERNETES_AGENT = "kubernetes"
DEFAULT_CLUSTER = "default"

# Labels and annotations Prow sets (pkg/kube/prowjob.go names).
CREATED_BY_PROW = "created-by-prow"
TYPE_LABEL = "prow.k8s.io/type"
JOB_LABEL = "prow.k8s.io/job"
CONTEXT_LABEL = "prow.k8s.io/context"
ID_LABEL = "prow.k8s.io/id"
BUILD_ID_LABEL = "prow.k8s.io/build-id"
ORG_LABEL = "prow.k8s.io/refs.org"
REPO_LABEL = "prow.k8s.io/refs.repo"
BASE_REF_LABEL = "prow.k8s.io/refs.base_ref"
PULL_LABEL = "prow.k8s.io/refs.pull"
IS_OPTIONAL_LABEL = "prow.k8s.io/is-optional"
EVENT_GUID_LABEL = "event-GUID"
JOB_ANNOTATION = "prow.k8s.io/job"
CONTEXT_ANNOTATION = "prow.k8s.io/context"

# Plank's descriptions.
DESCRIPTION_TRIGGERED = "Job triggered."


class InvalidTransition(ValueError):
    """A state change Prow never makes (out of a complete job, or to an unknown state)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def format_time(when: datetime) -> str:
    """metav1.Time's JSON: RFC 3339 in UTC, whole seconds."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(eq=False)
class ProwJob:
    name: str
    namespace: str = "default"
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    created: str = ""              # the creation snowflake: orders jobs in the store's indexes
    etag: str | None = None        # the stored version this object was read at

    # -- reading -------------------------------------------------------------------------------

    @property
    def job(self) -> str:
        return self.spec.get("job", "")

    @property
    def type(self) -> str:
        return self.spec.get("type", "")

    @property
    def agent(self) -> str:
        return self.spec.get("agent") or KUBERNETES_AGENT

    @property
    def cluster(self) -> str:
        return self.spec.get("cluster") or DEFAULT_CLUSTER

    @property
    def pod_namespace(self) -> str:
        return self.spec.get("namespace") or "default"

    @property
    def state(self) -> str:
        return self.status.get("state", "")

    @property
    def description(self) -> str:
        return self.status.get("description", "")

    @property
    def build_id(self) -> str:
        return self.status.get("build_id", "")

    @property
    def complete(self) -> bool:
        return bool(self.status.get("completionTime"))

    @property
    def refs(self) -> dict | None:
        return self.spec.get("refs")

    @property
    def primary_refs(self) -> dict | None:
        """`refs`, else the first extra ref (what Prow's labels and periodics' URLs use)."""
        return self.refs or (self.spec.get("extra_refs") or [None])[0]

    @property
    def pull_numbers(self) -> list[int]:
        return [p["number"] for p in (self.refs or {}).get("pulls") or [] if "number" in p]

    @property
    def repo(self) -> str:
        refs = self.primary_refs
        return f"{refs.get('org', '')}/{refs.get('repo', '')}" if refs else ""

    # -- changing ------------------------------------------------------------------------------

    def set_state(self, state: str, description: str | None = None, *, now: datetime | None = None) -> None:
        """Move to `state` (final states complete the job, as plank does)."""
        if state not in STATES:
            raise InvalidTransition(f"unknown state {state!r}")
        if self.complete:
            raise InvalidTransition(f"job {self.name} is complete ({self.state}); it cannot become {state}")
        now = now or utc_now()
        self.status["state"] = state
        if description is not None:
            self.status["description"] = description
        if state == PENDING and not self.status.get("pendingTime"):
            self.status["pendingTime"] = format_time(now)
        if state in FINAL_STATES and state != ABORTED:
            self.status["completionTime"] = format_time(now)

    def complete_abort(self, *, now: datetime | None = None) -> None:
        """Finish an abort another actor requested (plank sets completionTime after the pod is gone)."""
        if self.state != ABORTED or self.complete:
            raise InvalidTransition(f"job {self.name} is {self.state}, not an unfinished abort")
        self.status["completionTime"] = format_time(now or utc_now())

    # -- serialising ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        if self.labels:
            metadata["labels"] = dict(self.labels)
        if self.annotations:
            metadata["annotations"] = dict(self.annotations)
        return {"kind": KIND, "apiVersion": API_VERSION, "metadata": metadata,
                "spec": copy.deepcopy(self.spec), "status": copy.deepcopy(self.status)}

    @classmethod
    def from_dict(cls, doc: dict[str, Any], *, created: str = "", etag: str | None = None) -> "ProwJob":
        meta = doc.get("metadata") or {}
        return cls(name=meta.get("name", ""), namespace=meta.get("namespace", "default"),
                   labels=dict(meta.get("labels") or {}), annotations=dict(meta.get("annotations") or {}),
                   spec=copy.deepcopy(doc.get("spec") or {}), status=copy.deepcopy(doc.get("status") or {}),
                   created=created, etag=etag)

    def copy(self) -> "ProwJob":
        return ProwJob.from_dict(self.to_dict(), created=self.created, etag=self.etag)
