"""heart end to end: reactions for PRs that add to OWNERS files and for comments by adorees."""
import pytest

from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
HEART = "heart:\n  adorees: [alice]\n  commentregexp: (?i)thank\n"


@pytest.fixture
def app(prow):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [heart]\n" + HEART)
    prow.gh.add_repo(REPO)
    return prow


@pytest.mark.parametrize("files, reacts", [
    ([{"filename": "pkg/OWNERS", "additions": 2}], True),
    ([{"filename": "OWNERS_ALIASES", "additions": 1, "deletions": 3}], True),
    ([{"filename": "OWNERS", "additions": 0, "deletions": 3}], False),        # only removals
    ([{"filename": "docs/OWNERS.md", "additions": 5}], False),
])
def test_pr_adding_to_owners_files_gets_a_reaction(app, files, reacts):
    number = app.gh.add_pull(REPO, files=files)
    app.post("pull_request", payloads.pull_request_event(REPO, number, action="opened"))
    app.settle()
    found = app.gh.reactions(REPO, issue=number)
    assert len(found) == (1 if reacts else 0)
    assert all(user == "ci-bot" and content in ("+1", "heart", "hooray") for user, content in found)


def test_owners_filenames_from_plugins_yaml(app):
    app.plugins_yaml("plugins:\n  org:\n    plugins: [heart]\nowners:\n  filenames:\n    org:\n"
                     "      owners: MAINTAINERS\n      owners_aliases: MAINTAINERS_ALIASES\n")
    number = app.gh.add_pull(REPO, files=[{"filename": "OWNERS", "additions": 1},
                                          {"filename": "x/MAINTAINERS", "additions": 1}])
    app.post("pull_request", payloads.pull_request_event(REPO, number, action="opened"))
    app.settle()
    assert len(app.gh.reactions(REPO, issue=number)) == 1


@pytest.mark.parametrize("commenter, body, on_pull, reacts", [
    ("alice", "Thanks a lot!", True, True),
    ("alice", "Looks fine", True, False),          # the regexp does not match
    ("Alice", "Thanks a lot!", True, False),       # adorees compare exactly, as in Prow
    ("bob", "Thanks a lot!", True, False),
    ("alice", "Thanks a lot!", False, False),      # PR comments only
])
def test_adoree_comments(app, commenter, body, on_pull, reacts):
    number = app.gh.add_pull(REPO) if on_pull else app.gh.add_issue(REPO)
    comment_id = app.gh.add_comment(REPO, number, body, author=commenter)
    app.post("issue_comment", payloads.issue_comment(REPO, number, body, commenter=commenter, on_pull=on_pull,
                                                     comment_id=comment_id))
    app.settle()
    assert len(app.gh.reactions(REPO, comment=comment_id)) == (1 if reacts else 0)


def test_heart_delivered_twice_reacts_once(app):
    number = app.gh.add_pull(REPO, files=[{"filename": "OWNERS", "additions": 1}])
    event = payloads.pull_request_event(REPO, number, action="opened")
    sent = app.post("pull_request", event)
    app.settle()
    app.gh.clear_log()
    app.post("pull_request", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == []
    assert len(app.gh.reactions(REPO, issue=number)) == 1
