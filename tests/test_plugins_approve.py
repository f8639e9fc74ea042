"""approve end to end: signed deliveries into `hook`, `settle()` runs `dispatch`, the fake GitHub shows the
`approved` label and the notification Prow's approve plugin would leave."""
import pytest

from shared import labels
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
PLUGINS = "plugins:\n  org:\n    plugins: [approve]\n"
OWNERS = {"OWNERS": "approvers: [root-approver]\n", "a/OWNERS": "approvers: [alice]\nreviewers: [rita]\n",
          "b/OWNERS": "approvers: [Bob]\n", "a/x.go": "x", "b/y.go": "y", "README.md": "r"}
HELP = ("The full list of commands accepted by this bot can be found "
        "[here](https://go.k8s.io/bot-commands?repo=org%2Frepo).")
PROCESS = "https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process"
FOOTER = ("Approvers can indicate their approval by writing `/approve` in a comment\n"
          "Approvers can cancel approval by writing `/approve cancel` in a comment\n</details>")


@pytest.fixture
def gh(prow):
    prow.plugins_yaml(PLUGINS)
    prow.gh.add_repo(REPO, files=OWNERS)
    for login in ("root-approver", "alice", "bob", "rita", "carol"):
        prow.gh.add_collaborator(REPO, login)
    return prow.gh


def options(text):
    return PLUGINS + "approve:\n- repos: [org]\n" + text


def pull(gh, files=("a/x.go",), author="contributor", **kw):
    return gh.add_pull(REPO, author=author, files=list(files), **kw)


def say(prow, n, body, who, author="contributor"):
    """`who` comments on PR n: the comment exists on GitHub, and its webhook is delivered."""
    cid = prow.gh.add_comment(REPO, n, body, author=who)
    event = payloads.issue_comment(REPO, n, body, commenter=who, issue_author=author, on_pull=True, comment_id=cid)
    prow.post("issue_comment", event)
    prow.settle()


def review(prow, n, who, state, body=""):
    prow.gh.add_review(REPO, n, author=who, state=state.upper(), body=body)
    prow.post("pull_request_review",
              payloads.pull_request_review(REPO, n, reviewer=who, state=state, body=body or None))
    prow.settle()


def notices(gh, n):
    return [c.body for c in gh.comments(REPO, n) if c.user == "ci-bot" and c.body.startswith("[APPROVALNOTIFIER]")]


def link(gh, n, who, how, url=None):
    url = url or f"{gh.web_url}/{REPO}/pull/{n}#"
    return f'*<a href="{url}" title="{how}">{who}</a>*'


def comment_link(gh, n, who):
    [c] = [c for c in gh.comments(REPO, n) if c.user == who][-1:]
    return link(gh, n, who, "Approved", f"{gh.web_url}/{REPO}/pull/{n}#issuecomment-{c.id}")


def owners_line(gh, unit, state, approvers=""):
    path = f"{unit}/OWNERS" if unit else "OWNERS"
    target = f"[{path}]({'https://github.com'}/{REPO}/blob/main/{path})"
    if state == "approved":
        return f"- ~~{target}~~ [{approvers}]\n"
    if approvers:
        return f"- **{target}** [{approvers}]\n  > Need more approvers for rest parts.\n"
    return f"- **{target}**\n"


# -- who approves what -----------------------------------------------------------------------------------

@pytest.mark.parametrize("files, commenter, body, approved", [
    (["a/x.go"], "alice", "/approve", True),                     # an approver of a/
    (["a/x.go"], "alice", "/APPROVE\r\n", True),                 # the command is upper-cased
    (["a/x.go"], "root-approver", "/approve", True),             # approvers are inherited
    (["a/x.go"], "bob", "/approve", False),                      # an approver elsewhere
    (["a/x.go"], "rita", "/approve", False),                     # a reviewer is no approver
    (["a/x.go", "b/y.go"], "alice", "/approve", False),          # b/ still needs its approver
    (["a/x.go", "b/y.go"], "root-approver", "/approve", True),   # the root covers both
    (["README.md"], "alice", "/approve", False),                 # the root unit needs a root approver
    (["a/x.go"], "alice", "  /approve", False),                  # not at the start of a line
    (["a/x.go"], "alice", "/approve cancel", False),
])
def test_who_approves_what(prow, gh, files, commenter, body, approved):
    n = pull(gh, files)
    say(prow, n, body, commenter)
    assert (labels.APPROVED in gh.labels(REPO, n)) is approved
    if body.startswith("/"):
        [notice] = notices(gh, n)
        assert notice.startswith("[APPROVALNOTIFIER] This PR is **" + ("" if approved else "NOT ") + "APPROVED**")
    else:
        assert gh.count("*", f"/repos/{REPO}/pulls/*") == 0 and notices(gh, n) == []


