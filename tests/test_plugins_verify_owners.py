"""verify-owners end to end: PRs that change OWNERS files get `do-not-merge/invalid-owners-file` and a review
saying what is wrong, as Prow's verify-owners does; the label goes when the files are fixed."""
import pytest

from shared import labels
from shared.plugins import verify_owners
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
PLUGINS = "plugins:\n  org:\n    plugins: [verify-owners]\n"
BASE = {"OWNERS": "approvers: [root]\n", "a/OWNERS": "approvers: [alice]\n", "a/x.go": "x",
        "OWNERS_ALIASES": "aliases:\n  team: [alice]\n"}


@pytest.fixture
def gh(prow):
    prow.plugins_yaml(PLUGINS)
    prow.gh.add_repo(REPO, files=BASE)
    for login in ("root", "alice", "bob"):
        prow.gh.add_collaborator(REPO, login)
    return prow.gh


def owners_change(path, content, added=()):
    lines = content.splitlines()
    patch = f"@@ -0,0 +1,{len(lines)} @@\n" + "\n".join("+" + line for line in lines)
    return {"filename": path, "status": "modified", "content": content, "patch": patch}


def opened(prow, n, action="opened"):
    pull = prow.gh.pull(REPO, n)
    prow.post("pull_request", payloads.pull_request_event(REPO, n, action=action, head_sha=pull.head_sha,
                                                          author=pull.user, labels=list(pull.labels)))
    prow.settle()


def inline_comments(gh, n):
    return [(c.path, c.body) for c in gh.repo(REPO).review_comments if c.issue == n]


@pytest.mark.parametrize("path, content, message", [
    ("a/OWNERS", "approvers: [alice\n", "Cannot parse file: "),
    ("a/OWNERS", "- alice\n", "Cannot parse file: "),
    ("a/OWNERS", "approvers: [alice]\nlabels: [lgtm, area/x, approved]\n",
     "File contains banned labels: [approved lgtm]."),
    ("OWNERS", "reviewers: [alice]\n", "No approvers defined in this root directory OWNERS file."),
])
def test_an_invalid_owners_file_blocks_the_pr_with_a_review(prow, gh, path, content, message):
    n = gh.add_pull(REPO, author="bob", files=[owners_change(path, content)])
    opened(prow, n)
    assert gh.labels(REPO, n) == [labels.INVALID_OWNERS]
    [review] = gh.reviews(REPO, n)
    assert review.state == "COMMENTED"
    assert review.body.startswith("@bob: 1 invalid OWNERS file\n\n<details>")
    [(where, what)] = inline_comments(gh, n)
    assert where == path and what.startswith(message) and what.endswith(".")


def test_the_label_goes_when_the_file_is_fixed(prow, gh):
    n = gh.add_pull(REPO, author="bob", files=[owners_change("a/OWNERS", "approvers: [alice\n")])
    opened(prow, n)
    assert gh.labels(REPO, n) == [labels.INVALID_OWNERS]
    gh.update_pull(REPO, n, head_sha="f" * 40, files=[owners_change("a/OWNERS", "approvers: [alice, bob]\n")])
    opened(prow, n, action="synchronize")
    assert gh.labels(REPO, n) == []


def test_a_pr_without_owners_changes_costs_one_read(prow, gh):
    n = gh.add_pull(REPO, author="bob", files=["a/x.go"])
    gh.clear_log()
    opened(prow, n)
    assert [r.path for r in gh.log] == [f"/repos/{REPO}/pulls/{n}/files"]


def test_invalid_aliases(prow, gh):
    n = gh.add_pull(REPO, author="bob", files=[owners_change("OWNERS_ALIASES", "aliases:\n  team: alice\n")])
    opened(prow, n)
    assert gh.labels(REPO, n) == [labels.INVALID_OWNERS]
    assert [c.body for c in gh.comments(REPO, n)] == [verify_owners.INVALID_ALIASES]
    opened(prow, n, action="synchronize")   # said already: not again
    assert [c.body for c in gh.comments(REPO, n)] == [verify_owners.INVALID_ALIASES]


@pytest.mark.parametrize("skip, checked", [("", True), ("owners:\n  skip_collaborators: [org]\n", True),
                                           ("owners:\n  skip_collaborators: [org/repo]\n", False)])
def test_newly_added_untrusted_owners(prow, gh, skip, checked):
    """Only the exact org/repo in skip_collaborators turns the check off (an org entry does not)."""
    prow.plugins_yaml(PLUGINS + skip)
    n = gh.add_pull(REPO, author="bob", files=[owners_change("a/OWNERS", "approvers:\n- alice\n- stranger\n")])
    opened(prow, n)
    if not checked:
        assert gh.labels(REPO, n) == [] and gh.comments(REPO, n) == []
        return
    assert gh.labels(REPO, n) == [labels.INVALID_OWNERS]
    [notice] = [c.body for c in gh.comments(REPO, n)]
    assert notice.startswith("The OWNERS file contains untrusted users, which makes it INVALID.")
    assert "[members](https://github.com/orgs/org/people) of the org org" in notice
    assert "\n- stranger\n  - User is not a member of the org. User is not a collaborator. " in notice
    assert "alice" not in notice.split("comment.", 1)[1]


def test_verify_owners_command_rechecks(prow, gh):
    n = gh.add_pull(REPO, author="bob", files=[owners_change("a/OWNERS", "approvers: [alice]\n")],
                    labels=[labels.INVALID_OWNERS])
    prow.post("issue_comment", payloads.issue_comment(REPO, n, "/verify-owners", commenter="bob", on_pull=True))
    prow.settle()
    assert gh.labels(REPO, n) == []


def test_a_delivery_twice_reviews_and_labels_once(prow, gh):
    n = gh.add_pull(REPO, author="bob", files=[owners_change("a/OWNERS", "approvers: [alice\n")])
    pull = gh.pull(REPO, n)
    event = payloads.pull_request_event(REPO, n, action="opened", head_sha=pull.head_sha)
    prow.post("pull_request", event, delivery="same-delivery")
    prow.post("pull_request", event, delivery="same-delivery")
    prow.settle()
    assert len(gh.reviews(REPO, n)) == 1
    assert gh.count("POST", f"/repos/{REPO}/issues/*/labels") == 1


def test_added_lines_positions():
    patch = "@@ -1,2 +1,3 @@\n approvers:\n-- a\n+- b\n+- c\n"
    assert verify_owners.added_lines(patch) == {2: 3, 3: 4}


def test_a_parse_error_points_at_its_line_in_the_patch():
    content = "approvers:\n- a\n b: c\n"
    patch = "@@ -1,1 +1,3 @@\n approvers:\n+- a\n+ b: c"
    position, message = verify_owners.owners_problem(content.encode(), "a/OWNERS", patch, ("approved", "lgtm"))
    assert position == 3
    assert message == ("Cannot parse file: error converting YAML to JSON: yaml: line 3: mapping values are not "
                       "allowed here.")
