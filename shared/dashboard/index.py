"""The dashboard's JSON indexes in `$web/data/`: small shards, so a page reads only what it shows.

    data/jobs/manifest.json            {"seq", "updated", "hours": {"<YYYYMMDDHH>": {"seq", "count", "states"}}}
    data/jobs/<YYYYMMDDHH>.json        {"seq", "hour", "jobs": {<job id>: summary}}   jobs by start hour (UTC)
    data/history/<job name>.json       {"seq", "job", "runs": {<job id>: summary}}    newest `history_limit` runs
    data/pr/<org>/<repo>/<n>.json      {"seq", "org", "repo", "number", "runs": {<job id>: summary}}

The Jobs page reads the manifest (a few KB) and then the newest hour shards until its first screen
is full; job history reads one file, PR history one file. A summary is the part of a ProwJob the
pages show (what Deck's job list reads with `omit=annotations,labels,decoration_config,pod_spec`).

Every write is a conditional read-modify-write (If-Match on the ETag read, If-None-Match `*` when
the blob is new); a 412/409 means another writer got there first, so the change is re-applied to
what it wrote. A shard's `seq` counts its versions; the manifest keeps for each hour the counts of
the highest `seq` it has seen, so a writer that lost a race cannot put older counts back.
Publishing the same job state twice writes nothing (queues and timers deliver more than once).
"""
from __future__ import annotations

import json
import logging
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from shared.jobs.model import DEFAULT_CLUSTER, KUBERNETES_AGENT, ProwJob, format_time, utc_now
from shared.storage import WEB_CONTAINER, StorageClients, default_clients

log = logging.getLogger("prow.dashboard")

DATA = "data"
MANIFEST = f"{DATA}/jobs/manifest.json"
RETENTION_HOURS = 7 * 24         # Prow's sinker default max_prowjob_age is 7 days
HISTORY_LIMIT = 1000             # runs kept per job history file (Deck pages 20 at a time)
MAX_ATTEMPTS = 30
CACHE_CONTROL = "no-cache"       # browsers revalidate with the ETag: a 304 costs no body


class IndexConflict(Exception):
    """A shard kept changing under us for MAX_ATTEMPTS tries."""


def view_path(job: ProwJob) -> str:
    """`<provider>/<bucket>/<run dir>` from the job URL Prow builds (`.../view/<provider>/<bucket>/...`)."""
    url = job.status.get("url") or ""
    marker = "/view/"
    return url.split(marker, 1)[1] if marker in url else ""


def summary(job: ProwJob) -> dict[str, Any]:
    """What the pages show of one job; keys are Prow's names where Prow has them."""
    refs = job.primary_refs or {}
    pulls = [{k: p[k] for k in ("number", "author", "sha", "title") if k in p}
             for p in (refs.get("pulls") or [])]
    view = view_path(job)
    out = {"id": job.name, "job": job.job, "type": job.type, "state": job.state,
           "created": job.created, "started": job.status.get("startTime", ""),
           "finished": job.status.get("completionTime", ""), "build_id": job.build_id,
           "view": view, "url": "" if view else job.status.get("url", ""),   # the site links to /view/<view>
           "description": job.description,
           "cluster": "" if job.cluster == DEFAULT_CLUSTER else job.cluster,
           "agent": "" if job.agent == KUBERNETES_AGENT else job.agent,
           "org": refs.get("org", ""), "repo": refs.get("repo", ""), "base_ref": refs.get("base_ref", ""),
           "base_sha": "" if pulls else refs.get("base_sha", ""), "pulls": pulls}
    return {k: v for k, v in out.items() if v not in ("", None, [])}


