"""require-matching-label end to end, with metal3's configuration: needs-triage on metal3-io issues until
a triage/accepted label, and its comment pruned when the label comes."""
import time

import pytest

from shared.plugins.respond import format_simple_response
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "metal3-io/baremetal-operator"
COMMENT = "This issue is currently awaiting triage."
CONFIG = ("plugins:\n  metal3-io:\n    plugins: [require-matching-label]\n"
          "require_matching_label:\n- missing_label: needs-triage\n  org: metal3-io\n  issues: true\n  prs: false\n"
          f"  regexp: ^triage/accepted$\n  missing_comment: {COMMENT}\n  grace_period: {{grace}}\n"
          "- missing_label: needs-kind\n  org: metal3-io\n  prs: true\n  branch: main\n  regexp: ^kind/\n"
          "  grace_period: 10ms\n")


@pytest.fixture
def app(prow):
    prow.plugins_yaml(CONFIG.format(grace="10ms"))
    prow.gh.add_repo(REPO)
    return prow


def issue_event(app, number, action, labels=(), label=None):
    event = payloads.issues(REPO, number, action=action, labels=labels)
    if label:
        event["label"] = {"name": label}
    app.post("issues", event)
    app.settle()
    return event


def test_opened_issue_without_triage_gets_label_and_comment(app):
    number = app.gh.add_issue(REPO)
    issue_event(app, number, "opened")
    assert app.gh.labels(REPO, number) == ["needs-triage"]
    assert [c.body for c in app.gh.comments(REPO, number)] == [format_simple_response(COMMENT)]


def test_labels_added_during_the_grace_period_count(app):
    app.plugins_yaml(CONFIG.format(grace="1s"))
    number = app.gh.add_issue(REPO)
    started = time.monotonic()
    app.gh.update_issue(REPO, number, labels=["triage/accepted"])   # by other automation, after the event
    issue_event(app, number, "opened")
    assert time.monotonic() - started >= 1
    assert app.gh.labels(REPO, number) == ["triage/accepted"]


def test_matching_label_removes_the_missing_label_and_prunes_the_comment(app):
    number = app.gh.add_issue(REPO, labels=["needs-triage", "triage/accepted"])
    app.gh.add_comment(REPO, number, format_simple_response(COMMENT), author="ci-bot")
    app.gh.add_comment(REPO, number, "I can reproduce it", author="bob")
    app.gh.clear_log()
    issue_event(app, number, "labeled", labels=["needs-triage", "triage/accepted"], label="triage/accepted")
    assert app.gh.labels(REPO, number) == ["triage/accepted"]
    assert [c.body for c in app.gh.comments(REPO, number)] == ["I can reproduce it"]
    assert app.gh.find("GET", f"/repos/{REPO}/issues/{number}/labels") == []   # the payload's labels


def test_an_unrelated_label_event_does_nothing(app):
    number = app.gh.add_issue(REPO, labels=["kind/bug"])
    app.gh.clear_log()
    issue_event(app, number, "labeled", labels=["kind/bug"], label="kind/bug")
    assert app.gh.log == []


def test_removing_the_matching_label_brings_the_missing_label_back(app):
    number = app.gh.add_issue(REPO)
    issue_event(app, number, "unlabeled", labels=[], label="triage/accepted")
    assert app.gh.labels(REPO, number) == ["needs-triage"]


def test_prs_on_the_configured_branch_and_check_required_labels(app):
    number = app.gh.add_pull(REPO)
    app.post("pull_request", payloads.pull_request_event(REPO, number, action="opened"))
    app.settle()
    assert app.gh.labels(REPO, number) == ["needs-kind"]             # the issue rule does not apply to PRs
    other = app.gh.add_pull(REPO, base="release-1.0")
    app.post("pull_request", payloads.pull_request_event(REPO, other, action="opened", base="release-1.0"))
    app.settle()
    assert app.gh.labels(REPO, other) == []
    app.gh.update_pull(REPO, number, labels=["needs-kind", "kind/bug"])
    app.post("issue_comment", payloads.issue_comment(REPO, number, "/check-required-labels", on_pull=True))
    app.settle()
    assert app.gh.labels(REPO, number) == ["kind/bug"]


def test_delivered_twice_changes_nothing_the_second_time(app):
    number = app.gh.add_issue(REPO)
    event = payloads.issues(REPO, number, action="opened")
    sent = app.post("issues", event)
    app.settle()
    app.gh.clear_log()
    app.post("issues", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == []
    app.post("issues", {**event, "action": "reopened"})
    app.settle()
    assert len(app.gh.comments(REPO, number)) == 1 and app.gh.find("POST") == []
