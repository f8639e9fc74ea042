"""override end to end: `/override`, `/override-sticky` and `/override-cancel` comments go through hook →
dispatch → the fake GitHub; who may use them, which statuses change, and Prow's replies."""
import pytest

from shared.github.statuses import base_sha_from_description, description_with_base_sha
from shared.plugins.override import STICKY_NOTE, parse_names, who_can_use, Options
from shared.plugins.respond import format_response_raw
from tests import payloads
from tests.appenv import CONFIG_YAML, prow  # noqa: F401

REPO = "org/repo"
PLUGINS = """plugins:
  org:
    plugins: [override]
override:
  allowed_github_teams:
    org/repo: [release-managers]
    org: [ci-admins]
"""
JOBS = CONFIG_YAML + """presubmits:
  org/repo:
  - name: pull-repo-unit
    context: ci/unit
    always_run: true
    spec: {containers: [{image: alpine}]}
"""


@pytest.fixture
def pr(prow):
    """org/repo with PR #1 by carol whose head has a failing ci/unit and a pending lint."""
    prow.plugins_yaml(PLUGINS)
    prow.gh.add_repo(REPO)
    prow.gh.add_collaborator(REPO, "alice", permission="admin")
    prow.gh.add_collaborator(REPO, "bob", permission="write")
    prow.gh.add_team("org", "release-managers", members=["dave"])
    prow.gh.add_team("org", "ci-admins", members=["erin"])
    number = prow.gh.add_pull(REPO, author="carol")
    head = prow.gh.pull(REPO, number).head_sha
    prow.gh.set_status(REPO, head, "ci/unit", "failure", description="Job failed.", target_url="https://ci/1")
    prow.gh.set_status(REPO, head, "lint", "pending")
    return number, head


def with_jobs(prow):
    """config.yaml gains presubmit pull-repo-unit, reporting context ci/unit."""
    from shared.config.source import default_source
    (prow.config_dir / "config.yaml").write_text(JOBS)
    assert default_source().refresh().jobs.presubmits_for(REPO)[0].context == "ci/unit"


def comment(prow, number, body, *, by, delivery=None):
    event = payloads.issue_comment(REPO, number, body, commenter=by, issue_author="carol", on_pull=True)
    prow.post("issue_comment", event, delivery=delivery)
    prow.settle()
    return event


def reply_to(event, by, text):
    return format_response_raw(event["comment"]["body"], event["comment"]["html_url"], by, text)


def latest(prow, head, context):
    return [s for s in prow.gh.statuses(REPO, head) if s.context == context][-1]


def bot_comments(prow, number):
    return [c.body for c in prow.gh.comments(REPO, number)]


@pytest.mark.parametrize("user, allowed", [
    ("alice", True),        # repo admin
    ("dave", True),         # team listed for org/repo
    ("erin", True),         # team listed for the org
    ("bob", False),         # write access is not enough
    ("carol", False),       # the PR's author
])
def test_who_may_override(prow, pr, user, allowed):
    number, head = pr
    event = comment(prow, number, "/override ci/unit", by=user)

    status = latest(prow, head, "ci/unit")
    if allowed:
        base = prow.gh.branch_sha(REPO, "main")
        assert (status.state, status.description) == ("success", description_with_base_sha(f"Overridden by {user}", base))
        assert status.target_url == "https://ci/1"
        assert base_sha_from_description(status.description) == base
        assert bot_comments(prow, number) == [reply_to(event, user, f"Overrode contexts on behalf of {user}: ci/unit")]
    else:
        assert status.state == "failure"
        assert bot_comments(prow, number) == [reply_to(
            event, user, f"{user} unauthorized: /override is restricted to Repo administrators, and the following "
                         f"github teams:org/repo: release-managers, org: ci-admins.")]
    assert latest(prow, head, "lint").state == "pending"


