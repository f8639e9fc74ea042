"""blunderbuss end to end: a PR opened (or `/auto-cc`) through `hook` and `dispatch`; the fake GitHub shows
whom reviews were requested from, picked from the base branch's OWNERS as Prow's blunderbuss picks."""
import pytest

from shared.plugin_help import build_help
from shared.plugins import blunderbuss
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
DOCS = {"dave", "erin", "frank"}
OWNERS_FILES = {
    "OWNERS": "approvers:\n- carol\n- alice\nreviewers:\n- rita\n",
    "docs/OWNERS": "reviewers:\n- dave\n- erin\n- frank\n",
    "pkg/OWNERS": "reviewers:\n- gina\nrequired_reviewers:\n- henry\n",
}
PEOPLE = ("alice", "carol", "rita", "dave", "erin", "frank", "gina", "henry")


def config(**fields):
    lines = "".join(f"  {key}: {value}\n" for key, value in fields.items())
    return "plugins:\n  org:\n    plugins: [blunderbuss]\n" + (f"blunderbuss:\n{lines}" if lines else "")


@pytest.fixture
def gh(prow):
    prow.plugins_yaml(config())
    prow.gh.add_repo(REPO, files=OWNERS_FILES)
    for login in PEOPLE:
        prow.gh.add_collaborator(REPO, login)
    return prow.gh


def open_pr(prow, files, *, author="alice", body="", action="opened", draft=False, **fields):
    n = prow.gh.add_pull(REPO, author=author, files=files, body=body, draft=draft)
    event = payloads.pull_request_event(REPO, n, action=action, author=author, body=body, draft=draft, **fields)
    prow.post("pull_request", event)
    prow.settle()
    return n


# -- whom -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("settings, files, author, expect", [
    # two of the three docs reviewers (request_count defaults to 2)
    ({}, ["docs/a.md"], "alice", lambda got: len(got) == 2 and got <= DOCS),
    ({"request_count": 3}, ["docs/a.md"], "alice", lambda got: got == DOCS),
    # one per OWNERS file touched, and pkg's required reviewer on top
    ({}, ["docs/a.md", "pkg/b.go"], "alice", lambda got: len(got & DOCS) == 1 and got - DOCS == {"gina", "henry"}),
    # docs leaves, then the inherited root reviewer, then approvers (never the author)
    ({"request_count": 5}, ["docs/a.md"], "alice", lambda got: got == DOCS | {"rita", "carol"}),
    ({"request_count": 5, "exclude_approvers": "true"}, ["docs/a.md"], "alice", lambda got: got == DOCS | {"rita"}),
    ({"request_count": 3, "max_request_count": 1}, ["docs/a.md", "pkg/b.go"], "alice",
     lambda got: len(got - {"henry"}) == 1 and "henry" in got),      # required reviewers are not cut
    ({"request_count": 3}, ["docs/a.md"], "dave", lambda got: got == {"erin", "frank", "rita"}),
    ({}, ["pkg/b.go"], "henry", lambda got: "henry" not in got and "gina" in got),
    # short of reviewers: approvers are picked with the full count again (Prow's fallback), so 3
    ({}, ["README.md"], "bob", lambda got: got == {"rita", "carol", "alice"}),
])
def test_reviewers_come_from_the_owners_of_the_changed_files(prow, gh, settings, files, author, expect):
    prow.plugins_yaml(config(**settings))
    gh.add_collaborator(REPO, "bob")
    n = open_pr(prow, files, author=author)
    got = set(gh.requested_reviewers(REPO, n))
    assert expect(got), got
    assert author not in got
    assert gh.count("POST", f"/repos/{REPO}/pulls/{n}/requested_reviewers") == 1


@pytest.mark.parametrize("settings, kwargs", [
    ({}, {"body": "Please look.\n/cc @gina"}),                  # the author chose
    ({"ignore_drafts": "true"}, {"draft": True}),
    ({"ignore_authors": "[alice]"}, {}),
    ({}, {"action": "synchronize"}),
    ({}, {"action": "edited"}),
    ({}, {"action": "reopened"}),
])
def test_no_request(prow, gh, settings, kwargs):
    prow.plugins_yaml(config(**settings))
    n = open_pr(prow, ["docs/a.md"], **kwargs)
    assert gh.requested_reviewers(REPO, n) == []
    assert gh.count("POST", "*/requested_reviewers") == 0


@pytest.mark.parametrize("kwargs", [{"draft": True}, {"action": "ready_for_review"}])
def test_drafts_and_ready_for_review_get_reviewers(prow, gh, kwargs):
    n = open_pr(prow, ["docs/a.md"], **kwargs)
    assert len(gh.requested_reviewers(REPO, n)) == 2


