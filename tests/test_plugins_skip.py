"""skip end to end: /skip through hook and dispatch against presubmits from config.yaml and statuses in
the fake: optional contexts become `Skipped`, required ones never."""
import pytest

from shared.config.source import default_source
from tests import payloads
from tests.appenv import CONFIG_YAML, prow  # noqa: F401

REPO = "org/repo"
JOBS = """presubmits:
  org/repo:
  - name: unit
    always_run: true
    spec: {containers: [{image: alpine}]}
  - name: lint
    optional: true
    always_run: true
    spec: {containers: [{image: alpine}]}
  - name: e2e
    optional: true
    context: e2e-context
    spec: {containers: [{image: alpine}]}
  - name: docs
    optional: true
    spec: {containers: [{image: alpine}]}
"""


@pytest.fixture
def app(prow):
    (prow.config_dir / "config.yaml").write_text(CONFIG_YAML + JOBS)
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [skip]\n")
    default_source().refresh()
    prow.gh.add_repo(REPO)
    return prow


def skip(app, statuses, body="/skip", state="open"):
    number = app.gh.add_pull(REPO, state=state)
    sha = app.gh.pull(REPO, number).head_sha
    for context, status in statuses.items():
        app.gh.set_status(REPO, sha, context, status, creator="ci-bot")
    app.post("issue_comment", payloads.issue_comment(REPO, number, body, on_pull=True, state=state))
    app.settle()
    return {s.context: (s.state, s.description) for s in app.gh.statuses(REPO, sha)}, number


def test_failed_and_pending_optional_contexts_are_skipped(app):
    after, _ = skip(app, {"unit": "failure", "lint": "failure", "e2e-context": "pending", "docs": "success"})
    assert after["unit"] == ("failure", "")                 # required: untouched
    assert after["lint"] == ("success", "Skipped")
    assert after["e2e-context"] == ("success", "Skipped")
    assert after["docs"] == ("success", "")


def test_a_job_the_same_comment_tests_is_not_skipped(app):
    after, _ = skip(app, {"lint": "failure", "e2e-context": "failure"}, body="/skip\n/test e2e")
    assert after["lint"] == ("success", "Skipped") and after["e2e-context"] == ("failure", "")


def test_retest_in_the_same_comment_keeps_failed_jobs(app):
    after, _ = skip(app, {"lint": "failure", "e2e-context": "pending"}, body="/skip\n/retest")
    assert after["lint"] == ("failure", "") and after["e2e-context"] == ("success", "Skipped")


def test_nothing_when_everything_passed_or_the_pr_is_closed(app):
    app.gh.clear_log()
    skip(app, {"unit": "success", "lint": "success"})
    assert app.gh.find("POST", "/repos/org/repo/statuses/*") == []
    after, _ = skip(app, {"lint": "failure"}, state="closed")
    assert after["lint"] == ("failure", "")


def test_skip_delivered_twice_changes_nothing_the_second_time(app):
    number = app.gh.add_pull(REPO)
    sha = app.gh.pull(REPO, number).head_sha
    app.gh.set_status(REPO, sha, "lint", "failure", creator="ci-bot")
    event = payloads.issue_comment(REPO, number, "/skip", on_pull=True)
    sent = app.post("issue_comment", event)
    app.settle()
    app.gh.clear_log()
    app.post("issue_comment", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == []
    app.post("issue_comment", event)          # a second /skip: already success, nothing to write
    app.settle()
    assert app.gh.find("POST") == []