@pytest.mark.parametrize("user, allowed", [
    ("frank", True),        # a root OWNERS approver
    ("gina", True),         # an approver through an OWNERS_ALIASES alias
    ("hank", False),        # a reviewer only
    ("ivy", False),         # an approver of a subdirectory only
])
def test_top_level_owners_may_override_when_allowed(prow, pr, user, allowed):
    number, head = pr
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [override]\noverride:\n  allow_top_level_owners: true\n"
                      "owners:\n  skip_collaborators: [org]\n")
    prow.gh.set_files(REPO, {"OWNERS": "approvers:\n- frank\n- release-team\nreviewers:\n- hank\n",
                             "OWNERS_ALIASES": "aliases:\n  release-team:\n  - gina\n",
                             "docs/OWNERS": "approvers:\n- ivy\n"})

    event = comment(prow, number, "/override ci/unit", by=user)

    assert latest(prow, head, "ci/unit").state == ("success" if allowed else "failure")
    expected = (f"Overrode contexts on behalf of {user}: ci/unit" if allowed else
                f"{user} unauthorized: /override is restricted to Repo administrators, approvers in top level "
                f"OWNERS file.")
    assert bot_comments(prow, number) == [reply_to(event, user, expected)]


def test_owners_are_read_at_the_base_branch_and_only_when_allowed(prow, pr):
    number, head = pr
    prow.gh.set_files(REPO, {"OWNERS": "approvers:\n- frank\n"})
    comment(prow, number, "/override ci/unit", by="frank")                 # not enabled: no OWNERS read
    assert latest(prow, head, "ci/unit").state == "failure"
    assert prow.gh.count("GET", "/repos/org/repo/git/trees/*") == 0

    prow.plugins_yaml("plugins:\n  org:\n    plugins: [override]\noverride:\n  allow_top_level_owners: true\n"
                      "owners:\n  skip_collaborators: [org]\n")
    prow.gh.add_branch(REPO, "release-1.0")
    release = prow.gh.add_pull(REPO, author="carol", base="release-1.0")
    release_head = prow.gh.pull(REPO, release).head_sha
    prow.gh.set_status(REPO, release_head, "ci/unit", "failure")
    prow.gh.set_files(REPO, {"OWNERS": "approvers:\n- someone-else\n"}, ref="release-1.0")
    comment(prow, release, "/override ci/unit", by="frank")                # frank approves main, not release-1.0
    assert latest(prow, release_head, "ci/unit").state == "failure"
    assert prow.gh.count("GET", "/repos/org/repo/git/trees/release-1.0") == 1


def test_several_contexts_a_quoted_name_and_a_job_name(prow, pr):
    number, head = pr
    with_jobs(prow)
    prow.gh.set_status(REPO, head, "test / Unit Tests", "error")

    event = comment(prow, number, 'Flaky infra.\r\n/override lint "test / Unit Tests"\r\n/override pull-repo-unit',
                    by="alice")

    assert {s: latest(prow, head, s).state for s in ("ci/unit", "lint", "test / Unit Tests")} == {
        "ci/unit": "success", "lint": "success", "test / Unit Tests": "success"}
    assert bot_comments(prow, number) == [reply_to(
        event, "alice", "Overrode contexts on behalf of alice: ci/unit, lint, test / Unit Tests")]
    assert prow.gh.count("GET", "/repos/org/repo/branches/*/protection") == 0  # every name was known


def test_an_unknown_context_changes_nothing_and_lists_what_can_be_overridden(prow, pr):
    number, head = pr
    with_jobs(prow)
    prow.gh.set_status(REPO, head, "tide", "success")

    event = comment(prow, number, "/override ci/unit tide nope", by="alice")

    assert latest(prow, head, "ci/unit").state == "failure"
    assert bot_comments(prow, number) == [reply_to(event, "alice", (
        "/override requires failed status contexts, check run or a prowjob name to operate on.\n"
        "The following unknown contexts/checkruns were given:\n - `nope`\n - `tide`\n\n"
        "Only the following failed contexts/checkruns were expected:\n"
        " - `ci/unit`\n - `lint`\n - `pull-repo-unit`\n\n"
        "If you are trying to override a checkrun that has a space in it, you must put a double quote on the "
        "context.\n"))]
    assert prow.gh.count("POST", "/repos/org/repo/statuses/*") == 0


def test_no_context_given(prow, pr):
    number, _ = pr
    event = comment(prow, number, "/override", by="alice")
    assert bot_comments(prow, number) == [reply_to(
        event, "alice", "/override requires failed status contexts to operate on, but none was given")]
    assert prow.gh.count("GET") == 0


def test_a_required_context_nobody_reported_comes_from_branch_protection(prow, pr):
    number, head = pr
    prow.gh.protect_branch(REPO, "main", required_contexts=["ci/unit", "e2e"])

    event = comment(prow, number, "/override e2e", by="alice")

    assert latest(prow, head, "e2e").state == "success"
    assert latest(prow, head, "e2e").description.startswith("Overridden by alice")
    assert bot_comments(prow, number) == [reply_to(event, "alice", "Overrode contexts on behalf of alice: e2e")]


