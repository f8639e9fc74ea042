"""lifecycle end to end: /close, /reopen and /lifecycle through hook and dispatch, as Prow allows them."""
import pytest

from shared import labels
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
STALE, ROTTEN, FROZEN, ACTIVE = (labels.LIFECYCLE_STALE, labels.LIFECYCLE_ROTTEN, labels.LIFECYCLE_FROZEN,
                                 labels.LIFECYCLE_ACTIVE)


@pytest.fixture
def app(prow):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [lifecycle]\n")
    prow.gh.add_repo(REPO)
    prow.gh.add_collaborator(REPO, "collab")
    return prow


def add(app, is_pr, **kw):
    return app.gh.add_pull(REPO, author="alice", **kw) if is_pr else app.gh.add_issue(REPO, author="alice", **kw)


def comment(app, number, body, *, is_pr, commenter, state="open", labels_=()):
    event = payloads.issue_comment(REPO, number, body, commenter=commenter, issue_author="alice", on_pull=is_pr,
                                   state=state, labels=labels_)
    app.post("issue_comment", event)
    app.settle()
    return event


def replies(app, number):
    return [c.body.split("\n\n<details>")[0] for c in app.gh.comments(REPO, number)]


@pytest.mark.parametrize("is_pr, commenter, body, before, state_after, reason, reply", [
    (False, "alice", "/close", [], "closed", "completed", "@alice: Closing this issue."),
    (True, "alice", "/close", [], "closed", None, "@alice: Closed this PR."),
    (False, "collab", "/close", [], "closed", "completed", "@collab: Closing this issue."),
    (False, "bob", "/close", [], "open", None,
     "@bob: You can't close an active issue/PR unless you authored it or you are a collaborator."),
    (False, "bob", "/close", [STALE], "closed", "completed", "@bob: Closing this issue."),
    (True, "bob", "/close", [ROTTEN], "closed", None, "@bob: Closed this PR."),
    (False, "alice", "/close not-planned", [], "closed", "not_planned",
     '@alice: Closing this issue, marking it as "Not Planned".'),
    (True, "alice", "/close not-planned", [], "open", None, "@alice: PRs cannot be closed as Not Planned."),
    (False, "Alice", "/close", [], "open", None,                  # Prow compares the author's login exactly
     "@Alice: You can't close an active issue/PR unless you authored it or you are a collaborator."),
    (False, "alice", "/CLOSE\r\n", [], "closed", "completed", "@alice: Closing this issue."),
    (False, "alice", "/close now", [], "open", None, None),
])
def test_close(app, is_pr, commenter, body, before, state_after, reason, reply):
    number = add(app, is_pr, labels=before)
    comment(app, number, body, is_pr=is_pr, commenter=commenter, labels_=before)
    issue = app.gh.issue(REPO, number)
    assert issue.state == state_after
    if reason:
        assert issue.state_reason == reason
    assert replies(app, number) == ([reply] if reply else [])


@pytest.mark.parametrize("is_pr, commenter, state_after, reply", [
    (False, "alice", "open", "@alice: Reopened this issue."),
    (True, "collab", "open", "@collab: Reopened this PR."),
    (False, "bob", "closed", "@bob: You can't reopen an issue/PR unless you authored it or you are a collaborator."),
])
def test_reopen(app, is_pr, commenter, state_after, reply):
    number = add(app, is_pr, state="closed")
    comment(app, number, "/reopen", is_pr=is_pr, commenter=commenter, state="closed")
    assert app.gh.issue(REPO, number).state == state_after
    assert replies(app, number) == [reply]


def test_reopen_of_a_merged_pr_says_why_github_refused(app):
    number = add(app, True)
    app.gh.pull(REPO, number).merged = True
    app.gh.update_pull(REPO, number, state="closed")
    comment(app, number, "/reopen", is_pr=True, commenter="alice", state="closed")
    assert replies(app, number) == [
        "@alice: Failed to re-open PR: state cannot be changed. The pull request cannot be reopened."]


@pytest.mark.parametrize("is_pr, body, before, after, reply", [
    (False, "/lifecycle frozen", [], [FROZEN], None),
    (False, "/lifecycle stale", [FROZEN, "kind/bug"], ["kind/bug", STALE], None),
    (False, "/lifecycle rotten\n/lifecycle active", [STALE], [ACTIVE], None),
    (False, "/remove-lifecycle stale", [STALE], [], None),
    (False, "/remove-lifecycle stale", [], [], None),
    (False, "/lifecycle stale", [STALE], [STALE], None),
    (True, "/lifecycle frozen", [], [], "@bob: The `lifecycle/frozen` label cannot be applied to Pull Requests."),
    (True, "/lifecycle frozen\n/lifecycle stale", [], [STALE],
     "@bob: The `lifecycle/frozen` label cannot be applied to Pull Requests."),
    (True, "/remove-lifecycle frozen", [FROZEN], [], None),
    (False, "/lifecycle dead", [], [], None),
])
def test_lifecycle_labels_anyone(app, is_pr, body, before, after, reply):
    number = add(app, is_pr, labels=before)
    comment(app, number, body, is_pr=is_pr, commenter="bob", labels_=before)
    assert app.gh.labels(REPO, number) == after
    assert replies(app, number) == ([reply] if reply else [])


def test_close_by_the_author_makes_no_membership_or_label_read(app):
    number = add(app, False)
    app.gh.clear_log()
    comment(app, number, "/close", is_pr=False, commenter="alice")
    assert [r.method for r in app.gh.log] == ["PATCH", "POST"]


def test_close_delivered_twice_changes_nothing_the_second_time(app):
    number = add(app, False)
    event = payloads.issue_comment(REPO, number, "/close\n/lifecycle rotten", commenter="alice",
                                   issue_author="alice")
    sent = app.post("issue_comment", event)
    app.settle()
    app.gh.clear_log()
    app.post("issue_comment", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == []
    assert len(app.gh.comments(REPO, number)) == 1
    assert app.gh.labels(REPO, number) == [ROTTEN]
