"""hold end to end: signed deliveries into `hook`, `dispatch` runs the plugin, the fake GitHub shows it."""
import pytest

from shared import labels
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
PLUGINS = "plugins:\n  org:\n    plugins: [hold]\n"


@pytest.fixture
def app(prow):
    prow.plugins_yaml(PLUGINS)
    prow.gh.add_repo(REPO)
    return prow


def comment(app, number, body, **kw):
    kw.setdefault("on_pull", True)
    sent = app.post("issue_comment", payloads.issue_comment(REPO, number, body, **kw))
    app.settle()
    return sent


@pytest.mark.parametrize("body, before, after", [
    ("/hold", [], [labels.HOLD]),
    ("/hold because the release is frozen", [], [labels.HOLD]),
    ("/HOLD\r\n", [], [labels.HOLD]),
    ("Wait for the docs.\n/hold", ["lgtm"], ["lgtm", labels.HOLD]),
    ("/hold cancel", [labels.HOLD], []),
    ("/hold   Cancel\r\n", [labels.HOLD], []),
    ("/unhold", [labels.HOLD, "lgtm"], ["lgtm"]),
    ("/remove-hold", [labels.HOLD], []),
    ("/hold\n/hold cancel", [labels.HOLD], []),                # cancel wins
    ("/hold\n/hold cancel", [], []),
    ("/hold cancel because it is fixed", [], [labels.HOLD]),   # Prow's cancel pattern ends at the command
    ("/unhold", ["Do-Not-Merge/Hold"], []),                    # HasLabel ignores case
    (" /hold", [], []),                                         # not at the start of a line
    ("> /hold", [], []),
    ("/holdon", [], []),
])
def test_hold_commands(app, body, before, after):
    number = app.gh.add_pull(REPO, author="alice", labels=before)
    comment(app, number, body, commenter="bob")
    assert sorted(app.gh.labels(REPO, number)) == sorted(after)
    assert app.gh.comments(REPO, number) == []


def test_anyone_may_hold_even_a_closed_pull_request(app):
    number = app.gh.add_pull(REPO, author="alice", state="closed")
    comment(app, number, "/hold", commenter="drive-by", state="closed")
    assert app.gh.labels(REPO, number) == [labels.HOLD]


@pytest.mark.parametrize("kwargs", [dict(on_pull=False), dict(action="edited"), dict(action="deleted")])
def test_hold_ignores_issues_and_changed_comments(app, kwargs):
    number = app.gh.add_issue(REPO) if kwargs.get("on_pull") is False else app.gh.add_pull(REPO)
    app.gh.clear_log()
    comment(app, number, "/hold", **kwargs)
    assert app.gh.labels(REPO, number) == []
    assert app.gh.log == []


def test_hold_in_a_review_body(app):
    number = app.gh.add_pull(REPO, author="alice")
    app.post("pull_request_review", payloads.pull_request_review(REPO, number, reviewer="carol",
                                                                 state="commented", body="Nits.\n/hold"))
    app.settle()
    assert app.gh.labels(REPO, number) == [labels.HOLD]


def test_hold_costs_one_read_and_one_write_and_a_warm_read_is_a_304(app):
    number = app.gh.add_pull(REPO, author="alice")
    app.gh.clear_log()
    comment(app, number, "/hold", commenter="bob")
    cold = [(r.method, r.path, r.status) for r in app.gh.log]
    assert cold == [("GET", f"/repos/{REPO}/issues/{number}/labels", 200),
                    ("POST", f"/repos/{REPO}/issues/{number}/labels", 200)]

    other = app.gh.add_pull(REPO, author="alice")
    comment(app, other, "/hold cancel", commenter="bob")   # reads the labels, changes nothing
    app.gh.clear_log()
    comment(app, other, "/hold", commenter="bob")
    warm = [(r.method, r.path, r.status) for r in app.gh.log]
    assert warm == [("GET", f"/repos/{REPO}/issues/{other}/labels", 304),
                    ("POST", f"/repos/{REPO}/issues/{other}/labels", 200)]


def test_hold_delivered_twice_changes_nothing_the_second_time(app):
    number = app.gh.add_pull(REPO, author="alice")
    event = payloads.issue_comment(REPO, number, "/hold", commenter="bob", on_pull=True)
    sent = app.post("issue_comment", event)
    app.settle()
    app.gh.clear_log()

    app.post("issue_comment", event, delivery=sent["X-GitHub-Delivery"])   # GitHub redelivers
    app.settle()
    assert app.gh.log == []

    app.post("issue_comment", event)                                        # the same command again
    app.settle()
    assert [r.method for r in app.gh.log] == ["GET"]
    assert app.gh.labels(REPO, number) == [labels.HOLD]