def test_branch_protection_unreadable_is_reported(prow, pr):
    number, head = pr
    prow.gh.fail_not_found("GET", "/repos/org/repo/branches/main/protection")
    event = comment(prow, number, "/override e2e", by="alice")
    assert bot_comments(prow, number) == [reply_to(
        event, "alice", "Cannot get branch protection for branch main in org/repo")]


def test_sticky_override_marks_the_status_for_tide_and_cancel_reverts_it(prow, pr):
    number, head = pr
    sticky = comment(prow, number, "/override-sticky ci/unit", by="alice")
    status = latest(prow, head, "ci/unit")
    assert status.state == "success" and status.description.startswith("Overridden by alice [prow:skip-retest]")
    assert bot_comments(prow, number)[-1] == reply_to(
        sticky, "alice", "Overrode contexts on behalf of alice: ci/unit" + STICKY_NOTE)

    cancel = comment(prow, number, "/override-cancel", by="dave")
    status = latest(prow, head, "ci/unit")
    assert (status.state, status.description) == ("failure", "Override cancelled by dave")
    assert bot_comments(prow, number)[-1] == reply_to(cancel, "dave", "Cancelled overrides on behalf of dave: ci/unit")

    again = comment(prow, number, "/override-cancel lint", by="dave")
    assert bot_comments(prow, number)[-1] == reply_to(again, "dave", "No overrides found to cancel")


def test_cancel_needs_the_same_rights(prow, pr):
    number, head = pr
    comment(prow, number, "/override ci/unit", by="alice")
    event = comment(prow, number, "/override-cancel ci/unit", by="bob")
    assert latest(prow, head, "ci/unit").state == "success"
    assert bot_comments(prow, number)[-1].startswith("@bob: bob unauthorized: /override-cancel is restricted to ")
    assert bot_comments(prow, number)[-1] == reply_to(event, "bob", (
        "bob unauthorized: /override-cancel is restricted to Repo administrators, and the following github "
        "teams:org/repo: release-managers, org: ci-admins."))


@pytest.mark.parametrize("body, on_pull, state, action", [
    ("/override ci/unit", False, "open", "created"),      # an issue, not a PR
    ("/override ci/unit", True, "closed", "created"),     # a closed PR
    ("/override ci/unit", True, "open", "edited"),        # an edited comment
    ("> /override ci/unit", True, "open", "created"),     # quoted
    ("/overrides ci/unit", True, "open", "created"),      # another word
])
def test_what_is_not_a_command(prow, pr, body, on_pull, state, action):
    number, head = pr
    event = payloads.issue_comment(REPO, number, body, commenter="alice", on_pull=on_pull, state=state,
                                   action=action)
    prow.post("issue_comment", event)
    prow.settle()
    assert latest(prow, head, "ci/unit").state == "failure"
    assert prow.gh.log == []


def test_the_same_delivery_twice_writes_once(prow, pr):
    number, head = pr
    comment(prow, number, "/override ci/unit", by="alice", delivery="delivery-override-1")
    comment(prow, number, "/override ci/unit", by="alice", delivery="delivery-override-1")
    assert [s.state for s in prow.gh.statuses(REPO, head) if s.context == "ci/unit"] == ["failure", "success"]
    assert len(prow.gh.comments(REPO, number)) == 1


def test_a_retry_after_a_failed_reply_does_not_write_the_status_again(prow, pr):
    number, head = pr
    prow.gh.fail("POST", "/repos/org/repo/issues/1/comments", status=502)
    event = comment(prow, number, "/override ci/unit", by="alice")
    assert [s.state for s in prow.gh.statuses(REPO, head) if s.context == "ci/unit"] == ["failure", "success"]
    assert bot_comments(prow, number) == [reply_to(event, "alice", "Overrode contexts on behalf of alice: ci/unit")]


