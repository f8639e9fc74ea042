"""lgtm end to end: signed deliveries into `hook`, `settle()` runs `dispatch`, the fake GitHub shows the
labels, assignees, replies and notices Prow's lgtm plugin would leave."""
import pytest

from shared import labels
from shared.plugins import lgtm
from shared.plugins.respond import format_response_raw
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
PLUGINS = "plugins:\n  org:\n    plugins: [lgtm]\n"
TREE_HASH = PLUGINS + "lgtm:\n- repos: [org]\n  store_tree_hash: true\n"
REVIEWS = PLUGINS + "lgtm:\n- repos: [org/repo]\n  review_acts_as_lgtm: true\n"


@pytest.fixture
def gh(prow):
    prow.plugins_yaml(PLUGINS)
    prow.gh.add_repo(REPO)
    prow.gh.add_collaborator(REPO, "bob")
    prow.gh.add_collaborator(REPO, "alice")
    return prow.gh


def as_github_sends(payload, gh, number):
    """The payload with the PR's labels, assignees and head as they are now (what GitHub would send)."""
    subject = payload.get("issue") or payload["pull_request"]
    pull = gh.pull(REPO, number)
    subject["labels"] = [{"name": name} for name in pull.labels]
    subject["assignees"] = [payloads.user(login) for login in pull.assignees]
    if "head" in subject:
        subject["head"]["sha"] = pull.head_sha
    return payload


def comment(gh, number, body, commenter, **kw):
    return as_github_sends(payloads.issue_comment(REPO, number, body, commenter=commenter, issue_author="alice",
                                                  on_pull=True, **kw), gh, number)


def push(gh, number, **kw):
    return as_github_sends(payloads.pull_request_event(REPO, number, action="synchronize", author="alice", **kw),
                           gh, number)


def review(gh, number, state, reviewer="bob", body=None):
    return as_github_sends(payloads.pull_request_review(REPO, number, reviewer=reviewer, state=state, body=body,
                                                        pr_author="alice"), gh, number)


def reply(event, login, message):
    return format_response_raw(event["comment"]["body"], event["comment"]["html_url"], login, message)


# -- who may change lgtm with a comment ----------------------------------------------------------------------

@pytest.mark.parametrize("commenter, body, had_lgtm, has_lgtm, answer, assigned", [
    ("bob", "/lgtm", False, True, None, ["bob"]),                          # a collaborator: added, assigned
    ("bob", "/LGTM", False, True, None, ["bob"]),                          # case-insensitive
    ("bob", "/lgtm no-issue\r\n", False, True, None, ["bob"]),
    ("bob", "Nice.\n/lgtm cancel\n/lgtm", False, True, None, ["bob"]),      # both: adding wins
    ("bob", "/lgtm cancel", True, False, None, ["bob"]),
    ("bob", "/remove-lgtm", True, False, None, ["bob"]),
    ("alice", "/lgtm", False, False, lgtm.OWN_PR_REPLY, []),                # the author cannot add
    ("alice", "/lgtm cancel", True, False, None, []),                       # ... but may remove, unassigned
    ("mallory", "/lgtm", False, False, lgtm.COLLABORATORS_ONLY_REPLY, []),
    ("mallory", "/lgtm cancel", True, True, lgtm.COLLABORATORS_ONLY_REPLY, []),
])
def test_who_may_change_lgtm(prow, gh, commenter, body, had_lgtm, has_lgtm, answer, assigned):
    n = gh.add_pull(REPO, author="alice", labels=[labels.LGTM] if had_lgtm else [])
    event = comment(gh, n, body, commenter)

    prow.post("issue_comment", event)
    prow.settle()

    assert (labels.LGTM in gh.labels(REPO, n)) is has_lgtm
    assert gh.assignees(REPO, n) == assigned
    assert [c.body for c in gh.comments(REPO, n)] == ([reply(event, commenter, answer)] if answer else [])


