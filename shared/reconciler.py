"""`reconcile`: plank's sync of job states from pods, then crier's GitHub reports. Level-triggered.

One tick:
1. Read the unfinished jobs (`JobStore.unfinished()`) and the complete ones not yet reported.
2. Dedup (pjutil.TerminateOlderJobs): of unfinished presubmits with the same job name, refs
   (`org/repo@base_ref` and the pull numbers; SHAs ignored) and extra refs, all but the newest
   `startTime` become `aborted` with `prev_report_states["github-reporter"] = "aborted"` written
   with it: the newer run owns the context. The description "Aborted as the newer version of this
   job is running." is what Prow deployments show on such jobs; the stored Prow source
   (pkg/pjutil/abort.go) sets only the state, so this text is not checked against the source.
   A tie on `startTime` (second-granular) keeps the later created run; Prow keeps the first by name.
3. List the pods: ONE list call per (cluster, namespace) with `created-by-prow=true`, matched to
   jobs by pod name. A cluster that fails to answer leaves its jobs for the next tick.
4. Move each kubernetes-agent job as plank's syncPendingJob/syncTriggeredJob/syncAbortedJob do
   (spec §1.6), each change an ETag-conditional `modify` that re-checks the state and build id it
   was decided on, so two ticks at once cannot both act: the loser sees the change and stops.
   - triggered with a pod (created, but the record update was lost): pending with the pod's build id;
     triggered without a pod for `STUCK_SECONDS` while no limit holds it back: its launch message
     was lost or poisoned, so it is queued again (launch is idempotent).
   - pending, pod missing: a new build id, then the pod again through the launcher's pod builder and
     decorator (`shared.kube.pods.pod_for_job(job, decorate=launcher.decorate)`).
   - phases, evictions, NodeLost, Unknown (revived up to `plank.max_revivals`, default 3),
     OOMKilled, pending/unscheduled/running timeouts, a pod deleted under the job.
   - aborted: pod deleted (404 is fine), job completed.
   `status.url` is recomputed on every pending sync (shared/jobs/joburl.py).
5. Report every job whose reported state differs from its state (shared/reporting.py); a failed
   report is left as it is and tried again next tick. A complete job leaves the `unreported`
   index once its final state is reported (or it is not a job that reports). The jobs of one pull
   request (or, without one, one commit) are reported under its report lease
   (shared/jobs/reportlock.py: Prow's per-PR lock, in Table storage), each re-read after the
   lease is taken, so two ticks at once post each status once and leave one failure comment; a
   tick that finds the lease held leaves those reports to the next tick.

Seams for the other parts of the tick (each called at one place, with the jobs as stored):
`on_complete(job, pod)` after a job became complete here (finished.json for lost pods: issue 6),
`on_changed(jobs)` once after all state changes of the tick (dashboard indexes).

`on_complete` is level-triggered as the GitHub reporter is: once it succeeded the job records
`prev_report_states["gcsreporter"]` (crier's name for it) with the final state, and a complete job
leaves the `unreported` index only once both reporters are done, so a failed artifact write is tried
again by the next tick (with the pod, if it is still there) from that same bounded index. On a
pending/running timeout the job is completed and `on_complete` runs (an undecorated job's log is
saved) BEFORE the pod is deleted; a failed delete leaves the pod of a complete job to sinker.

The dashboard hears of a job from whoever changed it (launcher, job creation); a publish that failed
there marks the job `prev_report_states["dashboard"] = "unpublished"` (`DASHBOARD_UNPUBLISHED`), and
the next tick publishes the unfinished jobs so marked with its own changes and clears the mark.
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping

from shared.config.durations import parse_duration, parse_prow_duration
from shared.jobs.joburl import job_url
from shared.jobs.limits import ConcurrencySlots, QueueUndefined, limits_for
from shared.jobs.model import (ABORTED, BUILD_ID_LABEL, CREATED_BY_PROW, ERROR, FAILURE, KUBERNETES_AGENT,
                               PENDING, PRESUBMIT, SUCCESS, TRIGGERED, ProwJob, utc_now)
from shared.jobs.reportlock import LeaseLost, ReportLease, lease_target
from shared.jobs.store import JobStore
from shared.kube.clusters import ClusterUnavailable, KubeError, PodExists, PodRejected, UnknownCluster
from shared.kube.pods import PodSpecMissing, pod_for_job
from shared.reporting import REPORTER, GitHubReporter, ReporterConfig, needs_report

log = logging.getLogger("prow.reconcile")

STUCK_SECONDS = 120
DEFAULT_MAX_REVIVALS = 3
DEFAULT_TIMEOUTS = {"pod_pending_timeout": timedelta(minutes=10), "pod_unscheduled_timeout": timedelta(minutes=5),
                    "pod_running_timeout": timedelta(hours=48)}

DESCRIPTION_SUCCEEDED = "Job succeeded."
DESCRIPTION_FAILED = "Job failed."
DESCRIPTION_UNFINISHED = "Pod was in succeeded phase but some containers didn't finish"
DESCRIPTION_UNSCHEDULED = "Pod scheduling timeout."
DESCRIPTION_PENDING_TIMEOUT = "Pod pending timeout."
DESCRIPTION_RUNNING_TIMEOUT = "Pod running timeout."
DESCRIPTION_DELETED = "Pod got deleted unexpectedly"
DESCRIPTION_EVICTED = "Job pod was evicted by the cluster."
DESCRIPTION_OOM = "Job pod was OOM killed by the cluster."
DESCRIPTION_DUPLICATE = "Aborted as the newer version of this job is running."
EVICTED, NODE_LOST = "Evicted", "NodeLost"
ARTIFACT_REPORTER = "gcsreporter"           # crier's name; its prev_report_states entry: records written
DASHBOARD = "dashboard"
DASHBOARD_UNPUBLISHED = "unpublished"


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _timeout(job: ProwJob, plank: Mapping[str, Any], name: str) -> timedelta:
    decoration = job.spec.get("decoration_config") or {}
    for source, parse in ((decoration, parse_prow_duration), (plank, parse_duration)):
        if source.get(name):
            try:
                return parse(source[name])
            except ValueError:
                log.warning("reconcile: %s %r is not a duration; using the default", name, source[name])
    return DEFAULT_TIMEOUTS[name]


def _statuses(pod: Mapping[str, Any]) -> list[dict]:
    status = pod.get("status") or {}
    return list(status.get("initContainerStatuses") or []) + list(status.get("containerStatuses") or [])


def _pod_succeeded(pod: Mapping[str, Any]) -> bool:
    statuses = _statuses(pod)
    return bool(statuses) and all(((s.get("state") or {}).get("terminated") or {}).get("exitCode", 1) == 0
                                  for s in statuses)


def _oom_killed(pod: Mapping[str, Any]) -> bool:
    return any(((s.get("state") or {}).get("terminated") or {}).get("reason") == "OOMKilled" for s in _statuses(pod))


def dedup_identity(job: ProwJob) -> tuple:
    """Prow's identity of a presubmit run: its job, refs and extra refs without SHAs."""
    def digest(refs: Mapping[str, Any] | None) -> str:
        refs = refs or {}
        pulls = sorted(int(p.get("number", 0)) for p in refs.get("pulls") or [])
        return f"{refs.get('org', '')}/{refs.get('repo', '')}@{refs.get('base_ref', '')} {pulls}"
    return (job.type, job.job, digest(job.refs), tuple(sorted(digest(r) for r in job.spec.get("extra_refs") or [])))


