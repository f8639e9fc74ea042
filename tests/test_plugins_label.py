"""label end to end: commands in comments through hook and dispatch; labels, replies and requests in the fake."""
import pytest

from shared.plugins.respond import format_response_raw
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
REPO_LABELS = ["kind/bug", "kind/flake", "kind/feature", "priority/critical-urgent", "area/prow", "sig/testing",
               "needs-kind", "needs-sig", "triage/accepted", "tide/merge-method-merge", "lgtm", "approved",
               "release-blocker"]
METAL3_LABEL = "  additional_labels: [tide/merge-method-merge, tide/merge-method-rebase, tide/merge-method-squash]\n"
RESTRICTED = ("  restricted_labels:\n"
              "    org:\n"
              "    - label: release-blocker\n"
              "      allowed_teams: [release-team]\n"
              "      allowed_users: [Rel-Lead]\n"
              "      assign_on: [{label: needs-release-review}]\n"
              "      remove_on_new_commits: true\n")


@pytest.fixture
def app(prow):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [label]\nlabel:\n" + METAL3_LABEL + RESTRICTED)
    prow.gh.add_repo(REPO)
    prow.gh.add_org("org")
    prow.gh.add_org_member("org", "member")
    prow.gh.add_team("org", "release-team", members=["releaser"])
    for name in REPO_LABELS:
        prow.gh.add_label(REPO, name)
    return prow


def comment(app, number, body, *, commenter="bob", on_pull=True, **kw):
    event = payloads.issue_comment(REPO, number, body, commenter=commenter, on_pull=on_pull, **kw)
    app.post("issue_comment", event)
    app.settle()
    return event


def reply_text(app, number):
    return [c.body.split("\n\n<details>")[0] for c in app.gh.comments(REPO, number)]


@pytest.mark.parametrize("user, body, before, after, reply", [
    ("bob", "/kind bug", [], ["kind/bug"], None),
    ("bob", "/kind BuG flake", [], ["kind/bug", "kind/flake"], None),
    ("bob", "/kind bug\r\n/area prow\r\n/priority critical-urgent", [],
     ["area/prow", "kind/bug", "priority/critical-urgent"], None),
    ("bob", "/kind bug", ["kind/bug"], ["kind/bug"], None),
    ("bob", "/Kind bug", [], [], None),                          # commands are case-sensitive
    ("bob", "  /kind bug", [], [], None),                        # not at the start of a line
    ("bob", "<!-- /kind bug -->", [], [], None),                 # HTML comments are removed first
    ("bob", "/kind nonsense", [], [],
     "@bob: The label(s) `kind/nonsense` cannot be applied, because the repository doesn't have them."),
    ("bob", "/remove-kind bug", ["kind/bug", "kind/flake"], ["kind/flake"], None),
    ("bob", "/remove-kind bug", ["kind/bug"], ["needs-kind"], None),   # the last kind/* gone: needs-kind
    ("bob", "/remove-kind bug\n/kind flake", ["kind/bug"], ["kind/flake"], None),
    ("bob", "/remove-area prow", ["area/prow"], [], None),       # no needs-area label in Prow's list
    ("bob", "/remove-kind feature", [], ["needs-kind"],           # as in Prow: no kind/* left afterwards
     "@bob: Those labels are not set on the issue: `kind/feature`"),
    ("bob", "/remove-area prow", [], [], "@bob: Those labels are not set on the issue: `area/prow`"),
    ("bob", "/label tide/merge-method-merge", [], ["tide/merge-method-merge"], None),
    ("bob", "/remove-label tide/merge-method-merge", ["tide/merge-method-merge"], [], None),
    ("bob", "/label lgtm", [], [],
     "@bob: The label(s) `/label lgtm` cannot be applied. These labels are supported: `tide/merge-method-merge, "
     "tide/merge-method-rebase, tide/merge-method-squash, release-blocker`. Is this label configured under "
     "`labels -> additional_labels` or `labels -> restricted_labels` in `plugin.yaml`?"),
    ("bob", "/label tide/merge-method-rebase", [], [],
     "@bob: The label(s) `tide/merge-method-rebase` cannot be applied, because the repository doesn't have them."),
    ("bob", "/label a b", [], [], None),                         # exactly one word
    ("bob", "/triage accepted", [], [],
     "@bob: The label `triage/accepted` cannot be applied. Only GitHub organization members can add the label."),
    ("member", "/triage accepted", [], ["triage/accepted"], None),
    ("bob", "/label release-blocker", [], [],
     "@bob: The label(s) `release-blocker` cannot be applied or removed, because you are not in one of the "
     "allowed teams and are not an allowed user. Must be a member of one of these teams: release-team"),
    ("releaser", "/label release-blocker", [], ["release-blocker"], None),
    ("rel-lead", "/label release-blocker", [], ["release-blocker"], None),   # allowed_users ignore case
    ("bob", "/remove-label release-blocker", ["release-blocker"], ["release-blocker"],
     "@bob: The label(s) `release-blocker` cannot be applied or removed, because you are not in one of the "
     "allowed teams and are not an allowed user. Must be a member of one of these teams: release-team"),
])
def test_label_commands(app, user, body, before, after, reply):
    number = app.gh.add_pull(REPO, author="alice", labels=before)
    comment(app, number, body, commenter=user)
    assert sorted(app.gh.labels(REPO, number)) == after
    assert reply_text(app, number) == ([reply] if reply else [])


