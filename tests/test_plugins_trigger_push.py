"""trigger's postsubmits end to end: a push delivery -> dispatch -> trigger -> job records -> launch ->
pods in the fake Kubernetes API, on a job config written for these tests (Prow's push.go with
Postsubmit.ShouldRun: branches/skip_branches as unanchored regexes, tags matched as branches, the
pushed commits' files for run_if_changed/skip_if_only_changed, deleted refs start nothing)."""
from __future__ import annotations

import random

import pytest

from shared.jobs.model import PENDING
from shared.jobs.start import event_job_id
from shared.jobs.store import JobStore
from shared.storage import default_clients
from tests import payloads
from tests.appenv import build_cluster, prow  # noqa: F401
from tests.fakes.kube import FakeKube

ORG = "acme"
PLUGINS = "plugins:\n  acme:\n    plugins: [trigger]\n"
SPEC = "    spec: {containers: [{image: 'alpine:3.20', command: [make, test]}]}\n"
JOBS = {
    # no filters at all: every branch and tag, whatever changed
    "post-all": "    labels: {team: infra}\n    annotations: {owner: infra-team}\n",
    "post-main": "    branches: [main]\n",
    "post-release": "    branches: ['^release-\\d+\\.\\d+$']\n",
    "post-not-dev": "    skip_branches: ['^dev-']\n",
    "post-versions": "    branches: ['^v\\d+\\.\\d+\\.\\d+$']\n",
    "post-docs": "    run_if_changed: '^docs/'\n",
    "post-code": "    skip_if_only_changed: '\\.md$'\n",
    "post-never": "    always_run: false\n",
    "post-always": "    always_run: true\n    branches: [main]\n",
    "post-jenkins": "    agent: jenkins\n",
}
UNFILTERED = {"post-all", "post-not-dev", "post-always"}      # no file filter; run on main


def job_config(repo: str) -> str:
    text = f"postsubmits:\n  {repo}:\n"
    for name, fields in JOBS.items():
        text += f"  - name: {name}\n{fields}" + ("" if "agent: jenkins" in fields else SPEC)
    return text


class Pushes:
    def __init__(self, app, kube: FakeKube, repo: str):
        self.app, self.gh, self.kube, self.repo = app, app.gh, kube, repo
        self.store = JobStore(default_clients())

    def push(self, ref: str = "refs/heads/main", *, files: list[list[str]] | None = None, delivery: str | None = None,
             **fields) -> str:
        """Push commits (one per list of modified paths); returns the delivery id."""
        commits = [{"modified": paths} for paths in (files if files is not None else [["main.go"]])]
        payload = payloads.push(self.repo, ref=ref, commits=commits, **fields)
        delivery = self.app.post("push", payload, delivery=delivery)["X-GitHub-Delivery"]
        self.app.settle()
        return delivery

    def started(self, delivery: str) -> dict:
        """{job name: record} of the postsubmits this delivery started."""
        jobs = {name: self.store.find(event_job_id(delivery, name)) for name in JOBS}
        return {name: job for name, job in jobs.items() if job is not None}

    def pods(self, delivery: str) -> list[dict]:
        ids = {event_job_id(delivery, name) for name in JOBS}
        return [p for p in self.kube.pods("test-pods") if p["metadata"]["name"] in ids]


@pytest.fixture
def pushes(prow, tmp_path, monkeypatch):
    from shared.config.source import default_source

    repo = f"{ORG}/svc{random.randint(10_000, 10_000_000)}"     # the Table outlives a test: repos never collide
    jobs_dir = prow.config_dir / "jobs"
    jobs_dir.mkdir()
    (jobs_dir / "postsubmits.yaml").write_text(job_config(repo))
    monkeypatch.setenv("PROW_JOB_CONFIG_PATH", str(jobs_dir))
    prow.plugins_yaml(PLUGINS)
    default_source().refresh()
    prow.gh.add_repo(repo)
    with build_cluster(tmp_path, monkeypatch) as kube:
        yield Pushes(prow, kube, repo)