def test_reviewers_who_are_not_collaborators_are_dropped_unless_skip_collaborators(prow, gh):
    gh.add_repo("org/other", files={"OWNERS": "reviewers:\n- outsider\n- insider\n"})
    gh.add_collaborator("org/other", "insider")
    gh.add_org_member("org", "outsider")         # requestable, but not a collaborator: OWNERS filter drops it
    n = gh.add_pull("org/other", author="alice", files=["x"])
    prow.post("pull_request", payloads.pull_request_event("org/other", n, author="alice"))
    prow.settle()
    assert gh.requested_reviewers("org/other", n) == ["insider"]

    prow.plugins_yaml(config() + "owners:\n  skip_collaborators: [org]\n")
    m = gh.add_pull("org/other", author="alice", files=["x"])
    prow.post("pull_request", payloads.pull_request_event("org/other", m, author="alice"))
    prow.settle()
    assert sorted(gh.requested_reviewers("org/other", m)) == ["insider", "outsider"]


def test_when_github_refuses_one_reviewer_the_others_are_still_requested(prow, gh):
    prow.plugins_yaml(config() + "owners:\n  skip_collaborators: [org]\n")
    gh.add_repo("org/other", files={"OWNERS": "reviewers:\n- stranger\n- insider\n"})
    gh.add_collaborator("org/other", "insider")
    gh.add_user("stranger")
    n = gh.add_pull("org/other", author="alice", files=["x"])
    prow.post("pull_request", payloads.pull_request_event("org/other", n, author="alice"))
    run = prow.settle()
    assert [i.outcome for i in run.calls("dispatch")] == ["ok"]
    assert gh.requested_reviewers("org/other", n) == ["insider"]


def test_picks_are_random_across_prs_and_stable_for_one(prow, gh):
    picks = {frozenset(gh.requested_reviewers(REPO, open_pr(prow, ["docs/a.md"]))) for _ in range(8)}
    assert len(picks) > 1 and all(len(p) == 2 and p <= DOCS for p in picks)


# -- /auto-cc and idempotency ---------------------------------------------------------------------------------

def auto_cc(prow, n, *, state="open", commenter="bob"):
    prow.post("issue_comment", payloads.issue_comment(REPO, n, "/auto-cc", commenter=commenter,
                                                      issue_author="alice", on_pull=True, state=state))
    prow.settle()


def test_auto_cc_requests_reviewers_and_twice_requests_once(prow, gh):
    n = gh.add_pull(REPO, author="alice", files=["docs/a.md"])
    auto_cc(prow, n)
    first = gh.requested_reviewers(REPO, n)
    auto_cc(prow, n)
    assert len(first) == 2 and gh.requested_reviewers(REPO, n) == first
    assert gh.count("POST", f"/repos/{REPO}/pulls/{n}/requested_reviewers") == 1


def test_auto_cc_after_an_owners_change_requests_the_new_reviewer(prow, gh):
    n = gh.add_pull(REPO, author="alice", files=["pkg/b.go"])
    auto_cc(prow, n)
    assert sorted(gh.requested_reviewers(REPO, n)) == ["gina", "henry", "rita"]   # rita: inherited from the root
    gh.set_file(REPO, "pkg/OWNERS", "reviewers:\n- ivan\n")
    gh.add_collaborator(REPO, "ivan")
    auto_cc(prow, n)
    assert "ivan" in gh.requested_reviewers(REPO, n)


def test_auto_cc_on_a_closed_pr_does_nothing(prow, gh):
    n = gh.add_pull(REPO, author="alice", files=["docs/a.md"], state="closed")
    gh.clear_log()
    auto_cc(prow, n, state="closed")
    assert gh.log == []


def test_an_opened_delivery_twice_requests_once(prow, gh):
    n = gh.add_pull(REPO, author="alice", files=["docs/a.md"])
    event = payloads.pull_request_event(REPO, n, author="alice")
    prow.post("pull_request", event, delivery="opened-1")
    prow.post("pull_request", event, delivery="opened-1")
    prow.settle()
    assert gh.count("POST", f"/repos/{REPO}/pulls/{n}/requested_reviewers") == 1


def test_a_retried_delivery_does_not_request_again(prow, gh):
    n = gh.add_pull(REPO, author="alice", files=["docs/a.md"])
    gh.fail("POST", f"/repos/{REPO}/pulls/{n}/requested_reviewers", status=502, times=4, applied=True)
    prow.post("pull_request", payloads.pull_request_event(REPO, n, author="alice"))
    run = prow.settle()
    assert [i.outcome for i in run.calls("dispatch")] == ["retry", "ok"]
    assert len(gh.requested_reviewers(REPO, n)) == 2


def test_help_says_how_many_reviewers(prow, gh):
    from shared.config.loader import load_config
    prow.plugins_yaml(config(request_count=3))
    loaded = load_config(str(prow.config_dir / "config.yaml"), None, str(prow.config_dir / "plugins.yaml"))
    help_json = build_help(loaded)["PluginHelp"]["blunderbuss"]
    assert help_json["Config"] == {"": "Blunderbuss is currently configured to request reviews from 3 reviewers."}
    assert help_json["Events"] == ["pull_request", "GenericCommentEvent (any event for user text)"]
    assert [c["Usage"] for c in help_json["Commands"]] == ["/auto-cc"]
    assert blunderbuss.options(loaded.plugins).request_count == 3
