"""`launch`: start the pod of one job (plank's `triggered` step), idempotently.

For a message `{"id": job}` from queue `prowjobs`:

1. Read the record. Complete, pending or aborted: nothing to do (a redelivery, or reconcile's
   business). Not the `kubernetes` agent: not ours.
2. Find the job's cluster (`cluster:`, else `default`). Unknown: the job ends in `error`,
   "Terminal error: unknown cluster alias ..." naming the clusters that exist.
3. Until the job is claimed: admit it under plank's global `max_concurrency`, the job's
   `max_concurrency` and its job queue's capacity (shared/jobs/limits.py). A job over a limit stays
   `triggered`, and the message is sent again with a visibility delay (`WAIT_SECONDS`, 10 s as
   plank re-checks) before this one is deleted: it waits, it is not dropped.
4. Claim: draw a build id unique for the job name and write it, with `pod_name`, into the record
   by an ETag-conditional update. Of two launchers racing on one job one claim wins; the other
   reads the winner's build id and goes on with it, so both would build the very same pod.
5. Create the pod, named after the job. A 409 means an earlier attempt created it: the pod's
   build-id label is taken and the job moves on. A 4xx rejection ends the job in `error`
   ("Pod can not be created: ..."). A 5xx, 429 or timeout raises: the host redelivers the message
   and the next attempt resumes at 5 with the same build id, so there is still one pod.
6. Move the job to `pending` ("Job triggered.", `pendingTime`), ETag-conditional; if someone moved
   it meanwhile, their state stands.
7. Publish the job to the dashboard (`publish`, shared.dashboard.index.publish_job), best effort: a
   failure is logged and marked in the job, and the next reconcile tick publishes it.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from shared.jobs.limits import ConcurrencySlots, QueueUndefined, limits_for
from shared.jobs.model import (ABORTED, DESCRIPTION_TRIGGERED, ERROR, KUBERNETES_AGENT, PENDING, TRIGGERED,
                               InvalidTransition, ProwJob)
from shared.jobs.queue import parse_launch_message
from shared.jobs.store import JobNotFound, JobStore
from shared.jobs.model import BUILD_ID_LABEL
from shared.kube.clusters import ClusterUnavailable, Clusters, PodExists, PodRejected, UnknownCluster
from shared.kube.pods import Decorator, PodSpecMissing, pod_for_job
from shared.logcontext import job_fields, log_fields

log = logging.getLogger("prow.launch")

WAIT_SECONDS = 10


@dataclass(frozen=True)
class LaunchResult:
    job_id: str
    outcome: str          # launched | existed | waiting | done | error | missing | skipped | dropped
    detail: str = ""
    delay: int = 0


class Launcher:
    def __init__(self, *, store: JobStore, clusters: Clusters, plank: Callable[[], Any],
                 requeue: Callable[[str, int], None], decorate: Decorator | None = None,
                 wait_seconds: int = WAIT_SECONDS, publish: Callable[[ProwJob], None] | None = None):
        self.store = store
        self.slots = ConcurrencySlots(store)
        self.clusters = clusters
        self.plank = plank
        self.requeue = requeue
        self.decorate = decorate
        self.wait_seconds = wait_seconds
        self.publish = publish

    def run(self, text: str | bytes) -> LaunchResult:
        try:
            job_id = parse_launch_message(text)
        except ValueError as exc:
            log.error("launch: dropping an unreadable prowjobs message (%s): %.200r", exc, text)
            return LaunchResult("", "dropped", str(exc))
        with log_fields(job=job_id):
            try:
                return self.launch(job_id)
            except JobNotFound:
                log.warning("launch: job %s has no record (removed?); nothing to launch", job_id)
                return LaunchResult(job_id, "missing")

    def launch(self, job_id: str) -> LaunchResult:
        job = self.store.get(job_id)
        with log_fields(**job_fields(job)):
            return self._launch(job_id, job)

    def _launch(self, job_id: str, job: ProwJob) -> LaunchResult:
        if job.complete or job.state in (PENDING, ABORTED):
            return LaunchResult(job_id, "done", job.state)
        if job.state != TRIGGERED:
            return LaunchResult(job_id, "skipped", f"state {job.state!r}")
        if job.agent != KUBERNETES_AGENT:
            return LaunchResult(job_id, "skipped", f"agent {job.agent!r} is not run here")

        try:
            cluster = self.clusters.get(job.cluster)
        except UnknownCluster as exc:
            return self._fail(job, f"Terminal error: {exc}.")

        if not job.build_id:
            try:
                limits = limits_for(job, self.plank())
            except QueueUndefined as exc:
                log.warning("launch: %s (%s) waits: %s", job.name, job.job, exc)
                return self._wait(job, str(exc))
            admission = self.slots.admit(job, limits)
            if not admission.admitted:
                return self._wait(job, admission.reason)
            job = self._claim(job)
            if job.state != TRIGGERED:
                return LaunchResult(job_id, "done", job.state)

        try:
            pod = pod_for_job(job, decorate=self.decorate)
        except PodSpecMissing as exc:
            return self._fail(job, f"Pod can not be created: {exc}")
        outcome = "launched"
        try:
            cluster.create_pod(job.pod_namespace, pod)
        except PodExists:
            outcome = "existed"
            existing = cluster.get_pod(job.pod_namespace, pod["metadata"]["name"])
            label = ((existing or {}).get("metadata") or {}).get("labels", {}).get(BUILD_ID_LABEL)
            if label and label != job.build_id:
                log.warning("launch: pod of %s carries build id %s, the record %s; keeping the pod's",
                            job.name, label, job.build_id)
                job.status["build_id"] = label
        except PodRejected as exc:
            return self._fail(job, f"Pod can not be created: {exc}")
        except ClusterUnavailable:
            log.warning("launch: cluster %s unavailable for %s; the host will redeliver", cluster.name, job.name)
            raise
        final = self._mark_pending(job)
        self._publish(final)
        log.info("launch: %s (%s) %s on %s/%s as build %s; now %s", job.name, job.job, outcome, cluster.name,
                 job.pod_namespace, final.build_id, final.state)
        return LaunchResult(job_id, outcome, final.build_id)

    # -- steps ----------------------------------------------------------------------------------

    def _publish(self, job: ProwJob) -> None:
        if self.publish is not None:
            from shared.dashboard.index import publish_best_effort
            publish_best_effort(job, self.store, publish=self.publish)

    def _wait(self, job: ProwJob, reason: str) -> LaunchResult:
        log.info("launch: %s (%s) waits %d s: %s", job.name, job.job, self.wait_seconds, reason)
        self.requeue(job.name, self.wait_seconds)
        return LaunchResult(job.name, "waiting", reason, delay=self.wait_seconds)

    def _claim(self, job: ProwJob) -> ProwJob:
        build_id = self.store.reserve_build_id(job)

        def claim(current: ProwJob) -> bool:
            if current.state != TRIGGERED or current.build_id or current.complete:
                return False              # claimed (or moved) by someone else: use theirs
            current.status["build_id"] = build_id
            current.status["pod_name"] = current.name
            return True

        return self.store.modify(job.name, claim)

    def _mark_pending(self, job: ProwJob) -> ProwJob:
        build_id = job.build_id

        def pending(current: ProwJob) -> bool:
            if current.state != TRIGGERED or current.complete:
                return False
            current.status["build_id"] = build_id
            current.status["pod_name"] = current.name
            current.set_state(PENDING, DESCRIPTION_TRIGGERED)
            return True

        return self.store.modify(job.name, pending)

    def _fail(self, job: ProwJob, description: str) -> LaunchResult:
        def error(current: ProwJob) -> bool:
            if current.complete or current.state != TRIGGERED:
                return False
            current.set_state(ERROR, description)
            return True

        try:
            final = self.store.modify(job.name, error)
        except InvalidTransition:
            final = self.store.get(job.name)
        log.warning("launch: %s (%s) is %s: %s", job.name, job.job, final.state, final.description)
        if final.state == ERROR:
            self._publish(final)
        return LaunchResult(job.name, "error" if final.state == ERROR else "done", final.description)


_default: Launcher | None = None
_default_key: tuple | None = None
_default_lock = threading.Lock()


def default_launcher() -> Launcher:
    """The process-wide launcher for the current settings (storage, clusters, config)."""
    global _default, _default_key
    from shared.jobs.queue import JobQueue
    from shared.kube.clusters import default_clusters
    from shared.storage import default_clients
    clients, clusters = default_clients(), default_clusters()
    with _default_lock:
        if _default is None or _default_key != (id(clients), id(clusters)):
            from shared.config.source import get_config
            queue = JobQueue(clients)

            def plank() -> Any:
                return get_config().prow.raw.get("plank")

            from shared.artifacts.decorate import default_decorator
            from shared.dashboard.index import publish_job
            _default = Launcher(publish=publish_job, store=JobStore(clients), clusters=clusters, plank=plank,
                                requeue=lambda job_id, delay: queue.enqueue(job_id, delay=delay),
                                decorate=default_decorator(clients))
            _default_key = (id(clients), id(clusters))
        return _default


def launch_message(text: str | bytes) -> LaunchResult:
    return default_launcher().run(text)