def test_reply_quotes_the_command_and_links_the_comment(app):
    number = app.gh.add_issue(REPO, author="alice")
    event = comment(app, number, "/kind nonsense", on_pull=False)
    [posted] = app.gh.comments(REPO, number)
    assert posted.body == format_response_raw(
        "/kind nonsense", event["comment"]["html_url"], "bob",
        "The label(s) `kind/nonsense` cannot be applied, because the repository doesn't have them.")


def test_several_labels_are_added_in_one_request(app):
    number = app.gh.add_issue(REPO)
    app.gh.clear_log()
    comment(app, number, "/kind bug flake\n/sig testing", on_pull=False)
    assert sorted(app.gh.labels(REPO, number)) == ["kind/bug", "kind/flake", "sig/testing"]
    assert [(r.method, r.path) for r in app.gh.log] == [
        ("GET", f"/repos/{REPO}/labels"), ("GET", f"/repos/{REPO}/issues/{number}/labels"),
        ("POST", f"/repos/{REPO}/issues/{number}/labels")]


def test_label_delivered_twice_changes_nothing_the_second_time(app):
    number = app.gh.add_pull(REPO)
    event = payloads.issue_comment(REPO, number, "/kind bug\n/kind nonsense", on_pull=True)
    sent = app.post("issue_comment", event)
    app.settle()
    assert len(app.gh.comments(REPO, number)) == 1
    app.gh.clear_log()
    app.post("issue_comment", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == []
    comment(app, number, "/kind bug")                   # a new comment: labels already there
    assert app.gh.find("POST") == [] and app.gh.find("DELETE") == []
    assert app.gh.labels(REPO, number) == ["kind/bug"]


def test_assign_on_assigns_the_allowed_users_once(app):
    app.gh.add_collaborator(REPO, "rel-lead")
    number = app.gh.add_pull(REPO, labels=["needs-release-review"])
    event = payloads.pull_request_event(REPO, number, action="labeled")
    event["label"] = {"name": "needs-release-review", "color": "ededed"}
    app.post("pull_request", event)
    app.settle()
    assert app.gh.assignees(REPO, number) == ["rel-lead"]

    event["pull_request"]["assignees"] = [payloads.user("rel-lead")]
    app.gh.clear_log()
    app.post("pull_request", event)
    app.settle()
    assert app.gh.log == []


def test_remove_on_new_commits(app):
    number = app.gh.add_pull(REPO, labels=["release-blocker", "kind/bug"])
    app.post("pull_request", payloads.pull_request_event(REPO, number, action="synchronize",
                                                         labels=["release-blocker", "kind/bug"]))
    app.settle()
    assert app.gh.labels(REPO, number) == ["kind/bug"]
