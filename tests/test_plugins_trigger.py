"""trigger end to end on metal3's job config: hook -> dispatch -> trigger -> job records -> launch -> pods
in the fake Kubernetes API, with the fake GitHub for trust, labels, files, statuses and comments."""
from __future__ import annotations

import logging
import random

import pytest

from shared.jobs.model import ABORTED, FAILURE, PENDING, TRIGGERED
from shared.jobs.selection import TARGET_NOT_FOUND_NOTE
from shared.jobs.start import ABORTED_BY_TRIGGER, event_job_id
from shared.jobs.store import JobStore
from shared.storage import default_clients
from tests import payloads
from tests.appenv import build_cluster, prow  # noqa: F401
from tests.fakes.kube import FakeKube
from tests.conftest import CORPUS as SHARED_CORPUS

METAL3 = str(SHARED_CORPUS / "prow-configs" / "metal3")
REPO = "metal3-io/baremetal-operator"
PLUGINS = ("plugins:\n  metal3-io:\n    plugins: [trigger]\n"
           "triggers:\n- repos: [metal3-io]\n  trigger_github_workflows: true\n")
GO_CHANGE = ["controllers/host.go"]
GO_JOBS = {"gomod", "generate", "unit", "manifestlint", "golangci-lint", "pr-verifier"}
DOC_JOBS = {"markdownlint", "pr-verifier", "yamllint"}


class Story:
    def __init__(self, app, kube: FakeKube):
        self.app, self.gh, self.kube = app, app.gh, kube
        self.store = JobStore(default_clients())
        self.number = random.randint(10_000, 10_000_000)     # the Table outlives a test: PRs never collide

    def open(self, author: str, files=GO_CHANGE, *, action: str = "opened", draft: bool = False, **fields) -> dict:
        self.gh.add_pull(REPO, self.number, author=author, files=files, draft=draft, title="Fix hosts")
        return self.pr_event(action, author=author, draft=draft, **fields)

    def pr_event(self, action: str, *, author: str | None = None, delivery: str | None = None, **fields) -> dict:
        pr = self.gh.pull(REPO, self.number)
        label = fields.pop("label", None)
        event = payloads.pull_request_event(REPO, self.number, action=action, author=author or pr.user,
                                            head_sha=pr.head_sha, base_sha=pr.base_sha, title="Fix hosts", **fields)
        event["pull_request"]["head"]["ref"] = pr.head_ref
        if label:
            event["label"] = {"name": label}
        headers = self.app.post("pull_request", event, delivery=delivery)
        self.app.settle()
        return headers

    def comment(self, body: str, commenter: str, *, delivery: str | None = None) -> dict:
        pr = self.gh.pull(REPO, self.number)
        headers = self.app.post("issue_comment", payloads.issue_comment(
            REPO, self.number, body, commenter=commenter, issue_author=pr.user, on_pull=True), delivery=delivery)
        self.app.settle()
        return headers

    def jobs(self, *, state: str | None = None) -> dict[str, object]:
        jobs = self.store.for_pull(REPO, self.number)
        return {j.job: j for j in jobs if state is None or j.state == state}

    def pods(self) -> list[dict]:
        return [p for p in self.kube.pods("test-pods")
                if p["metadata"]["labels"].get("prow.k8s.io/refs.pull") == str(self.number)]

    def pod_jobs(self) -> list[str]:
        return sorted(p["metadata"]["labels"]["prow.k8s.io/job"] for p in self.pods())

    def bot_comments(self) -> list[str]:
        return [c.body for c in self.gh.comments(REPO, self.number) if c.user == self.gh.login]


@pytest.fixture
def story(prow, tmp_path, monkeypatch):
    from shared.config.source import default_source

    monkeypatch.setenv("PROW_CONFIG_PATH", f"{METAL3}/config.yaml")
    monkeypatch.setenv("PROW_JOB_CONFIG_PATH", f"{METAL3}/jobs")
    monkeypatch.setenv("PROW_ARTIFACTS_CLIENT_ID", "11111111-2222-3333-4444-555555555555")   # decorated pods
    prow.plugins_yaml(PLUGINS)
    default_source().refresh()
    prow.gh.add_repo(REPO)
    prow.gh.add_org_member("metal3-io", "member")
    prow.gh.add_user("outsider")
    with build_cluster(tmp_path, monkeypatch) as kube:
        yield Story(prow, kube)