@pytest.mark.parametrize("body, kw", [
    ("/lgtm foo", {}), (" /lgtm", {}), ("> /lgtm", {}), ("`/lgtm`", {}),
    ("/lgtm", {"state": "closed"}), ("/lgtm", {"action": "edited"}), ("/lgtm", {"action": "deleted"}),
])
def test_no_command_or_not_an_open_pr_and_a_new_comment_makes_no_request(prow, gh, body, kw):
    n = gh.add_pull(REPO, author="alice")
    gh.clear_log()

    prow.post("issue_comment", comment(gh, n, body, "bob", **kw))
    prow.settle()

    assert gh.labels(REPO, n) == [] and gh.log == []


def test_lgtm_on_an_issue_does_nothing(prow, gh):
    n = gh.add_issue(REPO, author="alice")
    prow.post("issue_comment", payloads.issue_comment(REPO, n, "/lgtm", commenter="bob", issue_author="alice"))
    prow.settle()
    assert gh.labels(REPO, n) == [] and gh.log == []


def test_a_collaborator_lgtm_costs_four_requests_and_the_assignment_tells_the_labels(prow, gh):
    n = gh.add_pull(REPO, author="alice")
    prow.post("issue_comment", comment(gh, n, "/lgtm", "bob"))
    prow.settle()
    assert [(r.method, r.path) for r in gh.log if r.path != "/user"] == [
        ("GET", f"/repos/{REPO}/collaborators/bob"),
        ("POST", f"/repos/{REPO}/issues/{n}/assignees"),
        ("POST", f"/repos/{REPO}/issues/{n}/labels"),
        ("GET", f"/repos/{REPO}/issues/{n}/comments"),          # pruning an earlier "LGTM label has been removed"
    ]


def test_an_assignee_is_not_assigned_again_and_the_labels_are_read(prow, gh):
    n = gh.add_pull(REPO, author="alice", assignees=["bob"])
    prow.post("issue_comment", comment(gh, n, "/lgtm", "bob"))
    prow.settle()
    assert gh.labels(REPO, n) == [labels.LGTM]
    assert gh.count("POST", f"/repos/{REPO}/issues/{n}/assignees") == 0
    assert gh.count("GET", f"/repos/{REPO}/issues/{n}/labels") == 1


def test_lgtm_in_a_review_comment_counts(prow, gh):
    n = gh.add_pull(REPO, author="alice")
    event = payloads.pull_request_review_comment(REPO, n, "/lgtm", commenter="bob", pr_author="alice")
    prow.post("pull_request_review_comment", event)
    prow.settle()
    assert gh.labels(REPO, n) == [labels.LGTM]


# -- idempotency -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("config, body, had_lgtm", [
    (PLUGINS, "/lgtm", False), (PLUGINS, "/lgtm cancel", True),
    (TREE_HASH, "/lgtm", False), (TREE_HASH, "/lgtm cancel", True),
])
def test_each_command_twice_changes_nothing_the_second_time(prow, gh, config, body, had_lgtm):
    prow.plugins_yaml(config)
    n = gh.add_pull(REPO, author="alice", labels=[labels.LGTM] if had_lgtm else [])
    prow.post("issue_comment", comment(gh, n, body, "bob"))
    prow.settle()
    after_first = (gh.labels(REPO, n), gh.assignees(REPO, n), [c.body for c in gh.comments(REPO, n)])
    gh.clear_log()

    prow.post("issue_comment", comment(gh, n, body, "bob"))
    prow.settle()

    assert (gh.labels(REPO, n), gh.assignees(REPO, n), [c.body for c in gh.comments(REPO, n)]) == after_first
    assert [r.method for r in gh.log if r.method != "GET"] == []


def test_the_same_delivery_twice_acts_once(prow, gh):
    prow.plugins_yaml(TREE_HASH)
    n = gh.add_pull(REPO, author="alice")
    event = comment(gh, n, "/lgtm", "bob")
    prow.post("issue_comment", event, delivery="d-1")
    prow.post("issue_comment", event, delivery="d-1")
    prow.settle()
    assert gh.count("POST", f"/repos/{REPO}/issues/{n}/labels") == 1
    assert len(gh.comments(REPO, n)) == 1


