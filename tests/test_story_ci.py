"""CI stories end to end through the Functions host, on metal3's config: a webhook goes through `hook`,
`dispatch` (trigger), `launch` (pods in the fake Kubernetes API) and the `reconcile` timer
(`FunctionsHost.run_timer`), and the outcome is read where a contributor sees it: pods, commit statuses
with Prow's contexts, descriptions and links, and the failure comment on the pull request."""
from __future__ import annotations

import pytest

from shared.jobs.model import ABORTED, FAILURE, PENDING, SUCCESS
from shared.jobs.queue import launch_message
from shared.jobs.start import ABORTED_BY_TRIGGER
from shared.jobs.store import ACTIVE, UNREPORTED
from shared.reporting import COMMENT_TAG
from shared.storage import PROWJOBS_QUEUE
from tests.appenv import prow  # noqa: F401
from tests.test_plugins_trigger import GO_JOBS, REPO, story  # noqa: F401
from tests.together import at_once

VIEW = "https://prow.apps.test.metal3.io/view/s3/prow-logs/pr-logs/pull/metal3-io_baremetal-operator"
HISTORY = "https://prow.apps.test.metal3.io/pr-history?org=metal3-io&repo=baremetal-operator&pr="
FAILING = {"gomod": "true", "unit": "false"}          # a required and an optional job fail; the rest pass


class CI:
    def __init__(self, story):
        self.story, self.gh, self.kube, self.store = story, story.gh, story.kube, story.store
        self.host = story.app.host

    def reconcile(self) -> None:
        self.host.run_timer("reconcile")

    def reconcile_twice_at_once(self) -> None:
        assert at_once(self.reconcile, self.reconcile) == []

    @property
    def number(self) -> int:
        return self.story.number

    def head(self) -> str:
        return self.gh.pull(REPO, self.number).head_sha

    def statuses(self, sha: str | None = None) -> dict[str, list]:
        by_context: dict[str, list] = {}
        for status in self.gh.statuses(REPO, sha or self.head()):
            by_context.setdefault(status.context, []).append(status)
        return by_context

    def failure_comments(self) -> list[str]:
        return [c.body for c in self.gh.comments(REPO, self.number) if COMMENT_TAG in c.body]

    def finish_pods(self) -> None:
        """The failing jobs' pods fail, every other pod of the PR succeeds."""
        for pod in self.story.pods():
            name, job = pod["metadata"]["name"], pod["metadata"]["labels"]["prow.k8s.io/job"]
            self.kube.run(name)
            if job in FAILING:
                self.kube.fail_pod(name, exit_code=2)
            else:
                self.kube.succeed(name)


@pytest.fixture
def ci(story):
    """The reconcile timer reads every unfinished job in the store: start from this story's alone."""
    for partition in (ACTIVE, UNREPORTED):
        for entity in list(story.store.table().query_entities("PartitionKey eq @pk", parameters={"pk": partition})):
            story.store.table().delete_entity(partition, entity["RowKey"])
    return CI(story)


def _described(status) -> tuple[str, str, str]:
    """A status as a contributor reads it (Prow pads before ` BaseSHA:` with U+2001 to align it)."""
    return status.state, status.description.replace("\u2001", ""), status.target_url


def _assert_final_results(ci: CI, base: str) -> None:
    jobs = ci.story.jobs()
    statuses = ci.statuses()
    assert {name: [s.state for s in posted] for name, posted in statuses.items()} == \
        {name: ["pending", "failure" if name in FAILING else "success"] for name in GO_JOBS}   # contexts: job names
    for name, job in jobs.items():
        url = f"{VIEW}/{ci.number}/{name}/{job.build_id}"
        pending, final = statuses[name]
        assert _described(pending) == ("pending", f"Job triggered. BaseSHA:{base}", url)
        if name in FAILING:
            assert job.state == FAILURE
            assert _described(final) == ("failure", f"Job failed. BaseSHA:{base}", url)
        else:
            assert job.state == SUCCESS
            assert _described(final) == ("success", f"Job succeeded. BaseSHA:{base}", url)
    [comment] = ci.failure_comments()
    assert comment.startswith("@member: The following tests **failed**, say `/retest` to rerun all failed tests or "
                              "`/retest-required` to rerun all mandatory failed tests:")
    for name, required in FAILING.items():
        row = f"{name} | {ci.head()} | [link]({VIEW}/{ci.number}/{name}/{jobs[name].build_id}) | {required} | " \
              f"`/test {name}`"
        assert row in comment.split("\n")
    assert f"[Full PR test history]({HISTORY}{ci.number})" in comment
    assert "author:member)" in comment