def test_a_member_opens_a_pr_and_the_matching_presubmits_get_pods(story):
    story.open("member")
    jobs = story.jobs()
    assert set(jobs) == GO_JOBS                                   # markdownlint, shellcheck, test: filters say no
    assert all(j.state == PENDING for j in jobs.values())
    assert story.pod_jobs() == sorted(GO_JOBS)
    gomod = jobs["gomod"]
    pull = gomod.refs["pulls"][0]
    assert (pull["number"], pull["author"], pull["sha"]) == (story.number, "member", story.gh.pull(REPO, story.number).head_sha)
    assert gomod.refs["base_sha"] == story.gh.branch_sha(REPO, "main")
    assert gomod.namespace == "prow" and gomod.labels["prow.k8s.io/is-optional"] == "false"
    assert story.bot_comments() == [] and story.gh.statuses(REPO, pull["sha"]) == []   # trigger posts no status


def test_a_documentation_change_runs_only_the_documentation_jobs(story):
    story.open("member", files=["docs/api.md"])
    assert set(story.jobs()) == DOC_JOBS


def test_a_pr_with_3000_changed_files_reads_every_page_once(story):
    files = [f"docs/page{i}.md" for i in range(2999)] + ["controllers/host.go"]
    story.open("member", files=files)
    assert set(story.jobs()) == GO_JOBS | DOC_JOBS                # the .go file is on the last page
    assert story.gh.count("GET", f"/repos/{REPO}/pulls/{story.number}/files") == 30


def test_an_outsider_needs_ok_to_test_and_a_member_gives_it(story):
    story.open("outsider")
    assert story.gh.labels(REPO, story.number) == ["needs-ok-to-test"]
    [welcome] = story.bot_comments()
    assert welcome.startswith("Hi @outsider. Thanks for your PR.\n\nI'm waiting for a [metal3-io](https://github.com/"
                              "orgs/metal3-io/people) member to verify")
    assert "https://go.k8s.io/bot-commands?repo=metal3-io%2Fbaremetal-operator" in welcome
    assert story.jobs() == {} and story.pods() == []

    story.comment("/retest", "outsider")                          # the author cannot start jobs alone
    assert story.jobs() == {}
    assert "Cannot trigger testing until a trusted user reviews the PR and leaves an `/ok-to-test` message." \
        in story.bot_comments()[-1]

    story.comment("/ok-to-test", "member")
    assert story.gh.labels(REPO, story.number) == ["ok-to-test"]
    assert set(story.jobs()) == GO_JOBS and story.pod_jobs() == sorted(GO_JOBS)


def test_ok_to_test_approves_waiting_workflow_runs_and_retest_reruns_failed_ones(story):
    story.open("outsider")
    pr = story.gh.pull(REPO, story.number)
    waiting = story.gh.add_workflow_run(REPO, pr.head_ref, pr.head_sha, "lint", conclusion="action_required")
    failed = story.gh.add_workflow_run(REPO, pr.head_ref, pr.head_sha, "build", conclusion="failure")
    story.comment("/ok-to-test", "member")
    runs = {r.id: r for r in story.gh.workflow_runs(REPO)}
    assert runs[waiting].approved and runs[failed].run_attempt == 1
    story.comment("/retest", "member")
    assert {r.id: r for r in story.gh.workflow_runs(REPO)}[failed].run_attempt == 2


def test_a_push_aborts_the_running_jobs_and_starts_new_ones(story):
    story.open("member")
    old = story.jobs()
    story.gh.update_pull(REPO, story.number, head_sha="c" * 40)
    story.pr_event("synchronize")
    by_id = {j.name: j for j in story.store.for_pull(REPO, story.number)}
    for job in old.values():
        assert (by_id[job.name].state, by_id[job.name].description) == (ABORTED, ABORTED_BY_TRIGGER)
        assert not by_id[job.name].complete                       # the reconciler deletes the pod, then completes
    new = [j for j in by_id.values() if j.name not in {o.name for o in old.values()}]
    assert {j.job for j in new} == GO_JOBS and all(j.state == PENDING for j in new)
    assert {j.refs["pulls"][0]["sha"] for j in new} == {"c" * 40}
    assert len(story.pods()) == 2 * len(GO_JOBS)


def test_closing_the_pr_aborts_and_reopening_builds_again(story):
    story.open("member")
    story.pr_event("closed", state="closed")
    assert {j.state for j in story.jobs().values()} == {ABORTED}
    story.pr_event("reopened")
    assert len(story.jobs(state=PENDING)) == len(GO_JOBS)


