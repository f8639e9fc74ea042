"""What the app itself writes into a run's directory (crier's gcsreporter and gcsk8sreporter).

Called by the reconciler once a job became complete (`Reconciler(on_complete=...)`), while its pod,
if any, still exists:
- `prowjob.json`: the job record, tab-indented, overwritten;
- `started.json` if the pod never wrote one (never scheduled, clone never ran), with crier's
  `"metadata": {"uploader": "crier"}`;
- `finished.json` only if missing (the sidecar's stays): `passed`, crier's metadata and the job's
  own lower-case state as `result` — for a pod deleted, lost, timed out or never scheduled;
- `podinfo.json` when there is a pod: `{"pod": …, "events": []}`;
- undecorated jobs: the pod's log as `build-log.txt` (`<container>-build-log.txt` with several
  containers), read before sinker deletes the pod.
The directory comes from the job's decoration config or, for an undecorated job, from the
default decoration config of its repo and cluster, as crier does. Jobs without a build id (never
launched) or outside the `kubernetes` agent have no directory and get nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from . import paths, records
from .store import ArtifactStore

log = logging.getLogger("prow.artifacts")


def _epoch(text: str | None) -> int:
    if not text:
        return int(datetime.now(timezone.utc).timestamp())
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def job_spec_of(job: Any) -> dict[str, Any]:
    """The JOB_SPEC-shaped facts of a ProwJob record (what the pod's uploaders got)."""
    spec = {"type": job.type, "job": job.job, "buildid": job.build_id, "prowjobid": job.name}
    for key in ("refs", "extra_refs"):
        if job.spec.get(key):
            spec[key] = job.spec[key]
    return spec


class RunRecorder:
    """`on_complete(job, pod)` for the reconciler. `stores(container)` gives an ArtifactStore,
    `clusters` the build clusters (for pod logs), `default_gcs(job)` the gcs_configuration of an
    undecorated job (or None)."""

    def __init__(self, *, stores: Callable[[str], ArtifactStore], clusters: Any,
                 default_gcs: Callable[[Any], Mapping[str, Any] | None] = lambda job: None):
        self.stores = stores
        self.clusters = clusters
        self.default_gcs = default_gcs

    def layout(self, job: Any) -> paths.Layout | None:
        if not job.build_id or job.agent != "kubernetes":
            return None
        decoration = job.spec.get("decoration_config")
        gcs = (decoration or {}).get("gcs_configuration") if decoration else self.default_gcs(job)
        if not gcs or not gcs.get("bucket"):
            return None
        try:
            return paths.Layout.for_job(gcs, job_spec_of(job))
        except paths.LayoutError as exc:
            log.warning("artifacts: job %s (%s) has no run directory: %s", job.name, job.job, exc)
            return None

    def __call__(self, job: Any, pod: Mapping[str, Any] | None) -> None:
        self.job_completed(job, pod)

    def job_completed(self, job: Any, pod: Mapping[str, Any] | None) -> list[str]:
        """Write what the run's directory lacks; returns the blob names written."""
        where = self.layout(job)
        if where is None:
            return []
        store = self.stores(where.container)
        written: list[str] = []
        if not job.spec.get("decoration_config") and pod is not None:
            written += self._save_logs(store, where, job, pod)
        if store.write_json(where.path(paths.STARTED),
                            records.crier_started(job.to_dict(), _epoch(job.status.get("startTime"))),
                            indent="\t", create_only=True):
            written.append(where.path(paths.STARTED))
        if store.write_json(where.path(paths.FINISHED),
                            records.crier_finished(job.state, _epoch(job.status.get("completionTime"))),
                            create_only=True):
            written.append(where.path(paths.FINISHED))
        store.write_json(where.path(paths.PROWJOB), job.to_dict(), indent="\t")
        written.append(where.path(paths.PROWJOB))
        if pod is not None:
            store.write_json(where.path(paths.PODINFO), records.podinfo(pod), indent="\t")
            written.append(where.path(paths.PODINFO))
        if not job.spec.get("decoration_config"):
            for path in where.latest_build_paths:
                store.write(path, where.build_id)
            if where.alias_path:
                store.write(where.alias_path, where.run_url, metadata={"link": where.run_url})
        return written

    def _save_logs(self, store: ArtifactStore, where: paths.Layout, job: Any, pod: Mapping[str, Any]) -> list[str]:
        names = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
        cluster = self.clusters.get(job.cluster)
        pod_name = (pod.get("metadata") or {}).get("name") or job.name
        written = []
        for name in names:
            try:
                text = cluster.pod_log(job.pod_namespace, pod_name, container=name)
            except Exception as exc:     # a pod already gone has no log: the other files still go up
                log.warning("artifacts: no log of %s/%s container %s: %s", job.pod_namespace, pod_name, name, exc)
                continue
            blob = where.path(paths.BUILD_LOG if len(names) == 1 else f"{name}-{paths.BUILD_LOG}")
            store.write(blob, text)
            written.append(blob)
        return written


def default_recorder(clusters: Any) -> RunRecorder:
    """The recorder over the app's storage (PROW_STORAGE) and config's default decoration."""
    from shared.config.decoration import resolve_decoration
    from shared.config.source import get_config
    from shared.storage import default_clients

    ensured: set[str] = set()

    def stores(container: str) -> ArtifactStore:
        """The container's store; the app creates a missing container (the pods' SAS cannot)."""
        store = ArtifactStore(default_clients().blob().get_container_client(container))
        if container not in ensured:
            store.ensure_container()
            ensured.add(container)
        return store

    def default_gcs(job: Any) -> Mapping[str, Any] | None:
        defaults: Iterable = get_config().jobs.decoration_defaults
        return resolve_decoration(defaults, job.repo, job.cluster, None).get("gcs_configuration")

    return RunRecorder(stores=stores, clusters=clusters, default_gcs=default_gcs)