def test_a_push_to_main_starts_the_postsubmits_for_main_as_prow_records_them(pushes):
    delivery = pushes.push("refs/heads/main", files=[["main.go"], ["README.md"]], after="c" * 40, before="a" * 40)
    jobs = pushes.started(delivery)
    assert set(jobs) == UNFILTERED | {"post-main", "post-code"}  # docs/ not touched; always_run: false never
    assert sorted(p["metadata"]["labels"]["prow.k8s.io/job"] for p in pushes.pods(delivery)) == sorted(jobs)
    job = jobs["post-all"]
    assert job.state == PENDING and job.type == "postsubmit"
    assert job.refs == {"org": ORG, "repo": pushes.repo.split("/")[1], "repo_link": f"https://github.com/{pushes.repo}",
                        "base_ref": "main", "base_sha": "c" * 40,
                        "base_link": f"https://github.com/{pushes.repo}/compare/aaaaaaaaaaaa...cccccccccccc"}
    assert "pulls" not in job.refs
    assert job.labels["team"] == "infra" and job.annotations["owner"] == "infra-team"
    assert job.labels["event-GUID"] == delivery
    assert job.labels["created-by-prow"] == "true" and job.labels["prow.k8s.io/type"] == "postsubmit"
    assert job.labels["prow.k8s.io/refs.base_ref"] == "main" and job.labels["prow.k8s.io/refs.org"] == ORG
    assert "prow.k8s.io/refs.pull" not in job.labels and "prow.k8s.io/is-optional" not in job.labels
    assert job.annotations["prow.k8s.io/job"] == "post-all"
    [pod] = [p for p in pushes.pods(delivery) if p["metadata"]["labels"]["prow.k8s.io/job"] == "post-all"]
    assert pod["metadata"]["labels"]["prow.k8s.io/type"] == "postsubmit" and pod["metadata"]["labels"]["team"] == "infra"


def test_branch_regexes_are_searched_unanchored_and_skip_branches_win(pushes):
    release = pushes.started(pushes.push("refs/heads/release-1.30"))
    assert set(release) == {"post-all", "post-not-dev", "post-release", "post-code"}
    assert release["post-release"].refs["base_ref"] == "release-1.30"
    assert set(pushes.started(pushes.push("refs/heads/release-1.30-rc"))) == {"post-all", "post-not-dev",
                                                                              "post-code"}   # `$` anchors
    # `branches: [main]` is a regex searched in the name, as Prow's MatchString does: `maintenance` matches
    assert set(pushes.started(pushes.push("refs/heads/maintenance"))) == UNFILTERED | {"post-main", "post-code"}
    assert set(pushes.started(pushes.push("refs/heads/dev-alice"))) == {"post-all", "post-code"}


def test_a_branch_name_with_slashes_keeps_them(pushes):
    jobs = pushes.started(pushes.push("refs/heads/feature/release-2.0"))
    assert jobs["post-all"].refs["base_ref"] == "feature/release-2.0"
    assert jobs["post-all"].labels["prow.k8s.io/refs.base_ref"] == "release-2.0"   # a label value: its basename
    assert "post-release" not in jobs and "post-main" not in jobs


def test_a_tag_push_matches_branch_filters_by_the_tag_name(pushes):
    """Prow's PushEvent.Branch strips refs/tags/ too; a new tag's payload lists no commits, so the
    jobs with file filters do not run, and the others run if their branch filter takes the tag."""
    delivery = pushes.push("refs/tags/v1.2.3", files=[], created=True, before="0" * 40, after="e" * 40)
    jobs = pushes.started(delivery)
    assert set(jobs) == {"post-all", "post-not-dev", "post-versions"}
    assert jobs["post-versions"].refs["base_ref"] == "v1.2.3" and jobs["post-versions"].refs["base_sha"] == "e" * 40
    assert len(pushes.pods(delivery)) == 3


def test_a_deleted_branch_or_tag_starts_nothing(pushes):
    deleted = pushes.push("refs/heads/main", deleted=True, after="0" * 40, files=[])
    assert pushes.started(deleted) == {} and pushes.pods(deleted) == []
    deleted_tag = pushes.push("refs/tags/v1.2.3", deleted=True, after="0" * 40, files=[])
    assert pushes.started(deleted_tag) == {}
    null_after = pushes.push("refs/heads/main", after="0" * 40)      # `deleted` missing, `after` all zeros
    assert pushes.started(null_after) == {}