@dataclass
class TickResult:
    jobs: int = 0
    list_calls: int = 0
    changed: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)
    report_failures: list[str] = field(default_factory=list)
    report_deferred: list[str] = field(default_factory=list)     # another tick held their report lease
    skipped_clusters: list[str] = field(default_factory=list)


class Reconciler:
    def __init__(self, *, store: JobStore, launcher: Any, plank: Callable[[], Any],
                 reporter_config: Callable[[], ReporterConfig], github: Callable[[str, str], Any],
                 requeue: Callable[[str, int], None], clock: Callable[[], datetime] = utc_now,
                 on_complete: Callable[[ProwJob, dict | None], None] | None = None,
                 on_changed: Callable[[list[ProwJob]], None] | None = None):
        self.store = store
        self.launcher = launcher
        self.plank = plank
        self.reporter_config = reporter_config
        self.github = github              # (org, repo) -> a context manager giving a GitHub session
        self.requeue = requeue
        self.clock = clock
        self.on_complete = on_complete
        self.on_changed = on_changed

    # -- the tick -------------------------------------------------------------------------------

    def run(self) -> TickResult:
        result = TickResult()
        plank = self.plank()
        plank = plank if isinstance(plank, Mapping) else {}
        jobs = self.store.unfinished()
        result.jobs = len(jobs)
        changed: dict[str, ProwJob] = {}
        for job in self._dedup(jobs):
            changed[job.name] = job
        jobs = [changed.get(j.name, j) for j in jobs]
        ours = [j for j in jobs if j.agent == KUBERNETES_AGENT and not j.complete]
        pods = self._pods(ours, result)
        for job in ours:
            if (job.cluster, job.pod_namespace) in pods:
                after = self._sync(job, pods[(job.cluster, job.pod_namespace)], plank, result)
                if after is not None and (after.state != job.state or after.complete != job.complete
                                          or after.build_id != job.build_id):
                    changed[after.name] = after
        result.changed = sorted(changed)
        latest = {j.name: j for j in jobs}
        latest.update(changed)
        self._publish(changed, latest)
        unreported = self._retry_artifacts([j for j in self.store.unreported() if j.name not in changed])
        self._report(list(latest.values()) + unreported, result)
        return result

    # -- dashboard and artifacts, level-triggered ---------------------------------------------

    def _publish(self, changed: dict[str, ProwJob], latest: dict[str, ProwJob]) -> None:
        """Publish the tick's changes and the unfinished jobs whose publish failed elsewhere."""
        if self.on_changed is None:
            return
        unpublished = {n: j for n, j in latest.items() if _unpublished(j)}
        jobs = list({**unpublished, **changed}.values())
        if not jobs:
            return
        if self.on_changed(jobs) is False:
            return                           # failed: the marks stay for the next tick
        for job in jobs:
            if _unpublished(job):
                try:
                    self.store.modify(job.name, _clear_unpublished)
                except Exception as exc:     # noqa: BLE001 - the next tick publishes it again
                    log.warning("reconcile: %s published, but its mark stays: %s", job.name, exc)

    def _retry_artifacts(self, jobs: list[ProwJob]) -> list[ProwJob]:
        """Complete jobs whose `on_complete` did not succeed yet get it again (from `unreported`)."""
        out = []
        for job in jobs:
            if job.complete and self.on_complete is not None and not _artifacts_done(job):
                job = self._completed(job, self._pod_of(job))
            out.append(job)
        return out

    def _pod_of(self, job: ProwJob) -> dict | None:
        if job.agent != KUBERNETES_AGENT or not job.build_id:
            return None
        try:
            return self.launcher.clusters.get(job.cluster).get_pod(job.pod_namespace,
                                                                   job.status.get("pod_name") or job.name)
        except Exception as exc:         # noqa: BLE001 - no pod: the records are written without it
            log.info("reconcile: pod of %s not read (%s); its records are written without it", job.name, exc)
            return None

    def _done_reporting(self, job: ProwJob) -> None:
        """A complete job leaves `unreported` once its artifacts are written too."""
        if self.on_complete is None or _artifacts_done(job):
            self.store.mark_reported(job)

    # -- dedup ----------------------------------------------------------------------------------

    def _dedup(self, jobs: list[ProwJob]) -> list[ProwJob]:
        newest: dict[tuple, ProwJob] = {}
        candidates = [j for j in jobs if j.type == PRESUBMIT and j.state in (TRIGGERED, PENDING) and not j.complete]
        for job in candidates:
            ident = dedup_identity(job)
            best = newest.get(ident)
            if best is None or (job.status.get("startTime", ""), job.created) > (best.status.get("startTime", ""),
                                                                                best.created):
                newest[ident] = job
        aborted = []
        for job in candidates:
            if newest[dedup_identity(job)] is job:
                continue

            def abort(current: ProwJob) -> bool:
                if current.complete or current.state not in (TRIGGERED, PENDING):
                    return False
                current.set_state(ABORTED, DESCRIPTION_DUPLICATE, now=self.clock())
                current.status.setdefault("prev_report_states", {})[REPORTER] = ABORTED
                return True

            log.info("reconcile: %s (%s) is superseded by %s", job.name, job.job, newest[dedup_identity(job)].name)
            aborted.append(self.store.modify(job.name, abort))
        return aborted

    # -- pods -----------------------------------------------------------------------------------

    def _pods(self, jobs: Iterable[ProwJob], result: TickResult) -> dict[tuple[str, str], dict[str, dict]]:
        """The pods of every (cluster, namespace) these jobs use, by name; one list call each."""
        found: dict[tuple[str, str], dict[str, dict]] = {}
        for where in sorted({(j.cluster, j.pod_namespace) for j in jobs}):
            cluster, namespace = where
            try:
                client = self.launcher.clusters.get(cluster)
            except UnknownCluster:
                found[where] = {}             # jobs there end in a terminal error in _sync
                continue
            try:
                pods = client.list_pods(namespace, {CREATED_BY_PROW: "true"})
            except KubeError as exc:
                log.warning("reconcile: cannot list pods in %s/%s (%s); its jobs wait for the next tick",
                            cluster, namespace, exc)
                result.skipped_clusters.append(f"{cluster}/{namespace}")
                continue
            finally:
                result.list_calls += 1
            found[where] = {p["metadata"]["name"]: p for p in pods}
        return found

    def _delete_pod(self, job: ProwJob) -> None:
        self.launcher.clusters.get(job.cluster).delete_pod(job.pod_namespace, job.status.get("pod_name") or job.name)

    # -- one job --------------------------------------------------------------------------------

    def _sync(self, job: ProwJob, pods: dict[str, dict], plank: Mapping[str, Any],
              result: TickResult) -> ProwJob | None:
        try:
            self.launcher.clusters.get(job.cluster)
        except UnknownCluster as exc:
            return self._finish(job, ERROR, f"Terminal error: {exc}.", None, plank)
        pod = pods.get(job.status.get("pod_name") or job.name)
        try:
            if job.state == ABORTED:
                return self._sync_aborted(job, pod)
            if job.state == TRIGGERED:
                return self._sync_triggered(job, pod, plank, result)
            if job.state == PENDING:
                return self._sync_pending(job, pod, plank)
        except ClusterUnavailable as exc:
            log.warning("reconcile: %s (%s) waits for the next tick: %s", job.name, job.job, exc)
        return None

    def _change(self, job: ProwJob, apply: Callable[[ProwJob], None]) -> ProwJob:
        """Apply `apply` if the job is still in the state and build it was decided on."""
        state, build_id = job.state, job.build_id

        def change(current: ProwJob) -> bool:
            if current.complete or current.state != state or current.build_id != build_id:
                return False
            apply(current)
            return True

        return self.store.modify(job.name, change)

    def _finish(self, job: ProwJob, state: str, description: str, pod: dict | None,
                plank: Mapping[str, Any], *, delete_pod: bool = False) -> ProwJob:
        """Complete the job, then `on_complete` (while the pod is there), then delete the pod if asked."""
        now = self.clock()

        def finish(current: ProwJob) -> None:
            current.set_state(state, description, now=now)
            if state == ABORTED:
                current.complete_abort(now=now)
            if current.build_id:
                current.status["url"] = job_url(current, plank) or current.status.get("url", "")

        after = self._change(job, finish)
        if after.complete and after.state == state:
            after = self._completed(after, pod)
            if delete_pod:
                try:
                    self._delete_pod(after)
                except (ClusterUnavailable, KubeError) as exc:
                    log.warning("reconcile: pod of %s (%s) not deleted (%s); sinker removes it", job.name,
                                job.job, exc)
        log.info("reconcile: %s (%s) %s -> %s: %s", job.name, job.job, job.state, after.state, after.description)
        return after

    def _sync_aborted(self, job: ProwJob, pod: dict | None) -> ProwJob:
        if pod is not None:
            self._delete_pod(job)
        now = self.clock()
        after = self._change(job, lambda current: current.complete_abort(now=now))
        if after.complete:
            after = self._completed(after, pod)
        return after

    def _completed(self, job: ProwJob, pod: dict | None) -> ProwJob:
        """The `on_complete` seam; its failure (e.g. the artifact container missing) is logged and the
        tick goes on, so the job's state is still reported and the other jobs still synced. Success is
        recorded in the job (`gcsreporter`); without it the job stays in `unreported` and is retried."""
        if self.on_complete is None or _artifacts_done(job):
            return job
        try:
            self.on_complete(job, pod)
        except Exception as exc:         # noqa: BLE001 - the job is complete either way
            log.warning("reconcile: %s (%s) completed, but on_complete failed (retried next tick): %s: %s",
                        job.name, job.job, type(exc).__name__, exc)
            return job
        state = job.state

        def written(current: ProwJob) -> bool:
            states = current.status.setdefault("prev_report_states", {})
            if states.get(ARTIFACT_REPORTER) == state:
                return False
            states[ARTIFACT_REPORTER] = state
            return True

        try:
            return self.store.modify(job.name, written)
        except Exception as exc:         # noqa: BLE001 - written again next tick (idempotent)
            log.warning("reconcile: %s (%s) records written, but not marked: %s", job.name, job.job, exc)
            return job

    def _sync_triggered(self, job: ProwJob, pod: dict | None, plank: Mapping[str, Any],
                        result: TickResult) -> ProwJob | None:
        if pod is not None:
            build_id = ((pod.get("metadata") or {}).get("labels") or {}).get(BUILD_ID_LABEL, job.build_id)

            def pending(current: ProwJob) -> None:
                current.status["build_id"] = build_id
                current.status["pod_name"] = pod["metadata"]["name"]
                current.set_state(PENDING, "Job triggered.", now=self.clock())
                current.status["url"] = job_url(current, plank)

            return self._change(job, pending)
        started = _time(job.status.get("startTime"))
        if started is None or self.clock() - started < timedelta(seconds=STUCK_SECONDS):
            return None
        if self._held_back(job, plank):
            return None
        log.warning("reconcile: %s (%s) is triggered for %s with no pod; queueing it again", job.name, job.job,
                    self.clock() - started)
        self.requeue(job.name, 0)
        result.requeued.append(job.name)
        return None

    def _held_back(self, job: ProwJob, plank: Mapping[str, Any]) -> bool:
        """Whether a concurrency limit is full: then the job's own launch message is waiting on it."""
        try:
            limits = limits_for(job, plank)
        except QueueUndefined:
            return True
        slots = ConcurrencySlots(self.store)
        return any(len(slots.holders(limit)) >= limit.capacity and job.name not in slots.holders(limit)
                   for limit in limits)

    def _sync_pending(self, job: ProwJob, pod: dict | None, plank: Mapping[str, Any]) -> ProwJob | None:
        now = self.clock()
        if pod is None:
            return self._restart(job, plank)
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        phase, reason = status.get("phase", ""), status.get("reason", "")
        deleting = bool(meta.get("deletionTimestamp"))
        if reason == EVICTED:
            if job.spec.get("error_on_eviction"):
                return self._finish(job, ERROR, DESCRIPTION_EVICTED, pod, plank)
            return self._revive(job, pod, "evicted", plank)
        if deleting and reason == NODE_LOST:
            return self._revive(job, pod, "node lost", plank)
        if phase == "Unknown":
            return self._revive(job, pod, "unknown", plank)
        if _oom_killed(pod):
            return self._finish(job, ERROR, DESCRIPTION_OOM, pod, plank)
        if phase == "Succeeded":
            if _pod_succeeded(pod):
                return self._finish(job, SUCCESS, DESCRIPTION_SUCCEEDED, pod, plank)
            return self._finish(job, ERROR, DESCRIPTION_UNFINISHED, pod, plank)
        if phase == "Failed":
            return self._finish(job, FAILURE, DESCRIPTION_FAILED, pod, plank)
        if deleting:
            return self._finish(job, ERROR, DESCRIPTION_DELETED, pod, plank)
        started = _time(status.get("startTime"))
        if phase == "Pending":
            if started is None:
                created = _time(meta.get("creationTimestamp")) or now
                if now - created >= _timeout(job, plank, "pod_unscheduled_timeout"):
                    return self._finish(job, ERROR, DESCRIPTION_UNSCHEDULED, pod, plank, delete_pod=True)
            elif now - started >= _timeout(job, plank, "pod_pending_timeout"):
                return self._finish(job, ERROR, DESCRIPTION_PENDING_TIMEOUT, pod, plank, delete_pod=True)
        elif phase == "Running" and started is not None:
            if now - started >= _timeout(job, plank, "pod_running_timeout"):
                return self._finish(job, ABORTED, DESCRIPTION_RUNNING_TIMEOUT, pod, plank, delete_pod=True)
        url = job_url(job, plank)
        if url and url != job.status.get("url"):
            return self._change(job, lambda current: current.status.__setitem__("url", url))
        return None

    def _revive(self, job: ProwJob, pod: dict, cause: str, plank: Mapping[str, Any]) -> ProwJob:
        max_revivals = plank.get("max_revivals")
        max_revivals = DEFAULT_MAX_REVIVALS if max_revivals is None else int(max_revivals)
        count = int(job.status.get("pod_revival_count") or 0)
        if count >= max_revivals:
            return self._finish(job, ERROR, f"Job pod reached max revivals ({count}) after being stopped "
                                f"unexpectedly ({cause})", pod, plank)
        if not (pod.get("metadata") or {}).get("deletionTimestamp"):
            self._delete_pod(job)         # first: a tick that reads the job after the count sees no pod

        def revived(current: ProwJob) -> None:
            if int(current.status.get("pod_revival_count") or 0) == count:
                current.status["pod_revival_count"] = count + 1

        log.info("reconcile: %s (%s) pod stopped unexpectedly (%s); revival %d of %d", job.name, job.job, cause,
                 count + 1, max_revivals)
        return self._change(job, revived)

    def _restart(self, job: ProwJob, plank: Mapping[str, Any]) -> ProwJob:
        """The pod of a pending job is gone: a new build id, then the pod again (plank's startPod)."""
        build_id = self.store.reserve_build_id(job)

        def new_build(current: ProwJob) -> None:
            current.status["build_id"] = build_id
            current.status["pod_name"] = current.name
            current.status["url"] = job_url(current, plank)

        after = self._change(job, new_build)
        if after.build_id != build_id:
            return after                 # another tick restarted it
        try:
            pod = pod_for_job(after, decorate=self.launcher.decorate)
            self.launcher.clusters.get(after.cluster).create_pod(after.pod_namespace, pod)
        except PodExists:
            pass
        except (PodRejected, PodSpecMissing) as exc:
            return self._finish(after, ERROR, f"Pod can not be created: {exc}", None, plank)
        log.info("reconcile: %s (%s) pod was missing; started again as build %s", job.name, job.job, build_id)
        return after

    # -- reporting ------------------------------------------------------------------------------

    def _report(self, jobs: list[ProwJob], result: TickResult) -> None:
        config = self.reporter_config()
        reporter = GitHubReporter(config, pull_jobs=lambda org, repo, number: self.store.for_pull(f"{org}/{repo}",
                                                                                                 number))
        owner = uuid.uuid4().hex              # this tick, as the holder of report leases
        seen: set[str] = set()
        by_repo: dict[tuple[str, str], dict[str, list[ProwJob]]] = {}
        for job in jobs:
            if job.name in seen:
                continue
            seen.add(job.name)
            if not needs_report(job, config):
                if job.complete:
                    self._done_reporting(job)
                continue
            refs = job.refs or {}
            targets = by_repo.setdefault((refs.get("org", ""), refs.get("repo", "")), {})
            targets.setdefault(lease_target(refs), []).append(job)
        for (org, repo), targets in by_repo.items():
            try:
                session = self.github(org, repo)
            except Exception as exc:     # noqa: BLE001 - e.g. no credentials: reported once they exist
                pending = [j.name for group in targets.values() for j in group]
                log.warning("reconcile: no GitHub session for %s/%s (%s); %d reports wait", org, repo, exc,
                            len(pending))
                result.report_failures.extend(pending)
                continue
            with session as gh:
                for target, pending in targets.items():
                    self._report_target(gh, reporter, config, ReportLease(self.store, target, owner=owner,
                                                                          clock=self.clock), pending, result)

    def _report_target(self, gh: Any, reporter: GitHubReporter, config: ReporterConfig, lease: ReportLease,
                       pending: list[ProwJob], result: TickResult) -> None:
        """Report the jobs of one pull request (or commit) under its lease, as they are stored now:
        a tick that reported them while this one waited for the lease leaves nothing to do."""
        try:
            acquired = lease.acquire()
        except Exception as exc:         # noqa: BLE001 - storage trouble: the next tick tries again
            log.warning("reconcile: report lease of %s not taken (%s); retried next tick", lease.target, exc)
            result.report_failures.extend(j.name for j in pending)
            return
        if not acquired:
            result.report_deferred.extend(j.name for j in pending)
            return
        try:
            for job in sorted(pending, key=lambda j: j.created):
                current = self.store.find(job.name)
                if current is None or not needs_report(current, config):
                    if current is not None and current.complete:
                        self._done_reporting(current)
                    continue
                try:
                    reporter.report(gh, current, before_write=lease.renew)
                except LeaseLost as exc:
                    log.warning("reconcile: %s; its reports are left to the tick that holds it", exc)
                    result.report_deferred.extend(j.name for j in pending if j.name not in result.reported)
                    return
                except Exception as exc:     # noqa: BLE001 - any failure: the next tick tries again
                    log.warning("reconcile: report of %s (%s) %s failed; retried next tick: %s",
                                current.name, current.job, current.state, exc)
                    result.report_failures.append(current.name)
                    continue
                self._remember_report(current)
                result.reported.append(current.name)
        finally:
            lease.release()

    def _remember_report(self, job: ProwJob) -> None:
        state = job.state

        def remember(current: ProwJob) -> bool:
            states = current.status.setdefault("prev_report_states", {})
            if states.get(REPORTER) == state:
                return False
            states[REPORTER] = state
            return True

        after = self.store.modify(job.name, remember)
        if after.complete and after.state == state:
            self._done_reporting(after)