def test_a_retried_delivery_posts_the_tree_hash_notice_the_failed_attempt_did_not(prow, gh):
    prow.plugins_yaml(TREE_HASH)
    n = gh.add_pull(REPO, author="alice")
    gh.fail("GET", f"/repos/{REPO}/pulls/{n}", status=502, times=4)     # after the label: the attempt fails
    prow.post("issue_comment", comment(gh, n, "/lgtm", "bob"))
    run = prow.settle()

    assert [i.outcome for i in run.calls("dispatch")] == ["retry", "ok"]
    assert gh.labels(REPO, n) == [labels.LGTM]
    assert gh.count("POST", f"/repos/{REPO}/issues/{n}/labels") == 1
    assert [c.body.split("Git tree hash: ")[0] for c in gh.comments(REPO, n)] == [
        "LGTM label has been added.  <details>"]


# -- reviews ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("config, state, reviewer, had_lgtm, has_lgtm", [
    (REVIEWS, "approved", "bob", False, True),
    (REVIEWS, "APPROVED", "bob", False, True),
    (REVIEWS, "changes_requested", "bob", True, False),
    (REVIEWS, "commented", "bob", True, True),
    (REVIEWS, "approved", "ci-bot", False, False),            # the bot's own review
    (PLUGINS, "approved", "bob", False, False),               # review_acts_as_lgtm not set
    (PLUGINS, "changes_requested", "bob", True, True),
])
def test_reviews_act_as_lgtm_where_configured(prow, gh, config, state, reviewer, had_lgtm, has_lgtm):
    prow.plugins_yaml(config)
    gh.add_collaborator(REPO, "ci-bot")
    n = gh.add_pull(REPO, author="alice", labels=[labels.LGTM] if had_lgtm else [])
    prow.post("pull_request_review", review(gh, n, state, reviewer))
    prow.settle()
    assert (labels.LGTM in gh.labels(REPO, n)) is has_lgtm


def test_a_github_app_review_is_ignored(prow, gh):
    prow.plugins_yaml(REVIEWS)
    n = gh.add_pull(REPO, author="alice")
    event = review(gh, n, "approved", "some-app[bot]")
    event["review"]["user"]["type"] = "Bot"
    prow.post("pull_request_review", event)
    prow.settle()
    assert gh.labels(REPO, n) == [] and gh.log == []


def test_an_approving_review_saying_lgtm_cancel_is_handled_as_the_comment(prow, gh):
    prow.plugins_yaml(REVIEWS)
    n = gh.add_pull(REPO, author="alice", labels=[labels.LGTM])
    prow.post("pull_request_review", review(gh, n, "approved", body="Actually no.\n/lgtm cancel"))
    prow.settle()
    assert gh.labels(REPO, n) == []


def test_a_stranger_approving_is_told_lgtm_is_for_collaborators(prow, gh):
    prow.plugins_yaml(REVIEWS)
    n = gh.add_pull(REPO, author="alice")
    event = review(gh, n, "approved", reviewer="mallory")
    prow.post("pull_request_review", event)
    prow.settle()
    assert gh.labels(REPO, n) == []
    [answer] = gh.comments(REPO, n)
    assert answer.body == format_response_raw("", event["review"]["html_url"], "mallory",
                                              lgtm.COLLABORATORS_ONLY_REPLY)


# -- pushes --------------------------------------------------------------------------------------------------

def test_a_push_removes_lgtm_and_says_so(prow, gh):
    n = gh.add_pull(REPO, author="alice", labels=[labels.LGTM], files=[{"filename": "a.go", "content": "v1"}])
    gh.update_pull(REPO, n, files=[{"filename": "a.go", "content": "v2"}], head_sha="c" * 40)
    prow.post("pull_request", push(gh, n))
    prow.settle()
    assert gh.labels(REPO, n) == []
    assert [c.body for c in gh.comments(REPO, n)] == [lgtm.REMOVED_NOTICE]


def test_a_push_to_a_pr_without_lgtm_makes_no_request(prow, gh):
    n = gh.add_pull(REPO, author="alice")
    gh.clear_log()
    prow.post("pull_request", push(gh, n))
    prow.settle()
    assert gh.log == []


