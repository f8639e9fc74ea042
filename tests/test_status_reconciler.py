"""status_reconciler through the Functions host: a job config change while PRs are open."""
from __future__ import annotations

import uuid

import pytest

from shared.jobs.buildid import new_build_id
from shared.jobs.store import JobStore
from shared.status_reconciler import RETIRED, StateTable, StatusReconciler, moved_description
from shared.storage import STATUS_RECONCILER_TABLE, default_clients
from tests.appenv import prow  # noqa: F401  (fixture)

REPO = "org/repo"
POD = "spec: {containers: [{image: golang, command: [make]}]}"
BEFORE = f"""\
presubmits:
  org/repo:
  - name: unit
    always_run: true
    {POD}
  - name: lint
    always_run: true
    branches: [main]
    {POD}
  - name: e2e
    always_run: true
    skip_report: true
    {POD}
  - name: integration
    always_run: true
    context: ci/integration
    {POD}
"""
AFTER = f"""\
presubmits:
  org/repo:
  - name: unit
    always_run: true
    {POD}
  - name: e2e
    always_run: true
    {POD}
  - name: go-test
    run_if_changed: '\\.go$'
    {POD}
  - name: manual
    {POD}
  - name: integration
    always_run: true
    context: integration
    {POD}
"""


def write_jobs(prow, text: str) -> None:
    (prow.config_dir / "jobs.yaml").write_text(text)
    from shared.config.source import default_source
    default_source().refresh()


@pytest.fixture
def repo(prow, monkeypatch):
    default_clients().table().delete_table(STATUS_RECONCILER_TABLE)     # every test starts with no state
    SINCE["created"] = new_build_id()
    monkeypatch.setenv("PROW_JOB_CONFIG_PATH", str(prow.config_dir / "jobs.yaml"))
    monkeypatch.setenv("PROW_STATUS_RECONCILER_MAX_RETIRE_SHARE", "0.5")
    write_jobs(prow, BEFORE)
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [trigger]\n")
    prow.gh.add_repo(REPO)
    prow.gh.add_org_member("org", "alice")
    # fresh head commits per test: the job table is shared by the session, and job ids follow the head
    SHAS.update({digit: (digit + uuid.uuid4().hex * 2)[:40] for digit in "12345"})
    pulls = {
        "docs": prow.gh.add_pull(REPO, author="alice", head_sha=SHAS["1"], files=["docs/a.md"]),
        "go": prow.gh.add_pull(REPO, author="alice", head_sha=SHAS["2"], files=["pkg/x.go"]),
        "outsider": prow.gh.add_pull(REPO, author="mallory", head_sha=SHAS["3"], files=["pkg/y.go"]),
        "release": prow.gh.add_pull(REPO, author="alice", head_sha=SHAS["4"], base="release-1.0", files=["a.go"]),
        "conflict": prow.gh.add_pull(REPO, author="alice", head_sha=SHAS["5"], mergeable=False, files=["b.go"]),
    }
    for sha in SHAS.values():
        for context in ("unit", "lint", "ci/integration"):
            prow.gh.set_status(REPO, sha, context, "success", description="Job succeeded.")
    return pulls


SINCE = {"created": "0"}
SHAS: dict[str, str] = {}


def jobs_of(number: int) -> list[str]:
    """The jobs of PR `number` created in this test (the job table is shared by the whole session)."""
    return sorted(job.job for job in JobStore(default_clients()).for_pull(REPO, number)
                  if int(job.created) > int(SINCE["created"]))


def retirements(prow, digit: str, context: str) -> list:
    return [s for s in prow.gh.statuses(REPO, SHAS[digit]) if s.context == context and s.state == "error"]


