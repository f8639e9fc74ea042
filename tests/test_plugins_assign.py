"""assign end to end: /assign, /unassign, /cc, /uncc through hook and dispatch; assignees, review requests
and Prow's replies in the fake."""
import pytest

from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"


@pytest.fixture
def app(prow):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [assign]\n")
    prow.gh.add_repo(REPO)
    prow.gh.add_org("org")
    for login in ("carol", "dave", "erin"):
        prow.gh.add_org_member("org", login)
    prow.gh.add_collaborator(REPO, "bob")
    prow.gh.add_team("org", "sig-testing", members=["carol"])
    return prow


def comment(app, number, body, *, commenter="bob", on_pull=True, assignees=()):
    event = payloads.issue_comment(REPO, number, body, commenter=commenter, issue_author="alice", on_pull=on_pull)
    event["issue"]["assignees"] = [payloads.user(a) for a in assignees]
    sent = app.post("issue_comment", event)
    app.settle()
    return event, sent


def replies(app, number):
    return [c.body.split("\n\n<details>")[0] for c in app.gh.comments(REPO, number)]


ASSIGN_REFUSAL = ("@bob: GitHub didn't allow me to assign the following users: {}.\n\nNote that only [org members]"
                  "(https://github.com/orgs/org/people) with read permissions, repo collaborators and people who have "
                  "commented on this issue/PR can be assigned. Additionally, issues/PRs can only have 10 assignees at "
                  "the same time.\nFor more information please see [the contributor guide](https://git.k8s.io/"
                  "community/contributors/guide/first-contribution.md#issue-assignment-in-github)")
CC_REFUSAL = ("@bob: GitHub didn't allow me to request PR reviews from the following users: {}.\n\nNote that only "
              "[org members](https://github.com/orgs/org/people) and repo collaborators can review this PR, and "
              "authors cannot review their own PRs.")


@pytest.mark.parametrize("body, before, after, reply", [
    ("/assign", [], ["bob"], None),
    ("/assign @carol dave", [], ["carol", "dave"], None),
    ("/ASSIGN carol\r\n", [], ["carol"], None),
    ("/assign carol\n/unassign carol", [], [], None),            # the last command for a login wins
    ("/unassign carol", ["carol", "dave"], ["dave"], None),
    ("/unassign", ["bob"], [], None),
    ("/UNassign carol", [], ["carol"], None),                    # Prow compares `un` exactly
    ("/assign carol mallory", [], ["carol"], ASSIGN_REFUSAL.format("mallory")),
    ("/assign $carol", [], [], None),                            # an invalid login: the line does not match
    ("/assign @me", [], [], ASSIGN_REFUSAL.format("me")),        # as in Prow: the login "me"
    (" /assign", [], [], None),
])
def test_assign(app, body, before, after, reply):
    number = app.gh.add_pull(REPO, author="alice", assignees=before)
    comment(app, number, body, assignees=before)
    assert sorted(app.gh.assignees(REPO, number)) == after
    assert replies(app, number) == ([reply] if reply else [])


def test_assign_on_an_issue(app):
    number = app.gh.add_issue(REPO, author="alice")
    comment(app, number, "/assign carol", on_pull=False)
    assert app.gh.assignees(REPO, number) == ["carol"]


@pytest.mark.parametrize("body, before, after, teams, reply", [
    ("/cc carol", [], ["carol"], [], None),
    ("/cc @carol @dave", [], ["carol", "dave"], [], None),
    ("/cc @org/sig-testing", [], [], ["sig-testing"], None),
    ("/cc carol mallory", [], ["carol"], [], CC_REFUSAL.format("mallory")),
    ("/cc other/team", [], [], [], CC_REFUSAL.format("other/team")),
    ("/cc alice", [], [], [], CC_REFUSAL.format("alice")),     # the author cannot review
    ("/uncc carol", ["carol", "dave"], ["dave"], [], None),
    ("/uncc", ["bob"], [], [], None),
])
def test_cc(app, body, before, after, teams, reply):
    number = app.gh.add_pull(REPO, author="alice", requested_reviewers=before)
    comment(app, number, body)
    assert sorted(app.gh.requested_reviewers(REPO, number)) == after
    assert app.gh.pull(REPO, number).requested_teams == teams
    assert replies(app, number) == ([reply] if reply else [])


def test_cc_on_an_issue_does_nothing(app):
    number = app.gh.add_issue(REPO, author="alice")
    app.gh.clear_log()
    comment(app, number, "/cc carol", on_pull=False)
    assert app.gh.log == []


def test_assign_already_assigned_makes_no_request(app):
    number = app.gh.add_pull(REPO, author="alice", assignees=["carol"])
    app.gh.clear_log()
    comment(app, number, "/assign carol\n/unassign dave", assignees=["carol"])
    assert app.gh.log == []


def test_assign_and_cc_delivered_twice_change_nothing_the_second_time(app):
    number = app.gh.add_pull(REPO, author="alice")
    event, sent = comment(app, number, "/assign carol mallory\n/cc dave")
    assert len(app.gh.comments(REPO, number)) == 1
    app.gh.clear_log()
    app.post("issue_comment", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == []
    assert app.gh.assignees(REPO, number) == ["carol"] and app.gh.requested_reviewers(REPO, number) == ["dave"]