def test_partial_approval_notification_text(prow, gh):
    n = pull(gh, ["a/x.go", "b/y.go"])
    say(prow, n, "/approve", "alice")
    [notice] = notices(gh, n)
    assert notice == (
        "[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\n"
        f"This pull-request has been approved by: {comment_link(gh, n, 'alice')}, "
        f"{link(gh, n, 'contributor', 'Author self-approved')}\n"
        "**Once this PR has been reviewed and has the lgtm label**, please assign [bob](https://github.com/bob) "
        f"for approval. For more information see [the Code Review Process]({PROCESS}).\n\n"
        f"{HELP}\n\n"
        "<details open>\nNeeds approval from an approver in each of these files:\n\n"
        + owners_line(gh, "a", "approved", "alice") + owners_line(gh, "b", "unapproved") + "\n" + FOOTER
        + '\n<!-- META={"approvers":["bob"]} -->')


def test_approved_notification_text_and_label(prow, gh):
    n = pull(gh, ["a/x.go"])
    say(prow, n, "/approve", "alice")
    assert gh.labels(REPO, n) == [labels.APPROVED]
    assert notices(gh, n) == [
        "[APPROVALNOTIFIER] This PR is **APPROVED**\n\n"
        f"This pull-request has been approved by: {comment_link(gh, n, 'alice')}, "
        f"{link(gh, n, 'contributor', 'Author self-approved')}\n\n"
        f"{HELP}\n\nThe pull request process is described [here]({PROCESS})\n\n"
        "<details >\nNeeds approval from an approver in each of these files:\n\n"
        + owners_line(gh, "a", "approved", "alice") + "\n" + FOOTER + '\n<!-- META={"approvers":[]} -->']


def test_cancel_and_remove_approve_take_the_approval_back(prow, gh):
    n = pull(gh)
    say(prow, n, "/approve", "alice")
    assert gh.labels(REPO, n) == [labels.APPROVED]
    say(prow, n, "/approve cancel", "alice")
    assert gh.labels(REPO, n) == []
    say(prow, n, "/approve", "alice")
    say(prow, n, "/remove-approve", "alice")
    assert gh.labels(REPO, n) == []
    assert len(notices(gh, n)) == 1  # each change replaced the earlier notification


def test_the_bots_own_commands_are_ignored(prow, gh):
    n = pull(gh)
    say(prow, n, "/approve", "ci-bot")
    assert gh.labels(REPO, n) == [] and notices(gh, n) == []
    assert gh.count("GET", f"/repos/{REPO}/pulls/*") == 0


def test_closed_pull_requests_and_edits_are_ignored(prow, gh):
    n = pull(gh)
    prow.post("issue_comment", payloads.issue_comment(REPO, n, "/approve", commenter="alice", on_pull=True,
                                                      state="closed"))
    prow.post("issue_comment", payloads.issue_comment(REPO, n, "/approve", commenter="alice", on_pull=True,
                                                      action="edited"))
    prow.settle()
    assert gh.labels(REPO, n) == [] and notices(gh, n) == []


# -- options ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("config, approved", [("", True), ("  require_self_approval: false\n", True),
                                              ("  require_self_approval: true\n", False)])
def test_an_approver_authors_pull_request(prow, gh, config, approved):
    prow.plugins_yaml(options(config) if config else PLUGINS)
    n = pull(gh, author="alice")
    prow.post("pull_request", payloads.pull_request_event(REPO, n, action="opened", author="alice"))
    prow.settle()
    assert (labels.APPROVED in gh.labels(REPO, n)) is approved
    if not approved:  # the author is suggested, as an assignee would be
        assert "please ask for approval from [alice](https://github.com/alice)." in notices(gh, n)[0]