def hour_of(job_summary: dict) -> str:
    started = job_summary.get("started")
    when = (datetime.strptime(started, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            if started else utc_now())
    return when.strftime("%Y%m%d%H")


def hour_shard(hour: str) -> str:
    return f"{DATA}/jobs/{hour}.json"


def history_shard(job_name: str) -> str:
    return f"{DATA}/history/{job_name}.json"


def pr_shard(org: str, repo: str, number: int | str) -> str:
    return f"{DATA}/pr/{org}/{repo}/{number}.json"


def _sort_key(run: dict) -> tuple:
    return (run.get("started", ""), run.get("created", ""), run.get("build_id", ""), run.get("id", ""))


def state_counts(jobs: Iterable[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.get("state", "")] = counts.get(job.get("state", ""), 0) + 1
    return dict(sorted(counts.items()))


class DashboardIndex:
    """Writes the indexes into `$web` (or `container`) of the app's blob storage."""

    def __init__(self, clients: StorageClients | None = None, *, container: str = WEB_CONTAINER,
                 retention_hours: int = RETENTION_HOURS, history_limit: int = HISTORY_LIMIT,
                 now: Callable[[], datetime] = utc_now):
        self.clients = clients or default_clients()
        self.container = container
        self.retention_hours = retention_hours
        self.history_limit = history_limit
        self.now = now

    # -- blob primitives -------------------------------------------------------------------------

    def _blob(self, name: str):
        return self.clients.blob().get_blob_client(self.container, name)

    def read(self, name: str) -> tuple[dict | None, str | None]:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            download = self._blob(name).download_blob()
            return json.loads(download.readall()), download.properties.etag
        except ResourceNotFoundError:
            return None, None

    def _write(self, name: str, doc: dict, etag: str | None) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.blob import ContentSettings
        body = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
        settings = ContentSettings(content_type="application/json", cache_control=CACHE_CONTROL)
        kwargs: dict[str, Any] = ({"overwrite": True, "etag": etag, "match_condition": MatchConditions.IfNotModified}
                                  if etag else {"overwrite": False})
        try:
            self._blob(name).upload_blob(body, content_settings=settings, **kwargs)
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) != "ContainerNotFound":
                raise
            self._ensure_container()
            self._blob(name).upload_blob(body, content_settings=settings, **kwargs)

    def _ensure_container(self) -> None:
        from azure.core.exceptions import ResourceExistsError
        try:
            self.clients.blob().create_container(self.container)
        except ResourceExistsError:
            pass

    def update(self, name: str, change: Callable[[dict | None], dict | None]) -> dict | None:
        """Apply `change` to the current document until the conditional write wins.

        `change` gets a fresh copy of the stored document (None when absent) and returns the new
        document, or None to leave it as it is. Returns what is stored afterwards."""
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
        for attempt in range(MAX_ATTEMPTS):
            current, etag = self.read(name)
            new = change(json.loads(json.dumps(current)) if current is not None else None)
            if new is None:
                return current
            new["seq"] = (current or {}).get("seq", 0) + 1
            try:
                self._write(name, new, etag)
                return new
            except (ResourceModifiedError, ResourceExistsError):
                log.info("dashboard: %s changed while writing (try %d); re-applying", name, attempt + 1)
                time.sleep(random.uniform(0.005, 0.02 * (attempt + 1)))
        raise IndexConflict(f"{self.container}/{name}: still changing after {MAX_ATTEMPTS} tries")

    # -- the indexes -----------------------------------------------------------------------------

    @staticmethod
    def _merge_runs(key: str, runs: list[dict], header: dict, limit: int | None = None):
        def change(doc: dict | None) -> dict | None:
            doc = doc or dict(header, **{key: {}})
            entries = doc.setdefault(key, {})
            changed = False
            for run in runs:
                if entries.get(run["id"]) != run:
                    entries[run["id"]] = run
                    changed = True
            if not changed:
                return None
            if limit is not None and len(entries) > limit:
                keep = sorted(entries.values(), key=_sort_key, reverse=True)[:limit]
                doc[key] = {r["id"]: r for r in keep}
            return doc
        return change

    def _update_manifest(self, shards: dict[str, dict]) -> None:
        oldest = (self.now() - timedelta(hours=self.retention_hours)).strftime("%Y%m%d%H")

        def change(doc: dict | None) -> dict | None:
            doc = doc or {"hours": {}}
            hours = doc.setdefault("hours", {})
            changed = False
            for hour, shard in shards.items():
                entry = {"seq": shard["seq"], "count": len(shard["jobs"]),
                         "states": state_counts(shard["jobs"].values())}
                if hours.get(hour, {}).get("seq", 0) < shard["seq"]:
                    hours[hour] = entry
                    changed = True
            for hour in [h for h in hours if h < oldest]:
                del hours[hour]
                changed = True
            if not changed:
                return None
            doc["updated"] = format_time(self.now())
            return doc
        self.update(MANIFEST, change)

    def publish_jobs(self, jobs: Iterable[ProwJob]) -> None:
        """Put the current state of `jobs` into every index that shows them (one write per shard)."""
        by_hour: dict[str, list[dict]] = {}
        by_job: dict[str, list[dict]] = {}
        by_pr: dict[tuple, list[dict]] = {}
        for job in jobs:
            s = summary(job)
            by_hour.setdefault(hour_of(s), []).append(s)
            if s.get("job"):
                by_job.setdefault(s["job"], []).append(s)
            if s.get("type") == "presubmit":
                for pull in s.get("pulls", []):
                    by_pr.setdefault((s.get("org", ""), s.get("repo", ""), pull["number"]), []).append(s)
        shards = {}
        for hour, runs in sorted(by_hour.items()):
            shard = self.update(hour_shard(hour), self._merge_runs("jobs", runs, {"hour": hour}))
            if shard is not None:
                shards[hour] = shard
        if shards:
            self._update_manifest(shards)
        for name, runs in sorted(by_job.items()):
            self.update(history_shard(name), self._merge_runs("runs", runs, {"job": name}, self.history_limit))
        for (org, repo, number), runs in sorted(by_pr.items()):
            self.update(pr_shard(org, repo, number),
                        self._merge_runs("runs", runs, {"org": org, "repo": repo, "number": number}))


_default_index: DashboardIndex | None = None


def publish_job(job: ProwJob, *, index: DashboardIndex | None = None) -> None:
    """The one call after a job's state changed: the dashboard's indexes show its new state.

    Idempotent (a repeated call writes nothing); raises IndexConflict or a storage error when the
    write could not be made, so the caller can retry on its next run."""
    (index or _default_index_for_now()).publish_jobs([job])


def publish_changed(jobs: list[ProwJob]) -> bool:
    """The reconciler's `on_changed` seam: publish the jobs a tick changed. A failed write is logged
    and does not stop the tick's reporting (False); the job's next state change publishes it again."""
    try:
        _default_index_for_now().publish_jobs(jobs)
    except Exception:
        log.exception("dashboard: publishing %d changed jobs failed", len(jobs))
        return False
    return True


def publish_jobs(jobs: Iterable[ProwJob], *, index: DashboardIndex | None = None) -> None:
    """publish_job for several jobs at once: one write per shard they share (the jobs a delivery starts)."""
    jobs = list(jobs)
    if jobs:
        (index or _default_index_for_now()).publish_jobs(jobs)


def publish_best_effort(job: ProwJob, store: Any, *, publish: Callable[[ProwJob], None] | None = None) -> None:
    """Publish `job` after the launcher or a job's creation changed it; never raises. A failure is
    logged and marked in the job (`prev_report_states["dashboard"] = "unpublished"`), so the next
    reconcile tick publishes it (shared/reconciler.py)."""
    _publish_or_mark([job], store, lambda jobs: (publish or publish_job)(jobs[0]))


def publish_all_best_effort(jobs: Iterable[ProwJob], store: Any, *,
                            publish: Callable[[list[ProwJob]], None] | None = None) -> None:
    """publish_best_effort for the jobs one delivery created, in one publish."""
    jobs = list(jobs)
    if jobs:
        _publish_or_mark(jobs, store, publish or publish_jobs)


def _publish_or_mark(jobs: list[ProwJob], store: Any, publish: Callable[[list[ProwJob]], None]) -> None:
    try:
        publish(jobs)
        return
    except Exception as exc:             # noqa: BLE001 - the launch or creation stands either way
        log.warning("dashboard: publishing %s failed; the next reconcile publishes them: %s: %s",
                    ", ".join(f"{j.name} ({j.job}) {j.state}" for j in jobs), type(exc).__name__, exc)

    def mark(current: ProwJob) -> bool:
        states = current.status.setdefault("prev_report_states", {})
        if states.get("dashboard") == "unpublished":
            return False
        states["dashboard"] = "unpublished"
        return True

    for job in jobs:
        try:
            store.modify(job.name, mark)
        except Exception as exc:         # noqa: BLE001
            log.warning("dashboard: %s could not be marked unpublished either: %s", job.name, exc)


def _default_index_for_now() -> DashboardIndex:
    global _default_index
    if _default_index is None or _default_index.clients is not default_clients():
        _default_index = DashboardIndex()
    return _default_index