def test_newly_required_jobs_start_and_removed_contexts_are_retired_once(prow, repo):
    prow.host.run_timer("status_reconciler")            # the first run remembers the config
    assert all(jobs_of(n) == [] for n in repo.values())

    write_jobs(prow, AFTER)
    prow.host.run_timer("status_reconciler")

    # e2e started reporting (now required) on every trusted, mergeable PR; go-test is new and runs
    # where Go files changed; the manual job is never started; nothing for the outsider's PR.
    assert jobs_of(repo["docs"]) == ["e2e"]
    assert jobs_of(repo["go"]) == ["e2e", "go-test"]
    assert jobs_of(repo["release"]) == ["e2e", "go-test"]
    assert jobs_of(repo["outsider"]) == [] and jobs_of(repo["conflict"]) == []
    # lint ran on main only: its context is retired there, on every PR, trusted or not.
    for sha in "1235":
        [retired] = retirements(prow, sha, "lint")
        assert retired.description == RETIRED
    assert retirements(prow, "4", "lint") == []
    # integration's context was renamed: the status moves.
    for sha in "12345":
        [moved] = retirements(prow, sha, "ci/integration")
        assert moved.description == moved_description("integration")
        assert [s.state for s in prow.gh.statuses(REPO, SHAS[sha]) if s.context == "integration"] == ["success"]

    prow.host.run_timer("status_reconciler")              # nothing changed since: nothing more
    assert jobs_of(repo["go"]) == ["e2e", "go-test"] and len(retirements(prow, "1", "lint")) == 1


def test_an_interrupted_run_resumes_without_doing_anything_twice(prow, repo):
    from shared.config.source import get_config
    from shared.github.client import default_client
    prow.host.run_timer("status_reconciler")
    write_jobs(prow, AFTER)
    with default_client().for_event("test") as gh:
        reconciler = StatusReconciler(state=StateTable(default_clients()), github=gh, config=get_config, max_pulls=2)
        outcomes = [reconciler.run().outcome for _ in range(4)]
    assert outcomes == ["partial", "partial", "done", "unchanged"]
    assert jobs_of(repo["go"]) == ["e2e", "go-test"] and jobs_of(repo["docs"]) == ["e2e"]
    assert all(len(retirements(prow, sha, "lint")) == 1 for sha in "1235")


def test_a_config_that_would_retire_too_many_contexts_is_not_acted_on(prow, repo, caplog):
    prow.host.run_timer("status_reconciler")
    write_jobs(prow, f"presubmits:\n  org/repo:\n  - name: unit\n    always_run: true\n    {POD}\n")
    with caplog.at_level("ERROR", logger="prow.status_reconciler"):
        prow.host.run_timer("status_reconciler")
        prow.host.run_timer("status_reconciler")
    assert all(retirements(prow, sha, "lint") == [] for sha in "12345")
    refusals = [r.getMessage() for r in caplog.records if "not acting" in r.getMessage()]
    assert len(refusals) == 1 and "would retire 3 of 4 contexts" in refusals[0]

    write_jobs(prow, AFTER)                               # a sensible change is compared with the last good one
    prow.host.run_timer("status_reconciler")
    assert len(retirements(prow, "1", "lint")) == 1


def test_a_job_config_with_errors_is_not_acted_on(prow, repo, caplog):
    from shared.config.loader import load_config
    from shared.github.client import default_client
    prow.host.run_timer("status_reconciler")
    broken = AFTER.replace("run_if_changed: '\\.go$'", "run_if_changed: '(unclosed'")
    (prow.config_dir / "jobs.yaml").write_text(broken)
    loaded = load_config(str(prow.config_dir / "config.yaml"), str(prow.config_dir / "jobs.yaml"))
    assert not loaded.ok
    with default_client().for_event("test") as gh, caplog.at_level("ERROR", logger="prow.status_reconciler"):
        result = StatusReconciler(state=StateTable(default_clients()), github=gh, config=lambda: loaded).run()
    assert result.outcome == "refused" and any("config with errors" in r.getMessage() for r in caplog.records)
    assert all(retirements(prow, sha, "lint") == [] for sha in "12345") and jobs_of(repo["go"]) == []
