"""Starting jobs from an event, idempotently: the record in the JobStore, its id on queue `prowjobs`.

A delivery runs again when an attempt fails part-way (queues deliver at least once), so the job id is
not random as Prow's: it is a UUID derived from the delivery id and the job name
(`event_job_id`). The second attempt derives the same id, finds the record and only queues it again
(`launch` ignores a job it already started), so one delivery makes one job per name, one pod.

Aborting (`abort_pull_jobs`) is what trigger does on a push, close or draft: the unfinished presubmits
of the PR move to `aborted` with "Aborted by trigger plugin." through the store's ETag-conditional
update. The record then says all the reconciler needs: state `aborted` without `completionTime`
means "delete the pod named `status.pod_name` (the job id) in cluster `spec.cluster`, namespace
`spec.namespace`, if it exists, then complete the job"; a job aborted while still `triggered` has no
pod, and `launch` never starts an aborted job.
"""
from __future__ import annotations

import logging
import uuid
from typing import Callable, Iterable, Mapping

from shared.config.jobs import Postsubmit, Presubmit

from .create import new_postsubmit, new_presubmit
from .model import ABORTED, EVENT_GUID_LABEL, PRESUBMIT, ProwJob
from .queue import JobQueue
from .store import JobStore

log = logging.getLogger("prow.jobs")

ABORTED_BY_TRIGGER = "Aborted by trigger plugin."
_JOB_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "https://prow.k8s.io/prowjobs/event")


def event_job_id(delivery_id: str, job_name: str) -> str:
    """The id of the job `job_name` started by delivery `delivery_id` (a UUID, valid as a pod name)."""
    return str(uuid.uuid5(_JOB_IDS, f"{delivery_id}\n{job_name}"))


class JobStarter:
    """Creates job records and queues them for `launch`."""

    def __init__(self, store: JobStore, queue: JobQueue, *, namespace: str = "default",
                 publish: Callable[[list[ProwJob]], None] | None = None):
        self.store = store
        self.queue = queue
        self.namespace = namespace
        # the dashboard's publish_jobs, best effort (a new job shows at once); one call per batch of jobs
        self.publish = publish

    @classmethod
    def default(cls, namespace: str = "default") -> "JobStarter":
        from shared.storage import default_clients
        from shared.dashboard.index import publish_jobs
        clients = default_clients()
        return cls(JobStore(clients), JobQueue(clients), namespace=namespace, publish=publish_jobs)

    def start(self, job: ProwJob) -> ProwJob:
        """Store `job` unless a record with its id exists, then queue its id. Returns the stored job."""
        return self.start_all([job])[0]

    def start_all(self, jobs: Iterable[ProwJob]) -> list[ProwJob]:
        """`start` for several jobs, publishing the new ones to the dashboard in one go."""
        from .store import JobExists
        stored, created = [], []
        for job in jobs:
            existing = self.store.find(job.name)
            if existing is None:
                try:
                    existing = self.store.create(job)
                    created.append(existing)
                    log.info("jobs: created %s (%s %s)", job.name, job.type, job.job)
                except JobExists:
                    existing = self.store.get(job.name)
            else:
                log.info("jobs: %s (%s) exists from an earlier attempt; queueing it again", job.name, job.job)
            stored.append(existing)
        if self.publish is not None and created:
            from shared.dashboard.index import publish_all_best_effort
            publish_all_best_effort(created, self.store, publish=self.publish)
        for existing in stored:
            self.queue.enqueue(existing.name)
        return stored

    def start_presubmits(self, jobs: Iterable[Presubmit], refs: Mapping, *, delivery_id: str,
                         extra_labels: Mapping[str, str] | None = None) -> list[ProwJob]:
        records = []
        for job in jobs:
            record = new_presubmit(job, refs, event_guid=delivery_id, extra_labels=extra_labels,
                                   namespace=self.namespace)
            record.name = event_job_id(delivery_id, job.name)
            records.append(record)
        return self.start_all(records)

    def start_postsubmits(self, jobs: Iterable[Postsubmit], refs: Mapping, *, delivery_id: str) -> list[ProwJob]:
        records = []
        for job in jobs:
            record = new_postsubmit(job, refs, event_guid=delivery_id, namespace=self.namespace)
            record.name = event_job_id(delivery_id, job.name)
            records.append(record)
        return self.start_all(records)

    def abort_pull_jobs(self, org: str, repo: str, number: int, *, delivery_id: str = "",
                        description: str = ABORTED_BY_TRIGGER) -> list[str]:
        """Abort the unfinished presubmits of org/repo#number, except those this delivery started
        (a retried delivery must not abort the jobs its first attempt created). Returns their ids."""
        aborted = []
        for job in self.store.for_pull(f"{org}/{repo}", number):
            if job.type != PRESUBMIT or job.complete or job.state == ABORTED:
                continue
            if delivery_id and job.labels.get(EVENT_GUID_LABEL) == delivery_id:
                continue

            def abort(current: ProwJob) -> bool:
                if current.complete or current.state == ABORTED:
                    return False
                current.set_state(ABORTED, description)
                return True

            final = self.store.modify(job.name, abort)
            if final.state == ABORTED:
                aborted.append(job.name)
                log.info("jobs: aborted %s (%s) of %s/%s#%s", job.name, job.job, org, repo, number)
        return aborted