def test_lgtm_after_the_removal_notice_deletes_it(prow, gh):
    n = gh.add_pull(REPO, author="alice", labels=[labels.LGTM])
    prow.post("pull_request", push(gh, n))
    prow.settle()
    assert [c.body for c in gh.comments(REPO, n)] == [lgtm.REMOVED_NOTICE]

    prow.post("issue_comment", comment(gh, n, "/lgtm", "bob"))
    prow.settle()
    assert gh.labels(REPO, n) == [labels.LGTM] and gh.comments(REPO, n) == []


def test_the_sticky_team_keeps_lgtm_on_push(prow, gh):
    prow.plugins_yaml(PLUGINS + "lgtm:\n- repos: [org]\n  trusted_team_for_sticky_lgtm: Core Maintainers\n")
    gh.add_team("org", "core-maintainers", name="Core Maintainers", members=["alice"])
    n = gh.add_pull(REPO, author="alice", labels=[labels.LGTM])
    prow.post("pull_request", push(gh, n))
    prow.settle()
    assert gh.labels(REPO, n) == [labels.LGTM] and gh.comments(REPO, n) == []

    m = gh.add_pull(REPO, author="bob", labels=[labels.LGTM])
    event = push(gh, m)
    event["pull_request"]["user"] = payloads.user("bob")
    prow.post("pull_request", event)
    prow.settle()
    assert gh.labels(REPO, m) == []


# -- store_tree_hash ------------------------------------------------------------------------------------------

def tree_of(gh, sha):
    from tests.fakes.github import _tree_sha
    return _tree_sha(gh.repo(REPO).commits[sha].tree)


@pytest.fixture
def lgtmed(prow, gh):
    """A PR touching a.go, lgtm'd by bob with store_tree_hash: (number, head sha)."""
    prow.plugins_yaml(TREE_HASH)
    n = gh.add_pull(REPO, author="alice", files=[{"filename": "a.go", "content": "package a\n"}])
    prow.post("issue_comment", comment(gh, n, "/lgtm", "bob"))
    prow.settle()
    return n, gh.pull(REPO, n).head_sha


def test_lgtm_records_the_head_tree(gh, lgtmed):
    n, head = lgtmed
    assert gh.labels(REPO, n) == [labels.LGTM]
    assert [(c.user, c.body) for c in gh.comments(REPO, n)] == [
        ("ci-bot", f"LGTM label has been added.  <details>Git tree hash: {tree_of(gh, head)}</details>")]


def test_a_squash_with_the_same_tree_keeps_lgtm(prow, gh, lgtmed):
    n, head = lgtmed
    squashed = gh.add_commit(REPO, parents=gh.repo(REPO).commits[head].parents, message="squashed")
    gh.set_files(REPO, {"a.go": "package a\n"}, ref=squashed)
    assert squashed != head and tree_of(gh, squashed) == tree_of(gh, head)
    gh.update_pull(REPO, n, head_sha=squashed)

    prow.post("pull_request", push(gh, n))
    prow.settle()
    assert gh.labels(REPO, n) == [labels.LGTM]
    assert len(gh.comments(REPO, n)) == 1


@pytest.mark.parametrize("how", ["new content", "rebased onto a moved base"])
def test_a_push_that_changes_the_tree_removes_lgtm(prow, gh, lgtmed, how):
    n, head = lgtmed
    gh.update_pull(REPO, n, assignees=["bob"])
    if how == "new content":
        new_head = gh.add_commit(REPO, parents=[head], files={"a.go": "package a // v2\n"})
    else:
        base = gh.set_file(REPO, "README.md", "moved on\n")                  # main moved
        new_head = gh.add_commit(REPO, parents=[base], files={"a.go": "package a\n"})  # same change, rebased
    gh.update_pull(REPO, n, head_sha=new_head)

    prow.post("pull_request", push(gh, n))
    prow.settle()
    assert gh.labels(REPO, n) == []
    assert [c.body for c in gh.comments(REPO, n)][-1] == lgtm.REMOVED_NOTICE
    assert gh.requested_reviewers(REPO, n) == ["bob"]            # store_tree_hash re-requests the assignees


