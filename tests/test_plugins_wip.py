"""wip end to end: pull_request events through hook and dispatch; the label in the fake, no reads."""
import pytest

from shared import labels
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
WIP = labels.WORK_IN_PROGRESS


@pytest.fixture
def app(prow):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [wip]\n")
    prow.gh.add_repo(REPO)
    return prow


def pull_event(app, number, action, **fields):
    app.post("pull_request", payloads.pull_request_event(REPO, number, action=action, **fields))
    app.settle()


@pytest.mark.parametrize("action, title, draft, before, after", [
    ("opened", "WIP: new API", False, [], [WIP]),
    ("opened", "[WIP] new API", False, [], [WIP]),
    ("opened", "(wip) new API", False, [], [WIP]),
    ("opened", "WIP new API", False, [], [WIP]),
    ("opened", "Wipe out the cache", False, [], []),
    ("opened", "WIP", False, [], []),                      # a bare WIP has no separator after it
    ("opened", "Add API", True, [], [WIP]),                # drafts
    ("reopened", "WIP: x", False, [], [WIP]),
    ("edited", "Add API", False, [WIP], []),               # the prefix was removed
    ("edited", "Add API", False, ["Do-Not-Merge/Work-In-Progress"], ["Do-Not-Merge/Work-In-Progress"]),  # exact
    ("ready_for_review", "Add API", False, [WIP], []),
    ("converted_to_draft", "Add API", True, [], [WIP]),
    ("synchronize", "WIP: x", False, [], []),              # not an action that changes the title
    ("labeled", "WIP: x", False, [], []),
])
def test_wip(app, action, title, draft, before, after):
    number = app.gh.add_pull(REPO, title=title, draft=draft, labels=before)
    pull_event(app, number, action, title=title, draft=draft, labels=before)
    assert app.gh.labels(REPO, number) == after


def test_wip_reads_nothing_and_writes_only_a_change(app):
    number = app.gh.add_pull(REPO, title="WIP: x")
    app.gh.clear_log()
    pull_event(app, number, "opened", title="WIP: x")
    assert [(r.method, r.path) for r in app.gh.log] == [("POST", f"/repos/{REPO}/issues/{number}/labels")]
    app.gh.clear_log()
    pull_event(app, number, "edited", title="WIP: x, renamed", labels=[WIP])   # GitHub's next payload
    assert app.gh.log == []


def test_wip_delivered_twice_changes_nothing_the_second_time(app):
    number = app.gh.add_pull(REPO, title="WIP: x")
    event = payloads.pull_request_event(REPO, number, action="opened", title="WIP: x")
    sent = app.post("pull_request", event)
    app.settle()
    app.gh.clear_log()
    app.post("pull_request", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == []
    assert app.gh.labels(REPO, number) == [WIP]