def test_retest_runs_failed_jobs_and_automatic_jobs_without_a_status(story):
    story.open("member", files=["hack/tool.sh"])
    sha = story.gh.pull(REPO, story.number).head_sha
    story.gh.set_status(REPO, sha, "unit", "failure")
    story.gh.set_status(REPO, sha, "gomod", "success")
    story.gh.set_status(REPO, sha, "shellcheck", "error")
    story.gh.set_status(REPO, sha, "generate", "pending")
    before = {j.name for j in story.store.for_pull(REPO, story.number)}
    story.comment("/retest", "member")
    rerun = [j for j in story.store.for_pull(REPO, story.number) if j.name not in before]
    # failed: unit, shellcheck; automatic without a status: test, manifestlint, golangci-lint, pr-verifier
    assert sorted(j.job for j in rerun) == sorted(["unit", "shellcheck", "test", "manifestlint", "golangci-lint",
                                                   "pr-verifier"])
    assert all(j.labels["prow.k8s.io/retest"] == "true" for j in rerun)


def test_test_names_a_job_that_runs_even_if_its_files_did_not_change(story):
    story.open("member", files=["docs/a.md"])
    story.comment("/test unit", "member")
    assert "unit" in story.jobs()


def test_test_of_a_jenkins_job_gets_a_comment_and_nothing_else(story):
    story.open("member")
    pods, jobs = len(story.pods()), set(story.store.for_pull(REPO, story.number))
    story.comment("/test metal3-centos-e2e-basic-test-main", "member")
    [reply] = story.bot_comments()
    assert reply.startswith("@member: This app does not run jobs of the `jenkins` agent")
    assert "`metal3-centos-e2e-basic-test-main`" in reply
    assert len(story.store.for_pull(REPO, story.number)) == len(jobs) and len(story.pods()) == pods
    assert story.gh.statuses(REPO, story.gh.pull(REPO, story.number).head_sha) == []


def test_test_question_lists_the_jobs_and_an_unknown_target_says_so(story):
    story.open("member", draft=True)
    assert story.jobs() == {} and story.bot_comments()[0].startswith("Skipping CI for Draft Pull Request.")
    story.comment("/test ?", "member")
    listing = story.bot_comments()[-1]
    assert "The following commands are available to trigger required jobs:\n```\n/test generate\n```" in listing
    assert "```\n/test gomod\n```" in listing
    assert "The following commands are available to trigger optional jobs:" in listing
    assert "```\n/test metal3-centos-e2e-basic-test-main\n```" in listing
    story.comment("/test nosuchjob", "member")
    assert TARGET_NOT_FOUND_NOTE in story.bot_comments()[-1]
    story.comment("/test unit", "member")                         # a real /test prunes the help replies
    assert [c for c in story.bot_comments() if "available to trigger" in c] == []
    assert set(story.jobs()) == {"unit"}


def test_each_delivery_run_twice_makes_one_job_and_one_pod(story):
    """An attempt that fails part-way runs the delivery's plugins again: the job ids are the same."""
    from shared.config.source import get_config
    from shared.events import parse_delivery
    from shared.github.client import default_client
    from shared.plugins import trigger
    from shared.plugins.registry import PluginContext

    headers = story.open("member")
    delivery = headers["X-GitHub-Delivery"]
    first = {j.name for j in story.store.for_pull(REPO, story.number)}
    pr = story.gh.pull(REPO, story.number)
    payload = payloads.pull_request_event(REPO, story.number, action="opened", author="member",
                                          head_sha=pr.head_sha, base_sha=pr.base_sha)
    event = parse_delivery("pull_request", delivery, payload).event
    with default_client().for_event(delivery) as gh:
        ctx = PluginContext(plugin="trigger", delivery_id=delivery, github=gh, config=get_config(),
                            log=logging.LoggerAdapter(logging.getLogger("test"), {}))
        trigger.handle_pull_request(ctx, event)
    story.app.settle()
    assert {j.name for j in story.store.for_pull(REPO, story.number)} == first
    assert first == {event_job_id(delivery, name) for name in GO_JOBS}
    assert len(story.pods()) == len(GO_JOBS)
    assert story.store.unfinished_pointers() and len({p["Id"] for p in story.store.unfinished_pointers()}) == \
        len(story.store.unfinished_pointers())


