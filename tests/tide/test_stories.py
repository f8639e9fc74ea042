"""Tide stories in the harness: config.yaml → fake GitHub → the `tide` timer → merges, jobs, statuses, blobs."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.appenv import prow  # noqa: F401  (the fixture)

PRESUBMIT = """
presubmits:
  {repo}:
  - name: unit
    always_run: true
    spec: {{containers: [{{image: alpine}}]}}
"""


def tide_config(repo: str, *, extra: str = "", jobs: bool = True) -> str:
    text = f"""prowjob_namespace: prow
pod_namespace: test-pods
tide:
  queries:
  - repos: [{repo}]
    labels: [lgtm, approved]
    missingLabels: [do-not-merge/hold]
{extra}"""
    return text + (PRESUBMIT.format(repo=repo) if jobs else "")


class Tide:
    """The app with Tide configured for one fresh repository."""

    def __init__(self, app, monkeypatch, *, extra: str = "", jobs: bool = True):
        self.app, self.gh = app, app.gh
        self.repo = f"org{uuid.uuid4().hex[:8]}/repo"
        self.gh.add_repo(self.repo)
        self.slept: list[float] = []
        import shared.tide.sync as sync
        monkeypatch.setattr(sync, "_sleep", self.slept.append)
        self.configure(tide_config(self.repo, extra=extra, jobs=jobs))
        from shared.storage import default_clients
        from shared.tide.state import TideState
        self.state = TideState(default_clients())
        self.state.release()
        for key in self.state.failed_merges():
            self.state.forget_failed(key)
        try:
            self.state.table().delete_entity("lock", "sync")
        except Exception:
            pass

    def configure(self, text: str) -> None:
        (self.app.config_dir / "config.yaml").write_text(text)
        from shared.config.source import default_source
        default_source().refresh()

    def ready_pr(self, *, labels=("lgtm", "approved"), tested=True, **kwargs) -> int:
        n = self.gh.add_pull(self.repo, labels=list(labels), files=["main.go"], **kwargs)
        if tested:   # a green result from the old base (trigger's run when the PR was opened)
            self.gh.set_status(self.repo, self.gh.pull(self.repo, n).head_sha, "unit", "success",
                               description="Job succeeded.")
        return n

    def sync(self):
        self.app.host.run_timer("tide")

    def jobs(self):
        from shared.jobs.store import JobStore
        from shared.storage import default_clients
        store = JobStore(default_clients())
        found = {}
        for n in self.gh.repo(self.repo).issues:
            for job in store.for_pull(self.repo, n):
                found[job.name] = job
        return sorted(found.values(), key=lambda j: j.created)

    def finish(self, job, state: str) -> None:
        from shared.jobs.store import JobStore
        from shared.storage import default_clients
        JobStore(default_clients()).modify(job.name, lambda j: j.set_state(state))

    def tide_status(self, n: int):
        sha = self.gh.pull(self.repo, n).head_sha
        found = [s for s in self.gh.statuses(self.repo, sha) if s.context == "tide"]
        return (found[-1].state, found[-1].description) if found else None

    def pool(self) -> dict:
        doc = self.state.read_json("data/tide.json")
        return next(p for p in doc["Pools"] if f"{p['Org']}/{p['Repo']}" == self.repo)

    def history(self) -> list[dict]:
        return self.state.read_json("data/tide-history.json")["History"].get(f"{self.repo}:main", [])

    def merges(self) -> int:
        return self.gh.count("PUT", f"/repos/{self.repo}/pulls/*/merge")


@pytest.fixture
def tide(prow, monkeypatch):  # noqa: F811
    return lambda **kwargs: Tide(prow, monkeypatch, **kwargs)


def test_two_ready_prs_are_tested_in_a_batch_then_both_merge(tide):
    t = tide()
    a, b = t.ready_pr(), t.ready_pr()
    t.sync()
    [batch] = t.jobs()
    assert batch.type == "batch" and sorted(batch.pull_numbers) == [a, b]
    assert batch.labels["created-by-tide"] == "true"
    assert batch.refs["base_sha"] == t.gh.branch_sha(t.repo, "main")
    assert t.app.host.messages("prowjobs") and json.loads(t.app.host.messages("prowjobs")[-1])["id"] == batch.name
    assert t.pool()["Action"] == "TRIGGER_BATCH"
    assert t.tide_status(a) == ("pending", "Not mergeable. Retesting: unit")
    t.sync()                                     # still running: wait, no second batch
    assert len(t.jobs()) == 1 and t.pool()["Action"] == "WAIT"
    t.finish(batch, "success")
    t.sync()
    assert t.gh.merged(t.repo, a) and t.gh.merged(t.repo, b)
    assert [h["action"] for h in t.history()] == ["MERGE_BATCH", "TRIGGER_BATCH"]
    assert t.slept == [5.0]                      # Prow's pause between the merges of a batch
    assert t.tide_status(a) == ("success", "In merge pool.")


def test_a_pr_that_loses_lgtm_while_its_tests_run_is_not_merged(tide):
    t = tide()
    n = t.ready_pr()
    t.sync()
    [job] = t.jobs()
    assert job.type == "presubmit" and job.pull_numbers == [n] and t.pool()["Action"] == "TRIGGER"
    t.gh.update_pull(t.repo, n, labels=["approved"])
    t.finish(job, "success")
    t.sync()
    assert not t.gh.merged(t.repo, n) and t.merges() == 0
    assert t.tide_status(n) == ("pending", "Not mergeable. Needs lgtm label.")


def test_a_failing_batch_merges_nothing_and_the_prs_are_retested_singly(tide):
    t = tide()
    a, b = t.ready_pr(), t.ready_pr()
    t.sync()
    [batch] = t.jobs()
    t.finish(batch, "failure")
    t.sync()
    assert t.merges() == 0
    single = [j for j in t.jobs() if j.type == "presubmit"]
    assert [j.pull_numbers for j in single] == [[a]] and t.pool()["Action"] == "TRIGGER"
    t.finish(single[0], "success")
    t.sync()
    assert t.gh.merged(t.repo, a) and not t.gh.merged(t.repo, b)


def test_a_conflicting_pr_is_left_out_of_the_pool(tide):
    t = tide()
    bad = t.ready_pr(mergeable=False)
    good = t.ready_pr()
    t.sync()
    assert t.tide_status(bad) == ("error", "Not mergeable. PR has a merge conflict.")
    assert [j.pull_numbers for j in t.jobs()] == [[good]]
    assert [p["Number"] for p in t.pool()["MissingPRs"]] == [good]


def test_a_blocker_issue_stops_merges_into_its_branch(tide):
    t = tide(extra="  blocker_label: merge-blocker\n", jobs=False)
    n = t.ready_pr()
    other = t.ready_pr(labels=["approved"])
    issue = t.gh.add_issue(t.repo, title="CI is broken branch:main", labels=["merge-blocker"])
    t.sync()
    assert t.merges() == 0 and t.jobs() == []
    pool = t.pool()
    assert pool["Action"] == "BLOCKED" and [b["Number"] for b in pool["Blockers"]] == [issue]
    assert t.tide_status(other) == ("error", f"Not mergeable. Merging is blocked by issue {issue}.")
    t.gh.update_issue(t.repo, issue, state="closed")
    t.sync()
    assert t.gh.merged(t.repo, n)


def test_the_status_is_written_only_when_it_changes(tide):
    t = tide(jobs=False)
    n = t.ready_pr(labels=["approved"])
    t.sync()
    t.sync()
    statuses = [s for s in t.gh.statuses(t.repo, t.gh.pull(t.repo, n).head_sha) if s.context == "tide"]
    assert [(s.state, s.description) for s in statuses] == [("pending", "Not mergeable. Needs lgtm label.")]


def test_one_sync_costs_one_graphql_request_and_no_rest_reads(tide):
    t = tide(jobs=False)
    for _ in range(3):
        t.ready_pr(labels=["approved"])
    t.sync()
    t.gh.clear_log()
    t.sync()
    assert [(r.method, r.path) for r in t.gh.log] == [("POST", "/graphql")]
