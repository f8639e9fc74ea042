"""retitle end to end: who may /retitle, what titles are refused, the title in the fake."""
import pytest

from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"


@pytest.fixture
def app(prow):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [retitle]\n")
    prow.gh.add_repo(REPO)
    prow.gh.add_org("org")
    prow.gh.add_org_member("org", "member")
    prow.gh.add_collaborator(REPO, "collab")
    return prow


def retitle(app, body, *, commenter, on_pull=True, state="open"):
    number = app.gh.add_pull(REPO, title="Old") if on_pull else app.gh.add_issue(REPO, title="Old")
    event = payloads.issue_comment(REPO, number, body, commenter=commenter, on_pull=on_pull, state=state)
    event["issue"]["title"] = "Old"
    app.post("issue_comment", event)
    app.settle()
    return number


def replies(app, number):
    return [c.body.split("\n\n<details>")[0] for c in app.gh.comments(REPO, number)]


@pytest.mark.parametrize("commenter, body, title, reply", [
    ("member", "/retitle New title", "New title", None),
    ("collab", "/RETITLE   Spaces around  \r\n", "Spaces around", None),
    ("ci-bot", "/retitle By the bot", "By the bot", None),
    ("stranger", "/retitle Mine now", "Old",
     "@stranger: Re-titling can only be requested by trusted users, like repository collaborators."),
    ("member", "/retitle", "Old", "@member: Titles may not be empty."),
    ("member", "/retitle Fixes #12", "Old",
     "@member: Titles may not contain [keywords](https://help.github.com/articles/closing-issues-using-keywords) "
     "which can automatically close issues and at(@) mentions."),
    ("member", "/retitle closes org/other#3 too", "Old",
     "@member: Titles may not contain [keywords](https://help.github.com/articles/closing-issues-using-keywords) "
     "which can automatically close issues and at(@) mentions."),
    ("member", "/retitle Ask @someone", "Old",
     "@member: Titles may not contain [keywords](https://help.github.com/articles/closing-issues-using-keywords) "
     "which can automatically close issues and at(@) mentions."),
    ("member", "/retitle Mail me at a@b.c", "Mail me at a@b.c", None),   # not a mention: no word boundary
    ("member", " /retitle x", "Old", None),
])
def test_retitle(app, commenter, body, title, reply):
    number = retitle(app, body, commenter=commenter)
    assert app.gh.issue(REPO, number).title == title
    assert replies(app, number) == ([reply] if reply else [])


def test_retitle_an_issue(app):
    number = retitle(app, "/retitle Better", commenter="collab", on_pull=False)
    assert app.gh.issue(REPO, number).title == "Better"


def test_closed_items_only_with_allow_closed_issues(app):
    number = retitle(app, "/retitle Better", commenter="collab", state="closed")
    assert app.gh.issue(REPO, number).title == "Old"
    app.plugins_yaml("plugins:\n  org:\n    plugins: [retitle]\nretitle:\n  allow_closed_issues: true\n")
    number = retitle(app, "/retitle Better", commenter="collab", state="closed")
    assert app.gh.issue(REPO, number).title == "Better"


def test_only_org_members_excludes_collaborators(app):
    app.plugins_yaml("plugins:\n  org:\n    plugins: [retitle]\ntriggers:\n- repos: [org]\n  only_org_members: true\n")
    number = retitle(app, "/retitle Better", commenter="collab")
    assert app.gh.issue(REPO, number).title == "Old"


def test_retitle_by_a_member_is_a_membership_check_and_one_write(app):
    app.gh.clear_log()
    retitle(app, "/retitle New", commenter="member")
    assert [r.method for r in app.gh.log if r.path != "/user"] == ["GET", "PATCH"]


def test_retitle_delivered_twice_changes_nothing_the_second_time(app):
    number = app.gh.add_pull(REPO, title="Old")
    event = payloads.issue_comment(REPO, number, "/retitle New", commenter="stranger", on_pull=True)
    sent = app.post("issue_comment", event)
    app.settle()
    app.gh.clear_log()
    app.post("issue_comment", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == []
    assert len(app.gh.comments(REPO, number)) == 1