def test_an_edited_tree_hash_notice_is_not_trusted(prow, gh, lgtmed):
    n, head = lgtmed
    [notice] = gh.comments(REPO, n)
    notice.updated_at = notice.updated_at.replace(year=notice.updated_at.year + 1)
    squashed = gh.add_commit(REPO, parents=gh.repo(REPO).commits[head].parents, files={"a.go": "package a\n"})
    gh.update_pull(REPO, n, head_sha=squashed)

    prow.post("pull_request", push(gh, n))
    prow.settle()
    assert gh.labels(REPO, n) == []


def test_lgtm_cancel_deletes_the_tree_hash_notice_and_re_requests_reviews(prow, gh, lgtmed):
    n, _ = lgtmed
    prow.post("issue_comment", comment(gh, n, "/lgtm cancel", "bob"))
    prow.settle()
    assert gh.labels(REPO, n) == [] and gh.comments(REPO, n) == []
    assert gh.requested_reviewers(REPO, n) == ["bob"]


# -- owners.skip_collaborators: OWNERS reviewers and approvers decide ------------------------------------------

OWNERS_REPO = "metal3-io/baremetal-operator"
OTHER_ORG_REPO = "Nordix/baremetal-operator"
SKIP = ("plugins:\n  metal3-io:\n    plugins: [lgtm]\n  Nordix:\n    plugins: [lgtm]\n"
        "owners:\n  skip_collaborators: [metal3-io]\n")
OWNERS_FILES = {
    "OWNERS": "approvers:\n- carol\n",
    "OWNERS_ALIASES": "aliases:\n  docs-team:\n  - Frank\n",
    "docs/OWNERS": "reviewers:\n- dave\n- docs-team\n",
    "pkg/OWNERS": "reviewers:\n- erin\n",
}


@pytest.fixture
def owned(prow):
    prow.plugins_yaml(SKIP)
    for name in (OWNERS_REPO, OTHER_ORG_REPO):
        prow.gh.add_repo(name, files=OWNERS_FILES)
        prow.gh.add_collaborator(name, "bob")
    return prow.gh


def owned_pull(gh, repo=OWNERS_REPO, **kw):
    return gh.add_pull(repo, author="alice", files=["docs/guide.md"], **kw)


def owned_comment(gh, repo, number, body, commenter):
    event = payloads.issue_comment(repo, number, body, commenter=commenter, issue_author="alice", on_pull=True)
    event["issue"]["labels"] = [{"name": name} for name in gh.pull(repo, number).labels]
    return event


@pytest.mark.parametrize("commenter, body, had_lgtm, has_lgtm, answer", [
    ("carol", "/lgtm", False, True, None),              # a root approver (not a collaborator)
    ("dave", "/lgtm", False, True, None),               # a reviewer of docs/
    ("frank", "/lgtm", False, True, None),              # through the docs-team alias
    ("dave", "/lgtm cancel", True, False, None),
    ("erin", "/lgtm", False, False, lgtm.OWNERS_ONLY_REPLY),   # reviews pkg/ only: not a changed file's
    ("bob", "/lgtm", False, False, lgtm.OWNERS_ONLY_REPLY),    # a collaborator, but not in OWNERS
    ("mallory", "/lgtm cancel", True, True, lgtm.OWNERS_ONLY_REPLY),   # cancelling is restricted too
    ("alice", "/lgtm cancel", True, False, None),        # the author may always remove
])
def test_with_skip_collaborators_owners_decide(prow, owned, commenter, body, had_lgtm, has_lgtm, answer):
    n = owned_pull(owned, labels=[labels.LGTM] if had_lgtm else [])
    event = owned_comment(owned, OWNERS_REPO, n, body, commenter)

    prow.post("issue_comment", event)
    prow.settle()

    assert (labels.LGTM in owned.labels(OWNERS_REPO, n)) is has_lgtm
    assert owned.assignees(OWNERS_REPO, n) == []                 # nobody is assigned on this path
    assert [c.body for c in owned.comments(OWNERS_REPO, n)] == ([reply(event, commenter, answer)] if answer else [])