@pytest.mark.parametrize("config, state, approved", [
    ("", "approved", True), ("", "commented", None), ("  ignore_review_state: true\n", "approved", None),
    ("  ignore_review_state: false\n", "approved", True)])
def test_reviews_act_as_approve_unless_ignored(prow, gh, config, state, approved):
    prow.plugins_yaml(options(config) if config else PLUGINS)
    n = pull(gh)
    review(prow, n, "alice", state)
    if approved is None:
        assert gh.labels(REPO, n) == [] and notices(gh, n) == []
    else:
        assert gh.labels(REPO, n) == [labels.APPROVED]
        assert 'title="Approved">alice</a>' in notices(gh, n)[0]


def test_a_changes_requested_review_cancels_an_approval(prow, gh):
    n = pull(gh)
    say(prow, n, "/approve", "alice")
    review(prow, n, "alice", "changes_requested")
    assert gh.labels(REPO, n) == []


def test_an_approve_command_in_a_review_body_counts_once(prow, gh):
    n = pull(gh)
    review(prow, n, "alice", "commented", body="Looks right.\n/approve")
    assert gh.labels(REPO, n) == [labels.APPROVED]
    assert len(notices(gh, n)) == 1


def test_an_approve_in_an_inline_review_comment_counts(prow, gh):
    n = pull(gh)
    gh.add_review_comment(REPO, n, "/approve", author="alice")
    prow.post("pull_request_review_comment", payloads.pull_request_review_comment(REPO, n, "/approve",
                                                                                  commenter="alice"))
    prow.settle()
    assert gh.labels(REPO, n) == [labels.APPROVED]


@pytest.mark.parametrize("config, approved", [("", False), ("  lgtm_acts_as_approve: true\n", True)])
def test_lgtm_acts_as_approve(prow, gh, config, approved):
    prow.plugins_yaml(options(config) if config else PLUGINS)
    n = pull(gh)
    say(prow, n, "/lgtm", "alice")
    assert (labels.APPROVED in gh.labels(REPO, n)) is approved
    if approved:
        assert 'title="LGTM">alice</a>' in notices(gh, n)[0]
    else:
        assert notices(gh, n) == []


def test_issue_required(prow, gh):
    prow.plugins_yaml(options("  issue_required: true\n"))
    n = pull(gh)
    say(prow, n, "/approve", "alice")
    assert gh.labels(REPO, n) == []
    assert ("*No associated issue*. Update pull-request body to add a reference to an issue, or get approval with "
            "`/approve no-issue`\n\n" + HELP) in notices(gh, n)[0]
    say(prow, n, "/approve no-issue", "alice")
    assert gh.labels(REPO, n) == [labels.APPROVED]
    assert "Associated issue requirement bypassed by: *<a href=" in notices(gh, n)[0]
    m = pull(gh, body="Fixes #12")
    say(prow, m, "/approve", "alice")
    assert gh.labels(REPO, m) == [labels.APPROVED]
    assert "Associated issue: *#12*\n\n" in notices(gh, m)[0]


def test_a_human_added_approved_label_is_a_manual_approval(prow, gh):
    n = pull(gh)
    gh.update_pull(REPO, n, labels=[labels.APPROVED], actor="carol")
    prow.post("pull_request", {**payloads.pull_request_event(REPO, n, action="labeled", author="contributor"),
                               "label": {"name": labels.APPROVED}, "sender": payloads.user("carol")})
    prow.settle()
    assert gh.labels(REPO, n) == [labels.APPROVED]
    [notice] = notices(gh, n)
    assert notice.startswith("[APPROVALNOTIFIER] This PR is **APPROVED**\n\n"
                             "Approval requirements bypassed by manually added approval.\n\n")
    assert "<details >" in notice


def test_an_approved_label_the_bot_added_is_removed_when_approval_goes(prow, gh):
    n = pull(gh)
    gh.update_pull(REPO, n, labels=[labels.APPROVED], actor="ci-bot")
    prow.post("pull_request", payloads.pull_request_event(REPO, n, action="synchronize"))
    prow.settle()
    assert gh.labels(REPO, n) == []