def test_run_if_changed_reads_added_removed_and_modified_of_every_pushed_commit(pushes):
    for files in ({"added": ["docs/new.md"]}, {"removed": ["docs/old.md"]}, {"modified": ["docs/index.md"]}):
        payload = payloads.push(pushes.repo, ref="refs/heads/dev-x", commits=[{"modified": ["main.go"]}, files])
        delivery = pushes.app.post("push", payload)["X-GitHub-Delivery"]
        pushes.app.settle()
        assert "post-docs" in pushes.started(delivery), files


def test_skip_if_only_changed_skips_a_push_of_only_matching_files(pushes):
    docs_only = pushes.started(pushes.push("refs/heads/main", files=[["README.md"], ["docs/guide.md"]]))
    assert "post-code" not in docs_only and "post-docs" in docs_only
    assert "post-code" in pushes.started(pushes.push("refs/heads/main", files=[["README.md"], ["cmd/main.go"]]))


def test_a_push_that_changes_no_files_runs_no_file_filtered_job(pushes):
    jobs = pushes.started(pushes.push("refs/heads/main", files=[[]]))       # e.g. an empty commit
    assert set(jobs) == UNFILTERED | {"post-main"}


def test_every_commit_of_a_long_push_counts(pushes):
    """Webhook deliveries list the pushed commits without the Events API's 20-commit cut: the file
    that only the 25th commit touches starts its job (we read the payload as Prow does)."""
    files = [[f"pkg/file{i}.go"] for i in range(24)] + [["docs/late.md"]]
    jobs = pushes.started(pushes.push("refs/heads/main", files=files))
    assert "post-docs" in jobs


def test_always_run_false_without_file_filters_never_runs(pushes):
    for ref in ("refs/heads/main", "refs/heads/release-1.0", "refs/tags/v0.1.0"):
        assert "post-never" not in pushes.started(pushes.push(ref, files=[["docs/x.md", "a.go"]]))


def test_a_jenkins_postsubmit_is_not_recorded(pushes):
    delivery = pushes.push("refs/heads/main")
    assert "post-jenkins" not in pushes.started(delivery)
    assert all(p["metadata"]["labels"]["prow.k8s.io/job"] != "post-jenkins" for p in pushes.pods(delivery))


def test_a_push_delivered_twice_makes_one_job_and_one_pod_each(pushes):
    payload = payloads.push(pushes.repo, ref="refs/heads/main", commits=[{"modified": ["docs/a.md"]}])
    pushes.app.post("push", payload, delivery="push-twice-" + pushes.repo)
    pushes.app.settle()
    first = pushes.started("push-twice-" + pushes.repo)
    _rerun_trigger(pushes, "push-twice-" + pushes.repo, payload)    # the delivery's plugins run again
    pushes.app.settle()
    again = pushes.started("push-twice-" + pushes.repo)
    assert set(again) == set(first) == UNFILTERED | {"post-main", "post-docs"}
    assert {name: job.name for name, job in again.items()} == {name: job.name for name, job in first.items()}
    pods = pushes.pods("push-twice-" + pushes.repo)
    assert len(pods) == len(first) and len({p["metadata"]["name"] for p in pods}) == len(first)
    assert len(pushes.store.history("post-main", limit=1000)) == len(
        {j.name for j in pushes.store.history("post-main", limit=1000)})


def _rerun_trigger(pushes, delivery: str, payload: dict) -> None:
    import logging

    from shared.config.source import get_config
    from shared.events import parse_delivery
    from shared.github.client import default_client
    from shared.plugins import trigger
    from shared.plugins.registry import PluginContext

    event = parse_delivery("push", delivery, payload).event
    with default_client().for_event(delivery) as gh:
        ctx = PluginContext(plugin="trigger", delivery_id=delivery, github=gh, config=get_config(),
                            log=logging.LoggerAdapter(logging.getLogger("test"), {}))
        trigger.handle_push(ctx, event)


def test_a_push_makes_no_github_request(pushes):
    """The branch, the SHA and the changed files all come from the payload (as Prow's handlePE)."""
    before = pushes.gh.count()
    delivery = pushes.push("refs/heads/main", files=[["docs/a.md"]])
    assert "post-docs" in pushes.started(delivery)
    assert pushes.gh.count() == before