def test_a_member_opens_a_pr_sees_pending_then_results_and_one_failure_comment(ci):
    ci.story.open("member")                                  # a Go change: docs-only jobs do not run
    base = ci.gh.branch_sha(REPO, "main")
    assert ci.story.pod_jobs() == sorted(GO_JOBS)
    ci.reconcile()
    assert {name: [s.state for s in posted] for name, posted in ci.statuses().items()} == \
        {name: ["pending"] for name in GO_JOBS}
    assert ci.failure_comments() == []
    ci.finish_pods()
    ci.reconcile()
    _assert_final_results(ci, base)
    posted = len(ci.gh.statuses(REPO, ci.head()))
    ci.reconcile()
    ci.reconcile()
    assert len(ci.gh.statuses(REPO, ci.head())) == posted and len(ci.failure_comments()) == 1


def test_a_push_while_jobs_run_aborts_them_deletes_their_pods_and_starts_new_ones(ci):
    ci.story.open("member")
    ci.reconcile()
    old = ci.story.jobs()
    for job in old.values():
        ci.kube.run(job.name)
    old_head = ci.head()
    ci.gh.update_pull(REPO, ci.number, head_sha="e" * 40)
    ci.story.pr_event("synchronize")
    ci.reconcile()
    by_id = {j.name: j for j in ci.store.for_pull(REPO, ci.number)}
    for job in old.values():
        record = by_id[job.name]
        assert (record.state, record.description, record.complete) == (ABORTED, ABORTED_BY_TRIGGER, True)
        assert ci.kube.pod("test-pods", job.name) is None
    new = {j.job: j for j in by_id.values() if j.name not in {o.name for o in old.values()}}
    assert set(new) == GO_JOBS and {j.state for j in new.values()} == {PENDING}
    assert sorted(p["metadata"]["name"] for p in ci.story.pods()) == sorted(j.name for j in new.values())
    assert {name: [s.state for s in posted] for name, posted in ci.statuses("e" * 40).items()} == \
        {name: ["pending"] for name in GO_JOBS}
    assert old_head != "e" * 40 and ci.failure_comments() == []     # an aborted run is not a failure


def test_every_message_twice_and_two_reconciles_at_once_give_one_pod_per_job_and_one_comment(ci):
    headers = ci.story.open("member")
    base = ci.gh.branch_sha(REPO, "main")
    delivery = headers["X-GitHub-Delivery"]
    ci.story.app.post("pull_request", ci.story.app.posted[-1]["body"], delivery=delivery)   # GitHub redelivers
    ci.story.app.settle()
    jobs = ci.story.jobs()
    assert set(jobs) == GO_JOBS and len(ci.store.for_pull(REPO, ci.number)) == len(GO_JOBS)
    for job in jobs.values():                                # every launch message delivered again
        ci.host.send(PROWJOBS_QUEUE, launch_message(job.name))
    ci.story.app.settle()
    assert sorted(p["metadata"]["name"] for p in ci.story.pods()) == sorted(j.name for j in jobs.values())
    ci.reconcile_twice_at_once()
    ci.reconcile()
    ci.finish_pods()
    ci.reconcile_twice_at_once()
    ci.reconcile()
    _assert_final_results(ci, base)                          # each status once, one comment
    assert ci.kube.count("POST", "/api/v1/namespaces/test-pods/pods") == len(GO_JOBS)
    assert ci.store.unreported() == [] and ci.store.unfinished() == []