def test_synchronize_delivered_twice_does_not_abort_its_own_new_jobs(story):
    story.open("member")
    story.gh.update_pull(REPO, story.number, head_sha="d" * 40)
    story.pr_event("synchronize", delivery="sync-1")
    from shared.config.source import get_config
    from shared.events import parse_delivery
    from shared.github.client import default_client
    from shared.plugins import trigger
    from shared.plugins.registry import PluginContext
    pr = story.gh.pull(REPO, story.number)
    event = parse_delivery("pull_request", "sync-1", payloads.pull_request_event(
        REPO, story.number, action="synchronize", author="member", head_sha=pr.head_sha)).event
    with default_client().for_event("sync-1") as gh:
        trigger.handle_pull_request(PluginContext(plugin="trigger", delivery_id="sync-1", github=gh,
                                                  config=get_config(), log=logging.LoggerAdapter(
                                                      logging.getLogger("test"), {})), event)
    assert {j.job for j in story.jobs(state=PENDING).values()} == GO_JOBS
    assert len([j for j in story.store.for_pull(REPO, story.number) if j.state == ABORTED]) == len(GO_JOBS)


def test_an_untrusted_pr_labelled_lgtm_runs_once(story):
    story.open("outsider")
    story.pr_event("labeled", label="lgtm")
    assert set(story.jobs()) == GO_JOBS


IGNORE_OK_TO_TEST = ("plugins:\n  metal3-io:\n    plugins: [trigger]\n"
                     "triggers:\n- repos: [metal3-io/baremetal-operator]\n  ignore_ok_to_test: true\n")


def test_ignore_ok_to_test_an_outsider_gets_the_other_welcome_and_no_label(story):
    story.app.plugins_yaml(IGNORE_OK_TO_TEST)
    story.open("outsider")
    [welcome] = story.bot_comments()
    assert welcome.startswith("Hi @outsider. Thanks for your PR.\n\nPRs from untrusted users cannot be marked as "
                              "trusted with `/ok-to-test` in this repo meaning untrusted PR authors can never trigger "
                              "tests themselves. Collaborators can still trigger tests on the PR using `/test all`.")
    assert story.gh.labels(REPO, story.number) == [] and story.jobs() == {}
    story.comment("/retest", "outsider")
    reply = story.bot_comments()[-1]
    assert reply.startswith("@outsider: PRs from untrusted users cannot be marked as trusted with `/ok-to-test` in "
                            "this repo meaning untrusted PR authors can never trigger tests themselves. "
                            "Collaborators can still trigger tests on the PR using `/test`.")
    assert story.jobs() == {}


def test_ignore_ok_to_test_ok_to_test_does_nothing_and_test_all_by_a_member_runs(story):
    story.app.plugins_yaml(IGNORE_OK_TO_TEST)
    story.open("outsider")
    comments = len(story.bot_comments())
    story.comment("/ok-to-test", "member")
    assert story.gh.labels(REPO, story.number) == [] and story.jobs() == {}
    assert len(story.bot_comments()) == comments                 # no reply either
    story.comment("/ok-to-test cancel", "member")
    assert story.gh.labels(REPO, story.number) == []              # cancel is ignored too: no needs-ok-to-test
    story.comment("/test all", "member")
    assert set(story.jobs()) == GO_JOBS and story.pod_jobs() == sorted(GO_JOBS)
    story.gh.update_pull(REPO, story.number, head_sha="e" * 40)
    story.pr_event("synchronize")                                 # still untrusted: new commits start nothing
    assert {j.job for j in story.jobs(state=PENDING).values()} == set()


def test_ignore_ok_to_test_a_person_adding_the_label_still_makes_the_pr_trusted(story):
    """Prow's TrustedPullRequest reads the `ok-to-test` label whatever ignore_ok_to_test says."""
    story.app.plugins_yaml(IGNORE_OK_TO_TEST)
    story.open("outsider")
    story.gh.update_issue(REPO, story.number, labels=["ok-to-test"])
    pr = story.gh.pull(REPO, story.number)
    event = payloads.pull_request_event(REPO, story.number, action="labeled", author="outsider",
                                        head_sha=pr.head_sha, base_sha=pr.base_sha, title="Fix hosts")
    event["pull_request"]["head"]["ref"] = pr.head_ref
    event["label"], event["sender"] = {"name": "ok-to-test"}, payloads.user("member")
    story.app.post("pull_request", event)
    story.app.settle()
    assert set(story.jobs()) == GO_JOBS
