"""issue-management end to end: /transfer-issue moves the issue in the fake through GraphQL."""
import pytest

from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"


@pytest.fixture
def app(prow):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [issue-management]\n")
    prow.gh.add_repo(REPO)
    prow.gh.add_repo("org/other")
    prow.gh.add_org("org")
    prow.gh.add_org_member("org", "member")
    return prow


def transfer(app, body, *, commenter="member", on_pull=False):
    number = app.gh.add_pull(REPO) if on_pull else app.gh.add_issue(REPO, title="Misfiled")
    event = payloads.issue_comment(REPO, number, body, commenter=commenter, on_pull=on_pull)
    event["issue"]["node_id"] = app.gh.github().get_repo(REPO).get_issue(number).raw_data["node_id"]
    sent = app.post("issue_comment", event)
    app.settle()
    return number, event, sent


def replies(app, repo, number):
    return [c.body.split("\n\n<details>")[0] for c in app.gh.comments(repo, number)]


@pytest.mark.parametrize("body", ["/transfer-issue other", "/transfer other\r\n", "Wrong place.\n/TRANSFER other"])
def test_member_transfers_the_issue(app, body):
    number, _, _ = transfer(app, body)
    assert number not in app.gh.repo(REPO).issues
    [moved] = app.gh.repo("org/other").issues.values()
    assert moved.title == "Misfiled"
    assert replies(app, "org/other", moved.number) == []


@pytest.mark.parametrize("commenter, body, reply", [
    ("member", "/transfer-issue", f"@member: {'/transfer-issue must only be used once and with a single destination repo.'}"),
    ("member", "/transfer a\n/transfer b", "@member: /transfer-issue must only be used once and with a single "
                                           "destination repo."),
    ("member", "/transfer-issue nowhere",
     "@member: Something went wrong or the destination repo org/nowhere does not exist."),
    ("bob", "/transfer-issue other", "@bob: You must be an org member to transfer this issue."),
])
def test_refusals(app, commenter, body, reply):
    number, _, _ = transfer(app, body, commenter=commenter)
    assert replies(app, REPO, number)[-1:] == [reply]
    assert app.gh.repo("org/other").issues == {}


def test_pull_requests_are_not_transferred(app):
    app.gh.clear_log()
    transfer(app, "/transfer-issue other", on_pull=True)
    assert app.gh.find("POST", "/graphql") == [] and app.gh.repo("org/other").issues == {}


def test_transfer_delivered_twice_changes_nothing_the_second_time(app):
    number, event, sent = transfer(app, "/transfer-issue other")
    app.gh.clear_log()
    app.post("issue_comment", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == []
    assert len(app.gh.repo("org/other").issues) == 1
