"""Reconcile figures: GitHub requests per completed job report (Prow: 3 to 4 for a failed job), and the time
of one tick over N unfinished jobs against the bare reads it cannot avoid (the store's unfinished query and
the one pod list call), measured in the same run.

    python -m bench --only reconcile
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path


def run(n_jobs: int = 50, ticks: int = 5) -> dict:
    from shared.github.client import GitHubClient
    from shared.github.etag_cache import MemoryETagCache
    from shared.jobs.create import new_prowjob, pull_refs
    from shared.jobs.store import JobStore
    from shared.kube.clusters import Clusters
    from shared.launcher import Launcher
    from shared.reconciler import Reconciler
    from shared.reporting import ReporterConfig
    from shared.storage import default_clients
    from tests import azurite as azurite_mod
    from tests.fakes.github import FakeGitHub
    from tests.fakes.kube import FakeKube, write_kubeconfig

    azurite = azurite_mod.start()
    os.environ["PROW_STORAGE"] = azurite.connection_string
    try:
        with FakeGitHub() as gh, FakeKube() as kube, tempfile.TemporaryDirectory() as tmp:
            gh.add_repo("org/repo")
            pull = gh.add_pull("org/repo", author="alice")
            head, base = gh.pull("org/repo", pull).head_sha, gh.branch_sha("org/repo", "main")
            store = JobStore(default_clients(), table="benchreconcile")
            store.ensure_table()
            clusters = Clusters(kubeconfig=str(write_kubeconfig(Path(tmp) / "kubeconfig", {"default": kube})))
            launcher = Launcher(store=store, clusters=clusters, plank=dict, requeue=lambda *a: None)
            client = GitHubClient(base_url=gh.url, token=gh.token, cache=MemoryETagCache(), backoff=())
            reconciler = Reconciler(store=store, launcher=launcher, plank=dict,
                                    reporter_config=lambda: ReporterConfig(),
                                    github=lambda o, r: client.for_event("bench", org=o, repo=r),
                                    requeue=lambda *a: None)

            def job(name: str) -> str:
                spec = {"type": "presubmit", "agent": "kubernetes", "namespace": "test-pods", "job": name,
                        "context": name, "report": True, "rerun_command": f"/test {name}",
                        "refs": pull_refs("org", "repo", base_ref="main", base_sha=base, number=pull, sha=head,
                                          author="alice"),
                        "pod_spec": {"containers": [{"image": "golang"}]}}
                job_id = store.create(new_prowjob(spec, namespace="prow")).name
                launcher.launch(job_id)
                return job_id

            # requests per completed job report: a failed job, then a passing one
            reports = {}
            for outcome in ("failure", "success"):
                job_id = job(f"report-{outcome}")
                reconciler.run()                   # the pending status
                (kube.fail_pod if outcome == "failure" else kube.succeed)(job_id)
                gh.clear_log()
                reconciler.run()
                reports[outcome] = len(gh.log)
            # tick time over N unfinished jobs
            ids = [job(f"j{i}") for i in range(n_jobs)]
            reconciler.run()                       # statuses of the new jobs posted once
            tick_times, bare_times = [], []
            for _ in range(ticks):
                started = time.perf_counter()
                reconciler.run()
                tick_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                store.unfinished()
                clusters.get("default").list_pods("test-pods", {"created-by-prow": "true"})
                bare_times.append(time.perf_counter() - started)
            tick, bare = statistics.median(tick_times), statistics.median(bare_times)
            return {"requests_per_failed_report": reports["failure"],
                    "requests_per_passed_report": reports["success"], "prow_failed_report": "3 to 4",
                    "jobs": len(ids), "tick_s": tick, "bare_reads_s": bare, "ratio": tick / bare}
    finally:
        azurite.stop()


def lines(r: dict) -> list[str]:
    return [f"reconcile    GitHub requests per report: failed {r['requests_per_failed_report']}, passed "
            f"{r['requests_per_passed_report']} (Prow, failed: {r['prow_failed_report']})",
            f"reconcile    tick over {r['jobs']} unfinished jobs {r['tick_s'] * 1000:.0f} ms vs bare reads "
            f"{r['bare_reads_s'] * 1000:.0f} ms ({r['ratio']:.2f}x)"]


if __name__ == "__main__":
    print("\n".join(lines(run())))