def test_requests_cold_and_warm(prow, pr):
    number, head = pr
    prow.gh.clear_log()
    comment(prow, number, "/override ci/unit", by="alice")
    cold = [(r.method, r.path, r.status) for r in prow.gh.log]
    prow.gh.clear_log()
    comment(prow, number, "/override lint", by="alice")
    warm = [(r.method, r.path, r.status) for r in prow.gh.log]
    # Prow: the PR, the permission, the statuses, branch protection, the base ref, the status, the reply.
    assert cold == [("GET", "/repos/org/repo/pulls/1", 200),
                    ("GET", "/repos/org/repo/collaborators/alice/permission", 200),
                    ("GET", f"/repos/org/repo/commits/{head}/statuses", 200),
                    ("GET", "/repos/org/repo/git/ref/heads/main", 200),
                    ("POST", f"/repos/org/repo/statuses/{head}", 201),
                    ("POST", "/repos/org/repo/issues/1/comments", 201)]
    # The first override changed the PR (its comment count) and the statuses; the rest is revalidated.
    assert warm == [("GET", "/repos/org/repo/pulls/1", 200),
                    ("GET", "/repos/org/repo/collaborators/alice/permission", 304),
                    ("GET", f"/repos/org/repo/commits/{head}/statuses", 200),
                    ("GET", "/repos/org/repo/git/ref/heads/main", 304),
                    ("POST", f"/repos/org/repo/statuses/{head}", 201),
                    ("POST", "/repos/org/repo/issues/1/comments", 201)]


def test_parse_names_and_help_text():
    assert parse_names('a  "b c" "d"') == ["a", "b c", "d"]
    assert who_can_use(Options(allow_top_level_owners=True)) == \
        "Repo administrators, approvers in top level OWNERS file."


def test_a_refused_status_write_is_reported(prow, pr):
    number, head = pr
    prow.gh.fail_validation("POST", f"/repos/org/repo/statuses/{head}")
    event = comment(prow, number, "/override ci/unit", by="alice")
    assert latest(prow, head, "ci/unit").state == "failure"
    assert bot_comments(prow, number) == [reply_to(event, "alice", "Cannot update PR status for context ci/unit")]


@pytest.fixture
def as_app(prow, monkeypatch):
    """The app authenticates as a GitHub App installed on org."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    prow.gh.add_app(4242, slug="prow-app", public_key=public)
    prow.gh.add_installation(77, "org")
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("GITHUB_APP_ID", "4242")
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", private)


def test_check_runs_are_overridden_under_app_auth(prow, pr, as_app):
    number, head = pr
    prow.gh.add_check_run(REPO, head, "build", conclusion="failure", details_url="https://ci/build")
    prow.gh.add_check_run(REPO, head, "docs", conclusion="neutral")             # neutral counts as passing
    prow.gh.add_check_run(REPO, head, "e2e", status="in_progress")               # pending: not offered

    refused = comment(prow, number, "/override docs e2e", by="alice")
    assert bot_comments(prow, number)[-1] == reply_to(refused, "alice", (
        "/override requires failed status contexts, check run or a prowjob name to operate on.\n"
        "The following unknown contexts/checkruns were given:\n - `docs`\n - `e2e`\n\n"
        "Only the following failed contexts/checkruns were expected:\n - `build`\n - `ci/unit`\n - `lint`\n\n"
        "If you are trying to override a checkrun that has a space in it, you must put a double quote on the "
        "context.\n"))

    event = comment(prow, number, "/override build ci/unit", by="alice")
    new = [r for r in prow.gh.check_runs(REPO, head) if r.name == "build"][-1]
    assert (new.status, new.conclusion, new.output["title"]) == ("completed", "success", "Prow override - build")
    assert new.creator == "prow-app[bot]"
    assert latest(prow, head, "ci/unit").state == "success"
    assert bot_comments(prow, number)[-1] == reply_to(event, "alice",
                                                      "Overrode contexts on behalf of alice: build, ci/unit")


def test_check_runs_are_not_read_with_a_token(prow, pr):
    number, head = pr
    prow.gh.add_check_run(REPO, head, "build", conclusion="failure")
    comment(prow, number, "/override build", by="alice")
    assert prow.gh.count("GET", "/repos/org/repo/commits/*/check-runs") == 0
    assert [r.conclusion for r in prow.gh.check_runs(REPO, head)] == ["failure"]


def test_a_retry_does_not_create_a_second_check_run(prow, pr, as_app):
    number, head = pr
    prow.gh.add_check_run(REPO, head, "build", conclusion="failure")
    prow.gh.fail("POST", "/repos/org/repo/issues/1/comments", status=502)
    event = comment(prow, number, "/override build", by="alice")
    assert [r.conclusion for r in prow.gh.check_runs(REPO, head)] == ["failure", "success"]
    assert bot_comments(prow, number) == [reply_to(event, "alice", "Overrode contexts on behalf of alice: build")]
