"""milestone and milestoneapplier end to end: /milestone for the maintainers team, and the configured
milestone applied to merged (or, off the default branch, opened) PRs."""
import pytest

from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
CONFIG = ("plugins:\n  org:\n    plugins: [milestone, milestoneapplier]\n"
          "repo_milestone:\n  '':\n    maintainers_team: release-team\n    maintainers_friendly_name: release managers\n"
          "milestone_applier:\n  org/repo:\n    main: v1.2\n    release-1.1: v1.1\n    release-1.0: v9\n")


@pytest.fixture
def app(prow):
    prow.plugins_yaml(CONFIG)
    prow.gh.add_repo(REPO)
    prow.gh.add_org("org")
    prow.gh.add_team("org", "release-team", members=["rm"])
    prow.v11 = prow.gh.add_milestone(REPO, "v1.1")
    prow.v12 = prow.gh.add_milestone(REPO, "v1.2")
    return prow


def comment(app, number, body, commenter="rm"):
    event = payloads.issue_comment(REPO, number, body, commenter=commenter)
    sent = app.post("issue_comment", event)
    app.settle()
    return event, sent


def replies(app, number):
    return [c.body.split("\n\n<details>")[0] for c in app.gh.comments(REPO, number)]


def test_maintainer_sets_and_clears_the_milestone(app):
    number = app.gh.add_issue(REPO)
    comment(app, number, "/milestone v1.2")
    assert app.gh.issue(REPO, number).milestone == app.v12
    comment(app, number, "/milestone clear")
    assert app.gh.issue(REPO, number).milestone is None
    assert replies(app, number) == []


def test_unknown_milestone_lists_the_valid_ones(app):
    number = app.gh.add_issue(REPO)
    comment(app, number, "/milestone v2")
    assert replies(app, number) == [
        "@rm: The provided milestone is not valid for this repository. Milestones in this repository: "
        "[`v1.1`, `v1.2`]\n\nUse `/milestone clear` to clear the milestone."]


def test_others_are_refused_with_prow_text(app):
    number = app.gh.add_issue(REPO)
    comment(app, number, "/milestone v1.2", commenter="bob")
    assert app.gh.issue(REPO, number).milestone is None
    assert replies(app, number) == [
        "@bob: You must be a member of the [org/release-team](https://github.com/orgs/org/teams/release-team/members) "
        "GitHub team to set the milestone. If you believe you should be able to issue the /milestone command, please "
        "contact your release managers and have them propose you as an additional delegate for this responsibility."]


def test_command_is_case_sensitive(app):
    number = app.gh.add_issue(REPO)
    app.gh.clear_log()
    comment(app, number, "/Milestone v1.2")
    assert app.gh.log == []


def test_milestone_delivered_twice_changes_nothing_the_second_time(app):
    number = app.gh.add_issue(REPO)
    event, sent = comment(app, number, "/milestone v2")
    app.gh.clear_log()
    app.post("issue_comment", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == [] and len(app.gh.comments(REPO, number)) == 1


def pr_event(app, number, action, base, merged=False, milestone=None):
    event = payloads.pull_request_event(REPO, number, action=action, base=base)
    event["pull_request"]["merged"] = merged
    event["pull_request"]["base"]["repo"]["default_branch"] = "main"
    if milestone:
        event["pull_request"]["milestone"] = {"title": milestone, "number": 1}
    app.post("pull_request", event)
    app.settle()


@pytest.mark.parametrize("base, action, merged, milestone", [
    ("main", "opened", False, None),            # default branch: only on merge
    ("main", "closed", True, "v1.2"),
    ("main", "closed", False, None),            # closed unmerged
    ("release-1.1", "opened", False, "v1.1"),   # other branches: opened too
    ("release-1.1", "synchronize", False, None),
    ("release-1.1", "closed", True, "v1.1"),
    ("release-1.0", "closed", True, None),      # configured title missing from the repo: logged only
    ("feature", "closed", True, None),          # no milestone for the branch
])
def test_milestone_applier(app, base, action, merged, milestone):
    app.gh.add_branch(REPO, base) if base != "main" else None
    number = app.gh.add_pull(REPO, base=base)
    pr_event(app, number, action, base, merged=merged)
    expected = {"v1.1": app.v11, "v1.2": app.v12, None: None}[milestone]
    assert app.gh.issue(REPO, number).milestone == expected


def test_milestone_applier_leaves_a_pr_that_has_it(app):
    number = app.gh.add_pull(REPO)
    app.gh.clear_log()
    pr_event(app, number, "closed", "main", merged=True, milestone="v1.2")
    assert app.gh.log == []