@pytest.mark.parametrize("org, approved", [("metal3-io", True), ("Nordix", False)])
def test_owners_who_are_not_collaborators_count_only_where_collaborators_are_skipped(prow, org, approved):
    """metal3's plugins.yaml lists metal3-io in owners.skip_collaborators, not Nordix."""
    prow.plugins_yaml("plugins:\n  metal3-io:\n    plugins: [approve]\n  Nordix:\n    plugins: [approve]\n"
                      "owners:\n  skip_collaborators: [metal3-io]\n")
    full = f"{org}/project"
    prow.gh.add_repo(full, files={"OWNERS": "approvers: [outsider]\n"})
    n = prow.gh.add_pull(full, author="contributor", files=["main.go"])
    prow.gh.add_comment(full, n, "/approve", author="outsider")
    prow.post("issue_comment", payloads.issue_comment(full, n, "/approve", commenter="outsider", on_pull=True))
    prow.settle()
    assert (labels.APPROVED in prow.gh.labels(full, n)) is approved


# -- the notification is replaced only when it changes ---------------------------------------------------

def test_a_stale_notification_is_replaced_and_a_current_one_kept(prow, gh):
    n = pull(gh)
    gh.add_comment(REPO, n, "[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\nold text", author="ci-bot")
    gh.add_comment(REPO, n, "[APPROVALNOTIFIER] older still", author="ci-bot")
    say(prow, n, "/approve", "alice")
    [notice] = notices(gh, n)
    assert notice.startswith("[APPROVALNOTIFIER] This PR is **APPROVED**")
    gh.clear_log()
    say(prow, n, "/remove-approve", "rita")   # re-evaluated, same text: nothing written
    assert notices(gh, n) == [notice]
    assert [r.method for r in gh.log if r.method != "GET"] == []


def test_a_command_delivered_twice_changes_nothing_the_second_time(prow, gh):
    n = pull(gh)
    cid = gh.add_comment(REPO, n, "/approve", author="alice")
    event = payloads.issue_comment(REPO, n, "/approve", commenter="alice", on_pull=True, comment_id=cid)
    prow.post("issue_comment", event)
    prow.post("issue_comment", event)
    prow.settle()
    assert gh.labels(REPO, n) == [labels.APPROVED]
    assert len(notices(gh, n)) == 1
    assert gh.count("POST", f"/repos/{REPO}/issues/*/labels") == 1
    assert gh.count("POST", f"/repos/{REPO}/issues/*/comments") == 1
    assert gh.count("DELETE", "*") == 0


def test_options_as_metal3_configures_them():
    from shared.plugins.approve import ApproveOptions, options_for
    from tests.owners.test_corpus import _plugins
    config = _plugins("approve:\n- repos: [metal3-io, Nordix/metal3-dev-tools]\n  require_self_approval: true\n"
                      "  lgtm_acts_as_approve: false\n- repos: [Nordix/other]\n  ignore_review_state: true\n"
                      "  commandHelpLink: https://prow.example/command-help\n")
    assert options_for(config, "metal3-io", "baremetal-operator") == ApproveOptions(self_approval=False)
    assert options_for(config, "Nordix", "metal3-dev-tools") == ApproveOptions(self_approval=False)
    assert options_for(config, "Nordix", "other") == ApproveOptions(
        review_state_counts=False, command_help_link="https://prow.example/command-help")
    assert options_for(config, "Nordix", "unlisted") == ApproveOptions()


def test_help_describes_each_repositorys_options():
    from shared.plugins.approve import PLUGIN
    from tests.owners.test_corpus import _plugins
    config = _plugins("approve:\n- repos: [org]\n  require_self_approval: true\n")
    help_ = PLUGIN.help(config, ["org/repo"])
    assert help_.config == {"org/repo": (
        "Pull requests do not require an associated issue.<br>Pull request authors do not implicitly approve their "
        "own PRs.<br>The /lgtm [cancel] command(s) will not act as approval.<br>A GitHub approved or changes "
        "requested review will act as approval or cancel respectively.")}
    assert [c.usage for c in help_.commands] == ["/[remove-]approve [no-issue|cancel]"]
