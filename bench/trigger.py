"""trigger: how long job selection takes for a big PR, and how many GitHub requests trigger makes.

1. Selection for a PR on the kubernetes corpus's busiest repo (most presubmits) with 1,000 changed
   files, `/test all` semantics (what a PR opened runs): milliseconds per evaluation, against two
   baselines measured in the same run: the corpus load itself, and a floor that runs every file-filter
   regex of those jobs once over the 1,000 paths (the matching no implementation can skip).
2. GitHub requests per PR opened (member author) and per `/retest`, through the one client against
   the fake GitHub (metal3's config, baremetal-operator), with the job store in memory. Prow, counted
   from its source without a cache: PR opened 3 for trigger (GetRef, IsMember, the PR's files);
   `/retest` 7 (IsMember, labels, the PR, GetRef, combined status, files, comments for pruning).
   The bot's own login (`GET /user`) is read once per process and reported apart.
"""
from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "prow-configs"
METAL3 = CORPUS / "metal3"
PROW_PR_OPENED, PROW_RETEST = 3, 7


def _paths(n: int) -> list[str]:
    tops = ["pkg/kubelet", "cmd/kube-apiserver", "test/e2e", "staging/src/k8s.io/api", "docs", "hack", "build",
            "pkg/scheduler", "vendor/github.com/x", "cluster/gce"]
    exts = [".go", "_test.go", ".md", ".sh", ".yaml", ".json", ".py"]
    return [f"{tops[i % len(tops)]}/sub{i % 37}/file{i}{exts[i % len(exts)]}" for i in range(n)]


def selection_time(runs: int = 30) -> dict:
    from shared.config import load_config
    from shared.jobs.selection import ChangedFiles, filter_presubmits, test_all_filter

    t0 = time.perf_counter()
    config = load_config(str(CORPUS / "kubernetes" / "config.yaml"), str(CORPUS / "kubernetes" / "jobs"))
    load_seconds = time.perf_counter() - t0
    repo, jobs = max(config.jobs.presubmits.items(), key=lambda item: len(item[1]))
    paths = _paths(1000)
    branch = "master"
    evaluations, floors, selected = [], [], 0
    patterns = [job.changes.changes_re for job in jobs if job.changes.changes_re is not None]
    for _ in range(runs):
        t = time.perf_counter()
        selected = len(filter_presubmits(jobs, test_all_filter, branch=branch, changes=ChangedFiles.of(paths)))
        evaluations.append(time.perf_counter() - t)
        t = time.perf_counter()
        for pattern in patterns:
            for path in paths:
                pattern.search(path)
        floors.append(time.perf_counter() - t)
    evaluation, floor = statistics.median(evaluations), statistics.median(floors)
    return {"repo": repo, "presubmits": len(jobs), "with_file_filters": len(patterns), "changed_files": len(paths),
            "selected": selected, "evaluation_ms": evaluation * 1000, "floor_ms": floor * 1000,
            "ratio_to_floor": evaluation / floor if floor else None, "config_load_s": load_seconds,
            "ratio_to_config_load": evaluation / load_seconds}


class _Store:
    """The JobStore's calls trigger makes, in memory."""

    def __init__(self):
        self.jobs = {}

    def find(self, job_id):
        return self.jobs.get(job_id)

    def get(self, job_id):
        return self.jobs[job_id]

    def create(self, job):
        self.jobs[job.name] = job
        return job

    def for_pull(self, repo, number):
        return [j for j in self.jobs.values() if j.repo == repo and number in j.pull_numbers]

    def modify(self, job_id, change):
        change(self.jobs[job_id])
        return self.jobs[job_id]


class _Queue:
    def enqueue(self, job_id, delay=0):
        pass


def github_requests() -> dict:
    from unittest import mock

    from shared.config import load_config
    from shared.events import parse_delivery
    from shared.github.client import GitHubClient
    from shared.jobs.start import JobStarter
    from shared.plugins import trigger
    from shared.plugins.registry import PluginContext
    from tests import payloads
    from tests.fakes.github import FakeGitHub

    repo = "metal3-io/baremetal-operator"
    config = load_config(str(METAL3 / "config.yaml"), str(METAL3 / "jobs"), str(METAL3 / "plugins.yaml"))
    starter = JobStarter(_Store(), _Queue(), namespace="prow")
    out = {}
    with FakeGitHub() as gh, mock.patch.object(trigger, "_starter", lambda ctx: starter):
        gh.add_repo(repo)
        gh.add_org_member("metal3-io", "member")
        number = gh.add_pull(repo, author="member", files=["controllers/host.go", "docs/a.md"])
        pr = gh.pull(repo, number)
        client = GitHubClient(base_url=gh.url, token=gh.token, backoff=())
        log = logging.LoggerAdapter(logging.getLogger("bench"), {})

        def run(name: str, event_name: str, payload: dict, handler) -> None:
            gh.clear_log()
            event = parse_delivery(event_name, f"bench-{name}", payload)
            target = event.event if handler is trigger.handle_pull_request else event.generic_comment
            with client.for_event(f"bench-{name}") as session:
                handler(PluginContext(plugin="trigger", delivery_id=f"bench-{name}", github=session,
                                      config=config, log=log), target)
            requests = [f"{r.method} {r.path}" for r in gh.log]
            out[name] = {"total": len(requests), "bot_login": sum(r == "GET /user" for r in requests),
                         "requests": requests, "jobs": len(starter.store.jobs)}

        run("pr_opened", "pull_request", payloads.pull_request_event(
            repo, number, author="member", head_sha=pr.head_sha, base_sha=pr.base_sha), trigger.handle_pull_request)
        gh.set_status(repo, pr.head_sha, "unit", "failure")
        gh.set_status(repo, pr.head_sha, "gomod", "success")
        run("retest", "issue_comment", payloads.issue_comment(repo, number, "/retest", commenter="member",
                                                              issue_author="member", on_pull=True),
            trigger.handle_comment)
    return {**out, "prow": {"pr_opened": PROW_PR_OPENED, "retest": PROW_RETEST}}


def run() -> dict:
    return {"selection": selection_time(), "requests": github_requests()}


def lines(r: dict) -> list[str]:
    s, q = r["selection"], r["requests"]
    out = [f"trigger selection, {s['repo']} ({s['presubmits']} presubmits, {s['with_file_filters']} with file "
           f"filters), {s['changed_files']} changed files: {s['evaluation_ms']:.2f} ms ({s['selected']} selected); "
           f"floor (each file regex over every path) {s['floor_ms']:.2f} ms: ratio {s['ratio_to_floor']:.2f}x; "
           f"corpus load {s['config_load_s']:.2f} s: ratio {s['ratio_to_config_load']:.4f}x"]
    for name, label in (("pr_opened", "PR opened"), ("retest", "/retest")):
        c = q[name]
        out.append(f"trigger GitHub requests per {label}: {c['total'] - c['bot_login']} "
                   f"(+{c['bot_login']} bot login once per process) vs Prow {q['prow'][name]}: "
                   f"{'; '.join(x for x in c['requests'] if x != 'GET /user')}")
    return out


if __name__ == "__main__":
    print("\n".join(lines(run())))
