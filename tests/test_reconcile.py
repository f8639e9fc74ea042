"""`reconcile` (plank + crier's GitHub reporter) on Azurite, against the fake Kubernetes API and fake GitHub.

Jobs are created through the JobStore and launched by the real `launch`; each story then moves the pods
and runs ticks, and reads the outcome where a user would see it: job states, pods, statuses, comments.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.github.client import GitHubClient
from shared.github.etag_cache import MemoryETagCache
from shared.jobs.create import new_prowjob, pull_refs
from shared.jobs.model import ABORTED, ERROR, FAILURE, PENDING, SUCCESS, TRIGGERED
from shared.jobs.store import JobStore
from shared.launcher import Launcher
from shared.reconciler import Reconciler
from shared.reporting import COMMENT_TAG, ReporterConfig
from shared.storage import default_clients
from tests.fakes.github import FakeGitHub
from tests.fakes.kube import FakeKube, write_kubeconfig
from tests.together import at_once

REPO = "org/repo"


@dataclass
class Env:
    gh: FakeGitHub
    kube: FakeKube
    store: JobStore
    launcher: Launcher
    reconciler: Reconciler
    now: list
    requeued: list
    pull: int
    head: str
    base: str

    def job(self, name: str = "unit", *, report: bool = True, optional: bool = False, pull: int | None = None,
            head: str | None = None, **spec) -> str:
        body = {"type": "presubmit", "agent": "kubernetes", "cluster": "default", "namespace": "test-pods",
                "job": name, "context": name, "report": report, "rerun_command": f"/test {name}",
                "refs": pull_refs("org", "repo", base_ref="main", base_sha=self.base, number=pull or self.pull,
                                  sha=head or self.head, author="alice"),
                "pod_spec": {"containers": [{"image": "golang", "command": ["make", "test"]}]}, **spec}
        job = new_prowjob(body, {"prow.k8s.io/is-optional": "true" if optional else "false"}, namespace="prow",
                          now=self.now[0])
        return self.store.create(job).name

    def launch(self, job_id: str) -> None:
        self.launcher.launch(job_id)

    def tick(self):
        return self.reconciler.run()

    def state(self, job_id: str) -> str:
        return self.store.get(job_id).state

    def statuses(self, context: str | None = None, sha: str | None = None):
        return [s for s in self.gh.statuses(REPO, sha or self.head) if context is None or s.context == context]

    def report_comments(self):
        return [c for c in self.gh.comments(REPO, self.pull) if COMMENT_TAG in c.body]

    def advance(self, **delta) -> None:
        self.now[0] = self.now[0] + timedelta(**delta)


def _plank_config(tmp_path: Path, text: str = "") -> dict:
    import yaml
    return yaml.safe_load(text) or {}


@pytest.fixture
def env(storage_env, unique_name, tmp_path, monkeypatch):
    clients = default_clients()
    store = JobStore(clients, table=unique_name("jobs"))
    store.ensure_table()
    plank: dict = {}
    reporter: dict = {"raw": {}}
    with FakeGitHub() as gh, FakeKube(token="k") as kube:
        gh.add_repo(REPO)
        pull = gh.add_pull(REPO, author="alice")
        head = gh.pull(REPO, pull).head_sha
        base = gh.branch_sha(REPO, "main")
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"default": kube})
        from shared.kube.clusters import Clusters
        clusters = Clusters(kubeconfig=str(kubeconfig))
        requeued: list = []
        launcher = Launcher(store=store, clusters=clusters, plank=lambda: plank,
                            requeue=lambda job_id, delay: requeued.append(job_id))
        client = GitHubClient(base_url=gh.url, token=gh.token, cache=MemoryETagCache(), backoff=())
        now = [datetime.now(timezone.utc)]
        reconciler = Reconciler(store=store, launcher=launcher, plank=lambda: plank,
                                reporter_config=lambda: ReporterConfig.from_prow(reporter["raw"]),
                                github=lambda org, repo: client.for_event("test-reconcile", org=org, repo=repo),
                                requeue=lambda job_id, delay: requeued.append(job_id), clock=lambda: now[0])
        e = Env(gh, kube, store, launcher, reconciler, now, requeued, pull, head, base)
        e.plank = plank
        e.reporter = reporter
        yield e


def test_pods_that_succeed_and_fail_give_statuses_and_one_failure_comment(env):
    ok, bad = env.job("unit"), env.job("e2e")
    env.tick()
    assert [s.state for s in env.statuses("unit")] == ["pending"]          # triggered is reported
    env.launch(ok), env.launch(bad)
    env.tick()
    [pending] = [s for s in env.statuses("unit") if s.description.startswith("Job triggered.")]
    assert pending.state == "pending" and pending.description.endswith(f" BaseSHA:{env.base}")
    assert len(pending.description.encode()) == 140 or len(pending.description.encode()) <= 142
    env.kube.run(ok), env.kube.run(bad)
    env.kube.succeed(ok), env.kube.fail_pod(bad, exit_code=2)
    env.tick()
    assert (env.state(ok), env.state(bad)) == (SUCCESS, FAILURE)
    assert env.statuses("unit")[-1].state == "success" and env.statuses("e2e")[-1].state == "failure"
    assert env.statuses("e2e")[-1].description.startswith("Job failed.")
    [comment] = env.report_comments()
    assert comment.body.startswith("@alice: The following test **failed**, say `/retest`")
    assert f"e2e | {env.head} | [link](" in comment.body and "| true | `/test e2e`" in comment.body
    posted = len(env.gh.statuses(REPO, env.head))
    env.tick()
    env.tick()
    assert len(env.gh.statuses(REPO, env.head)) == posted            # nothing re-posted
    assert len(env.report_comments()) == 1


def test_a_second_failure_reposts_the_comment_and_a_pass_removes_its_row(env):
    first = env.job("unit")
    env.launch(first)
    env.kube.fail_pod(first)
    env.tick()
    [old] = env.report_comments()
    second = env.job("lint", optional=True)
    env.launch(second)
    env.kube.fail_pod(second)
    env.tick()
    [new] = env.report_comments()
    assert new.id != old.id and "tests **failed**" in new.body
    assert "unit |" in new.body and "lint |" in new.body and "| false | `/test lint`" in new.body
    rerun = env.job("unit")
    env.launch(rerun)
    env.kube.succeed(rerun)
    env.tick()
    [edited] = env.report_comments()
    assert edited.id == new.id and "unit |" not in edited.body and "lint |" in edited.body


def test_the_report_template_is_rendered_into_the_comment(env):
    env.reporter["raw"] = {"plank": {"report_templates": {
        "*": "[history](https://prow/pr-history?org={{.Spec.Refs.Org}}&pr={{with index .Spec.Refs.Pulls 0}}"
             "{{.Number}}{{end}})"}}}
    job = env.job("unit")
    env.launch(job)
    env.kube.fail_pod(job)
    env.tick()
    [comment] = env.report_comments()
    assert f"[history](https://prow/pr-history?org=org&pr={env.pull})" in comment.body


def test_a_pod_deleted_under_a_running_job_is_an_error(env):
    job = env.job()
    env.launch(job)
    env.kube.run(job)
    env.tick()
    env.kube.graceful_delete = True
    env.launcher.clusters.get("default").delete_pod("test-pods", job)
    env.tick()
    assert (env.state(job), env.store.get(job).description) == (ERROR, "Pod got deleted unexpectedly")
    assert env.statuses("unit")[-1].state == "error"


def test_a_missing_pod_of_a_pending_job_is_created_again_with_a_new_build_id(env):
    job = env.job()
    env.launch(job)
    first = env.store.get(job).build_id
    env.launcher.clusters.get("default").delete_pod("test-pods", job)
    env.tick()
    record = env.store.get(job)
    [pod] = env.kube.pods("test-pods")
    assert record.state == PENDING and record.build_id != first
    assert pod["metadata"]["labels"]["prow.k8s.io/build-id"] == record.build_id


def test_an_evicted_pod_is_revived_until_max_revivals(env):
    env.plank["max_revivals"] = 2
    job = env.job()
    env.launch(job)
    builds = {env.store.get(job).build_id}
    for revival in (1, 2):
        env.kube.set_phase(job, "Failed", reason="Evicted")
        env.tick()                                   # deletes the pod, counts the revival
        assert env.store.get(job).status["pod_revival_count"] == revival
        env.tick()                                   # the pod is missing: started again
        builds.add(env.store.get(job).build_id)
        assert env.kube.pod("test-pods", job)["status"].get("reason") != "Evicted"
    env.kube.set_phase(job, "Failed", reason="Evicted")
    env.tick()
    record = env.store.get(job)
    assert record.state == ERROR and len(builds) == 3
    assert record.description == "Job pod reached max revivals (2) after being stopped unexpectedly (evicted)"


def test_error_on_eviction_and_oom_kill_end_in_error(env):
    evicted, oom = env.job("evicted", error_on_eviction=True), env.job("oom")
    env.launch(evicted), env.launch(oom)
    env.kube.set_phase(evicted, "Failed", reason="Evicted")
    env.kube.set_phase(oom, "Failed", exit_code=137, container_reason="OOMKilled")
    env.tick()
    assert env.store.get(evicted).description == "Job pod was evicted by the cluster."
    assert env.store.get(oom).description == "Job pod was OOM killed by the cluster."
    assert env.state(evicted) == env.state(oom) == ERROR


def test_timeouts_follow_the_clock(env):
    env.plank.update({"pod_unscheduled_timeout": "5m", "pod_pending_timeout": "10m", "pod_running_timeout": "1h"})
    unscheduled, pending, running = env.job("a"), env.job("b"), env.job("c")
    for job in (unscheduled, pending, running):
        env.launch(job)
    env.kube.schedule(pending)
    env.kube.run(running)
    env.advance(minutes=4)
    env.tick()
    assert {env.state(j) for j in (unscheduled, pending, running)} == {PENDING}
    env.advance(minutes=2)
    env.tick()
    assert env.store.get(unscheduled).description == "Pod scheduling timeout." and env.state(pending) == PENDING
    env.advance(minutes=5)
    env.tick()
    assert (env.state(pending), env.store.get(pending).description) == (ERROR, "Pod pending timeout.")
    env.advance(hours=1)
    env.tick()
    record = env.store.get(running)
    assert (record.state, record.description, record.complete) == (ABORTED, "Pod running timeout.", True)
    assert env.kube.pods("test-pods") == []
    assert env.statuses("c")[-1].state == "failure"


def test_a_newer_run_on_the_same_pull_aborts_the_older_silently(env):
    old = env.job("unit")
    env.launch(old)
    env.tick()
    new = env.job("unit", head="f" * 40)
    env.now[0] += timedelta(seconds=5)
    env.launch(new)
    env.tick()
    record = env.store.get(old)
    assert (record.state, record.complete) == (ABORTED, True)
    assert record.description == "Aborted as the newer version of this job is running."
    assert env.kube.pod("test-pods", old) is None and env.state(new) == PENDING
    assert [s.state for s in env.statuses("unit")] == ["pending"]      # the abort is not reported


def test_an_aborted_job_has_its_pod_deleted(env):
    job = env.job()
    env.launch(job)
    env.store.modify(job, lambda j: j.set_state(ABORTED, "Aborted by trigger plugin."))
    env.tick()
    assert env.store.get(job).complete and env.kube.pod("test-pods", job) is None
    assert env.statuses("unit")[-1].state == "failure"


def test_a_triggered_job_whose_message_was_lost_is_queued_again(env):
    job = env.job()
    env.tick()
    assert env.requeued == []
    env.advance(minutes=3)
    env.tick()
    assert env.requeued == [job] and env.state(job) == TRIGGERED


def test_a_github_failure_is_retried_on_the_next_tick(env):
    job = env.job()
    env.launch(job)
    env.kube.succeed(job)
    env.gh.fail("POST", f"/repos/{REPO}/statuses/*", status=502, times=1)
    result = env.tick()
    assert job in result.report_failures and env.state(job) == SUCCESS
    assert not [s for s in env.statuses("unit") if s.state == "success"]
    env.tick()                            # the job is complete: found through the `unreported` index
    assert env.statuses("unit")[-1].state == "success"
    assert env.store.unreported() == []


def test_the_cluster_failing_leaves_jobs_for_a_later_tick_with_one_pod(env):
    job = env.job()
    env.launch(job)
    env.kube.succeed(job)
    env.kube.fail("GET", "/api/v1/namespaces/test-pods/pods", status=500)
    result = env.tick()
    assert result.skipped_clusters == ["default/test-pods"] and env.state(job) == PENDING
    env.kube.fail_timeout("GET", "/api/v1/namespaces/test-pods/pods", delay=0.3)
    env.launcher.clusters.get("default").timeout = (0.2, 0.2)
    env.tick()
    assert env.state(job) == PENDING
    env.tick()
    assert env.state(job) == SUCCESS and len(env.kube.pods("test-pods")) == 1


def test_one_list_call_per_cluster_and_namespace(env):
    jobs = [env.job(f"j{i}") for i in range(5)]
    for job in jobs:
        env.launch(job)
    env.kube.clear_log()
    result = env.tick()
    assert result.list_calls == 1
    assert env.kube.count("GET", "/api/v1/namespaces/test-pods/pods") == 1
    assert env.kube.count("GET", "/api/v1/namespaces/test-pods/pods/*") == 0


def test_two_ticks_at_once_converge(env):
    jobs = [env.job(f"j{i}") for i in range(4)]
    for job in jobs:
        env.launch(job)
    env.launcher.clusters.get("default").delete_pod("test-pods", jobs[0])     # to be started again
    env.kube.succeed(jobs[1])
    env.kube.fail_pod(jobs[2])
    env.kube.set_phase(jobs[3], "Failed", reason="Evicted")
    errors = at_once(env.tick, env.tick)
    env.tick()
    assert errors == []
    assert [env.state(j) for j in jobs] == [PENDING, SUCCESS, FAILURE, PENDING]
    assert env.store.get(jobs[3]).status["pod_revival_count"] == 1
    names = [p["metadata"]["name"] for p in env.kube.pods("test-pods")]
    assert sorted(names) == sorted(set(names)) and jobs[0] in names
    assert len(env.kube.find("POST", "/api/v1/namespaces/test-pods/pods")) <= 4 + 2 + 1
    assert env.statuses("j1")[-1].state == "success" and env.statuses("j2")[-1].state == "failure"
    assert len(env.report_comments()) == 1
    assert [s.state for s in env.statuses("j2")] == ["failure"]        # posted once, by one tick


def test_two_instances_reporting_one_failure_at_once_leave_exactly_one_comment(env):
    """Two reconcile instances (own reconciler, own GitHub client) report the same failed job at the
    same moment, 20 times over on 20 pull requests: each PR ends with exactly one failure comment and
    one failure status, and both ticks' reports are accounted for (one reports, one defers or finds
    nothing left to do)."""
    other = Reconciler(store=env.store, launcher=env.launcher, plank=lambda: env.plank,
                       reporter_config=env.reconciler.reporter_config,
                       github=lambda org, repo: GitHubClient(base_url=env.gh.url, token=env.gh.token,
                                                             cache=MemoryETagCache(), backoff=()
                                                             ).for_event("other", org=org, repo=repo),
                       requeue=lambda job_id, delay: None, clock=lambda: env.now[0])
    for _ in range(20):
        pull = env.gh.add_pull(REPO, author="alice")
        head = env.gh.pull(REPO, pull).head_sha
        job = env.job("e2e", pull=pull, head=head)
        env.launch(job)
        env.reconciler.run()                     # pending reported: only the failure is left to race
        env.kube.fail_pod(job)
        assert at_once(env.reconciler.run, other.run) == []
        env.reconciler.run()
        comments = [c for c in env.gh.comments(REPO, pull) if COMMENT_TAG in c.body]
        assert len(comments) == 1, f"PR #{pull}: {len(comments)} failure comments"
        assert [s.state for s in env.gh.statuses(REPO, head) if s.context == "e2e"] == ["pending", "failure"]
        assert env.store.unreported() == []


def test_jobs_that_do_not_report_post_nothing(env):
    env.reporter["raw"] = {"github_reporter": {"job_types_to_report": ["postsubmit"]}}
    job = env.job("unit")
    quiet = env.job("quiet", report=False)
    env.launch(job), env.launch(quiet)
    env.kube.fail_pod(job), env.kube.fail_pod(quiet)
    env.tick()
    assert env.gh.statuses(REPO, env.head) == [] and env.report_comments() == []
    assert env.store.unreported() == []


def test_a_report_lease_held_by_another_tick_defers_until_it_lapses(env):
    from shared.jobs.reportlock import ReportLease
    job = env.job("unit")
    env.launch(job)
    env.kube.fail_pod(job)
    held = ReportLease(env.store, f"{REPO}#{env.pull}", owner="a tick that died", clock=lambda: env.now[0])
    assert held.acquire()
    result = env.tick()
    assert job in result.report_deferred and env.state(job) == FAILURE
    assert env.statuses("unit") == [] and env.report_comments() == []
    env.advance(minutes=3)                       # the dead tick's lease lapses
    env.tick()
    assert [s.state for s in env.statuses("unit")] == ["failure"] and len(env.report_comments()) == 1
    assert env.store.unreported() == []


def test_a_failing_on_complete_does_not_stop_the_tick_or_its_reports(env):
    def broken(job, pod):
        raise RuntimeError("artifact container missing")

    env.reconciler.on_complete = broken
    first, second = env.job("unit"), env.job("lint")
    for job in (first, second):
        env.launch(job)
        env.kube.fail_pod(job)
    env.tick()
    assert env.state(first) == env.state(second) == FAILURE
    assert env.statuses("unit")[-1].state == env.statuses("lint")[-1].state == "failure"
    assert len(env.report_comments()) == 1


def test_summary_comment_repos_get_one_comment_for_all_jobs_once_all_are_complete(env):
    env.reporter["raw"] = {"github_reporter": {"summary_comment_repos": ["org"]}}
    unit, lint = env.job("unit"), env.job("lint")
    env.launch(unit), env.launch(lint)
    env.kube.succeed(unit)
    env.tick()
    assert env.state(unit) == SUCCESS and env.report_comments() == []       # lint still runs
    env.kube.succeed(lint)
    env.tick()
    [passed] = env.report_comments()
    assert passed.body.startswith("@alice: all tests **passed!**\n")
    rerun = env.job("lint")
    env.launch(rerun)
    env.kube.fail_pod(rerun)
    env.tick()
    [failed] = env.report_comments()
    assert failed.id != passed.id and "The following test **failed**" in failed.body
    assert "lint |" in failed.body and "unit |" not in failed.body


def test_a_summary_with_an_aborted_job_and_no_failure_posts_nothing(env):
    env.reporter["raw"] = {"github_reporter": {"summary_comment_repos": ["org/repo"]}}
    ok, gone = env.job("unit"), env.job("lint")
    env.launch(ok), env.launch(gone)
    env.kube.succeed(ok)
    env.store.modify(gone, lambda j: j.set_state(ABORTED, "Aborted by trigger plugin."))
    env.tick()
    assert env.state(ok) == SUCCESS and env.store.get(gone).complete
    assert env.report_comments() == []


def test_the_launcher_publishes_a_pending_job_and_a_failed_publish_is_made_good_by_the_next_tick(env):
    published, changed = [], []
    env.launcher.publish = lambda job: published.append((job.name, job.state))
    first = env.job("unit")
    env.launch(first)
    assert published == [(first, PENDING)]

    def down(job):
        raise RuntimeError("blob storage down")

    env.launcher.publish = down
    second = env.job("lint")
    env.launch(second)                                      # the launch stands
    assert env.state(second) == PENDING
    env.reconciler.on_changed = lambda jobs: changed.append(sorted(j.name for j in jobs))
    env.tick()
    assert changed == [[second]]                            # only the one whose publish failed
    env.tick()
    assert changed == [[second]]                            # published once, not every tick


def test_the_jobs_one_delivery_starts_are_published_in_one_call(env):
    from shared.jobs.start import JobStarter
    calls = []

    class Queue:
        def enqueue(self, job_id, delay=0):
            pass

    starter = JobStarter(env.store, Queue(), publish=lambda jobs: calls.append(sorted(j.job for j in jobs)))
    body = {"type": "periodic", "agent": "kubernetes", "cluster": "default",
            "pod_spec": {"containers": [{"image": "golang"}]}}
    jobs = [new_prowjob({**body, "job": name}, {}, namespace="prow") for name in ("a", "b", "c")]
    starter.start_all(jobs)
    starter.start_all(jobs)                  # a retried delivery: nothing new, nothing published
    assert calls == [["a", "b", "c"]]


def test_a_job_created_by_the_starter_is_published_even_when_publishing_fails(env):
    from shared.jobs.start import JobStarter
    published, queued = [], []

    class Queue:
        def enqueue(self, job_id, delay=0):
            queued.append(job_id)

    starter = JobStarter(env.store, Queue(), publish=lambda jobs: published.extend((j.name, j.state) for j in jobs))
    body = {"type": "periodic", "agent": "kubernetes", "job": "nightly", "cluster": "default",
            "pod_spec": {"containers": [{"image": "golang"}]}}
    job = starter.start(new_prowjob(body, {}, namespace="prow"))
    assert published == [(job.name, TRIGGERED)] and queued == [job.name]

    def down(jobs):
        raise RuntimeError("blob storage down")

    starter.publish = down
    other = starter.start(new_prowjob({**body, "job": "weekly"}, {}, namespace="prow"))
    assert queued[-1] == other.name and env.state(other.name) == TRIGGERED
