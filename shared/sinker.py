"""Sinker: remove old job records and the pods of finished jobs (Prow's `cmd/sinker`, spec section 4).

Each run, bounded (`max_records` records and `max_pods` pod deletions; what is left waits for the
next run, so a backlog of 100,000 records is worked off over many runs instead of one that times out):

- job records: finished jobs created more than `sinker.max_prowjob_age` ago (default 7 days), read
  oldest first from the store's `finished` index, except the newest run of every periodic that is
  in the config (horologium decides from it). A periodic removed from the config loses that.
- pods, in `pod_namespace` of every build cluster not in `sinker.exclude_clusters`, only those
  labelled `created-by-prow=true`; the owning job is the `prow.k8s.io/id` label, else the pod name:
  - never the pod of a job that is not finished (plank would only create it again);
  - `orphaned`: no record of the job, and the pod is older than 30 s;
  - `aged`: the pod started more than `sinker.max_pod_age` ago (default 1 day);
  - `ttled`: its job finished more than `sinker.terminated_pod_ttl` ago (default: `max_pod_age`).
- artifacts are never touched: their retention is the storage account's lifecycle policy.

A cluster that cannot be reached, or a pod that cannot be deleted, is logged and left for the next
run. Each run ends with one summary log line of counts. `sinker.resync_period` is not read: the
timer's schedule (every minute) is the period, and a run with nothing to do costs one index read
plus one pod listing per cluster.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from shared.config.durations import parse_duration
from shared.horologium import parse_time
from shared.jobs.buildid import EPOCH_MS, NODE_BITS, SEQUENCE_BITS
from shared.jobs.model import CREATED_BY_PROW, ID_LABEL, utc_now
from shared.jobs.store import JobStore

log = logging.getLogger("prow.sinker")

DEFAULT_MAX_PROWJOB_AGE = timedelta(days=7)
DEFAULT_MAX_POD_AGE = timedelta(days=1)
ORPHAN_GRACE = timedelta(seconds=30)
MAX_RECORDS_PER_RUN = 2000
MAX_PODS_PER_RUN = 500


@dataclass(frozen=True)
class SinkerSettings:
    max_prowjob_age: timedelta = DEFAULT_MAX_PROWJOB_AGE
    max_pod_age: timedelta = DEFAULT_MAX_POD_AGE
    terminated_pod_ttl: timedelta = DEFAULT_MAX_POD_AGE
    exclude_clusters: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | None) -> "SinkerSettings":
        raw = raw or {}

        def duration(key: str, default: timedelta) -> timedelta:
            value = raw.get(key)
            return parse_duration(value) if isinstance(value, str) and value else default

        max_pod_age = duration("max_pod_age", DEFAULT_MAX_POD_AGE)
        return cls(max_prowjob_age=duration("max_prowjob_age", DEFAULT_MAX_PROWJOB_AGE), max_pod_age=max_pod_age,
                   terminated_pod_ttl=duration("terminated_pod_ttl", max_pod_age),
                   exclude_clusters=frozenset(raw.get("exclude_clusters") or ()))


@dataclass
class SinkerResult:
    records_deleted: int = 0
    records_kept: int = 0          # the newest runs of configured periodics
    records_left: bool = False     # the bound was reached: more old records wait for the next run
    pods_deleted: Counter = field(default_factory=Counter)   # by reason: aged, ttled, orphaned
    pods_kept_running: int = 0
    pods_left: bool = False
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        pods = " ".join(f"pods-{reason}={self.pods_deleted[reason]}" for reason in ("aged", "ttled", "orphaned"))
        return (f"prowjobs-deleted={self.records_deleted} prowjobs-kept-newest-periodic={self.records_kept} "
                f"prowjobs-left-for-next-run={self.records_left} {pods} pods-of-unfinished-jobs={self.pods_kept_running} "
                f"pods-left-for-next-run={self.pods_left} errors={len(self.errors)}")


def snowflake_at(moment: datetime) -> str:
    """The smallest creation snowflake drawn at or after `moment`."""
    ms = int(moment.timestamp() * 1000)
    return str(max(0, ms - EPOCH_MS) << (NODE_BITS + SEQUENCE_BITS))


def _pod_started(pod: Mapping[str, Any]) -> datetime | None:
    return parse_time((pod.get("status") or {}).get("startTime") or
                      (pod.get("metadata") or {}).get("creationTimestamp") or "")


class Sinker:
    def __init__(self, *, store: JobStore, clusters: Any, config: Callable[[], Any],
                 clock: Callable[[], datetime] = utc_now, max_records: int = MAX_RECORDS_PER_RUN,
                 max_pods: int = MAX_PODS_PER_RUN):
        self.store = store
        self.clusters = clusters
        self.config = config
        self.clock = clock
        self.max_records = max_records
        self.max_pods = max_pods

    def run(self, now: datetime | None = None) -> SinkerResult:
        now = (now or self.clock()).astimezone(timezone.utc)
        loaded = self.config()
        settings = SinkerSettings.from_config(loaded.prow.raw.get("sinker"))
        result = SinkerResult()
        self._records(loaded, settings, now, result)
        self._pods(loaded, settings, now, result)
        log.info("sinker: %s", result.summary())
        return result

    def _records(self, loaded: Any, settings: SinkerSettings, now: datetime, result: SinkerResult) -> None:
        configured = {p.name for p in loaded.jobs.periodics}
        keep = {pointer["Id"] for name, pointer in self.store.latest_periodics().items() if name in configured}
        cutoff = snowflake_at(now - settings.max_prowjob_age)
        for pointer in self.store.finished_before(cutoff, limit=self.max_records + len(keep) + 1):
            if pointer["Id"] in keep:
                result.records_kept += 1
                continue
            if result.records_deleted >= self.max_records:
                result.records_left = True
                break
            try:
                self.store.remove(pointer)
                result.records_deleted += 1
            except Exception as exc:      # a storage hiccup: this record waits for the next run
                log.warning("sinker: could not delete job %s: %s", pointer["Id"], exc)
                result.errors.append(f"job {pointer['Id']}: {exc}")

    def _pods(self, loaded: Any, settings: SinkerSettings, now: datetime, result: SinkerResult) -> None:
        from shared.kube.clusters import KubeError
        unfinished = {p["Id"] for p in self.store.unfinished_pointers()}
        namespace = loaded.prow.pod_namespace
        deletions = 0
        for alias in self.clusters.aliases():
            if alias in settings.exclude_clusters:
                continue
            try:
                client = self.clusters.get(alias)
                pods = client.list_pods(namespace, {CREATED_BY_PROW: "true"})
            except KubeError as exc:
                log.warning("sinker: cannot list pods on cluster %s: %s", alias, exc)
                result.errors.append(f"cluster {alias}: {exc}")
                continue
            for pod in pods:
                meta = pod.get("metadata") or {}
                name = meta.get("name", "")
                job_id = (meta.get("labels") or {}).get(ID_LABEL) or name
                if job_id in unfinished:
                    result.pods_kept_running += 1
                    continue
                reason = self._reason(pod, job_id, settings, now, result)
                if reason is None:
                    continue
                if deletions >= self.max_pods:
                    result.pods_left = True
                    return
                try:
                    client.delete_pod(meta.get("namespace") or namespace, name)
                    deletions += 1
                    result.pods_deleted[reason] += 1
                except KubeError as exc:
                    log.warning("sinker: could not delete pod %s on %s: %s", name, alias, exc)
                    result.errors.append(f"pod {alias}/{name}: {exc}")

    def _reason(self, pod: Mapping[str, Any], job_id: str, settings: SinkerSettings, now: datetime,
                result: SinkerResult) -> str | None:
        started = _pod_started(pod)
        job = self.store.find(job_id)
        if job is None:
            return "orphaned" if started is not None and now - started > ORPHAN_GRACE else None
        if not job.complete:
            result.pods_kept_running += 1
            return None
        if started is not None and now - started > settings.max_pod_age:
            return "aged"
        completed = parse_time(job.status.get("completionTime", ""))
        if completed is not None and now - completed > settings.terminated_pod_ttl:
            return "ttled"
        return None


def default_sinker() -> Sinker:
    from shared.config.source import get_config
    from shared.kube.clusters import default_clusters
    from shared.storage import default_clients
    return Sinker(store=JobStore(default_clients()), clusters=default_clusters(), config=get_config)


def run_sinker() -> SinkerResult:
    return default_sinker().run()