def test_the_org_not_listed_in_skip_collaborators_still_asks_for_collaborators(prow, owned):
    n = owned_pull(owned, repo=OTHER_ORG_REPO)
    event = owned_comment(owned, OTHER_ORG_REPO, n, "/lgtm", "carol")
    prow.post("issue_comment", event)
    prow.settle()
    assert owned.labels(OTHER_ORG_REPO, n) == []
    assert [c.body for c in owned.comments(OTHER_ORG_REPO, n)] == [
        reply(event, "carol", lgtm.COLLABORATORS_ONLY_REPLY)]


def test_owners_are_read_at_the_base_branch(prow, owned):
    owned.add_branch(OWNERS_REPO, "release-1.0")
    owned.set_file(OWNERS_REPO, "docs/OWNERS", "reviewers:\n- grace\n", ref="release-1.0")
    n = owned_pull(owned, base="release-1.0")
    prow.post("issue_comment", owned_comment(owned, OWNERS_REPO, n, "/lgtm", "grace"))
    prow.settle()
    assert owned.labels(OWNERS_REPO, n) == [labels.LGTM]

    m = owned_pull(owned)                                          # on main grace is nobody
    prow.post("issue_comment", owned_comment(owned, OWNERS_REPO, m, "/lgtm", "grace"))
    prow.settle()
    assert owned.labels(OWNERS_REPO, m) == []


def test_an_owners_lgtm_reads_the_pr_once_and_no_collaborators(prow, owned):
    n = owned_pull(owned)
    prow.post("issue_comment", owned_comment(owned, OWNERS_REPO, n, "/lgtm", "dave"))
    prow.settle()
    paths = [(r.method, r.path) for r in owned.log if r.path != "/user"]
    assert paths.count(("GET", f"/repos/{OWNERS_REPO}/pulls/{n}")) == 1
    assert not [p for p in paths if "/collaborators" in p[1] or p[1].endswith("/labels") and p[0] == "GET"]
    assert owned.labels(OWNERS_REPO, n) == [labels.LGTM]


def test_an_approving_review_by_an_owner_with_skip_collaborators(prow, owned):
    prow.plugins_yaml(SKIP + "lgtm:\n- repos: [metal3-io]\n  review_acts_as_lgtm: true\n")
    n = owned_pull(owned)
    prow.post("pull_request_review", payloads.pull_request_review(OWNERS_REPO, n, reviewer="dave",
                                                                  state="approved", pr_author="alice"))
    prow.settle()
    assert owned.labels(OWNERS_REPO, n) == [labels.LGTM]
    assert owned.count("GET", f"/repos/{OWNERS_REPO}/pulls/{n}") == 0     # the review carries the base branch


def test_help_describes_each_repos_configuration():
    from shared.config.errors import Diagnostics
    from shared.config.plugins import parse_plugin_config
    from shared.config.yamlnodes import load_yaml
    text = (PLUGINS + "lgtm:\n- repos: [org/repo]\n  review_acts_as_lgtm: true\n  store_tree_hash: true\n"
            "- repos: [org]\n  trusted_team_for_sticky_lgtm: Core\n")
    config = parse_plugin_config(load_yaml(text, "plugins.yaml")[0], "plugins.yaml", Diagnostics())
    help_json = lgtm.PLUGIN.help(config, ["org/repo", "org/other", "else/where"]).to_json()
    assert help_json["Config"] == {
        "org/repo": "The plugin has the following configuration:<ul>\n"
                    "<li>Reviews of \"approve\" or \"request changes\" act as adding or removing LGTM.</li>\n"
                    "<li>Squashing commits does not remove LGTM.</li>\n</ul>",
        "org/other": "The plugin has the following configuration:<ul>\n"
                     "<li>Commits from \"Core\" do not remove LGTM.</li>\n</ul>"}
    assert help_json["Events"] == ["pull_request", "pull_request_review", "GenericCommentEvent (any event for user text)"]
    assert help_json["Commands"][0]["Featured"] is True