def _artifacts_done(job: ProwJob) -> bool:
    return (job.status.get("prev_report_states") or {}).get(ARTIFACT_REPORTER) == job.state


def _unpublished(job: ProwJob) -> bool:
    return (job.status.get("prev_report_states") or {}).get(DASHBOARD) == DASHBOARD_UNPUBLISHED


def _clear_unpublished(current: ProwJob) -> bool:
    states = current.status.get("prev_report_states") or {}
    if states.get(DASHBOARD) != DASHBOARD_UNPUBLISHED:
        return False
    del states[DASHBOARD]
    return True


# -- the process-wide reconciler --------------------------------------------------------------

_default: Reconciler | None = None
_default_lock = threading.Lock()


def default_reconciler() -> Reconciler:
    from shared.config.source import get_config
    from shared.dashboard.index import publish_changed
    from shared.jobs.queue import JobQueue
    from shared.launcher import default_launcher
    from shared.artifacts.fallback import default_recorder
    from shared.storage import default_clients

    def github(org: str, repo: str):
        from shared.github.client import default_client
        return default_client().for_event(f"reconcile-{utc_now():%Y%m%dT%H%M%S}", org=org, repo=repo)

    global _default
    launcher = default_launcher()
    with _default_lock:
        if _default is None or _default.launcher is not launcher:
            queue = JobQueue(default_clients())
            _default = Reconciler(
                store=launcher.store, launcher=launcher, plank=lambda: get_config().prow.raw.get("plank"),
                reporter_config=lambda: ReporterConfig.from_prow(get_config().prow.raw), github=github,
                requeue=lambda job_id, delay: queue.enqueue(job_id, delay=delay),
                on_changed=publish_changed, on_complete=default_recorder(launcher.clusters))
        return _default


def reconcile_tick() -> TickResult:
    result = default_reconciler().run()
    log.info("reconcile: %d unfinished jobs, %d list calls, %d changed, %d requeued, %d reported, "
             "%d report failures", result.jobs, result.list_calls, len(result.changed), len(result.requeued),
             len(result.reported), len(result.report_failures))
    return result
