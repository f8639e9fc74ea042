"""Every typed method round-trips against the fake GitHub; state changes are visible in the fake."""
from __future__ import annotations

import pytest

from shared.github import Conflict, GitHubClient, GitHubError, MemoryETagCache, NotFound, NotMergeable, ValidationFailed
from tests.fakes.github import FakeGitHub
from tests.github.conftest import REPO


def test_bot_login_is_the_tokens_user_and_is_asked_once_per_process(gh, client):
    with client.for_event("d1") as s:
        assert s.bot_login() == "ci-bot"
        assert s.bot_login() == "ci-bot"
    with client.for_event("d2") as s:
        assert s.bot_login() == "ci-bot"
        assert s.request_count == 0
    assert gh.count("GET", "/user") == 1


def test_issue_and_pull(gh, session):
    n = gh.add_pull(REPO, author="bob", title="Fix it", head_sha="a" * 40)
    i = gh.add_issue(REPO, title="Broken")
    assert session.get_pull("org", "repo", n)["head"]["sha"] == "a" * 40
    assert session.get_issue("org", "repo", n)["pull_request"]
    assert session.get_issue("org", "repo", i)["title"] == "Broken"
    with pytest.raises(NotFound):
        session.get_pull("org", "repo", i)


def test_list_open_pulls_lists_every_page_and_no_closed_pull(gh, session):
    numbers = [gh.add_pull(REPO, author="bob") for _ in range(105)]
    closed = gh.add_pull(REPO, author="bob", state="closed")
    listed = [p["number"] for p in session.list_open_pulls("org", "repo")]
    assert sorted(listed) == numbers and closed not in listed


def test_pull_files_commits_and_reviews(gh, session):
    n = gh.add_pull(REPO, author="bob", files=["a.go", {"filename": "b.go", "status": "added"}],
                    commits=["c1" * 20, "c2" * 20])
    gh.add_review(REPO, n, author="alice", state="APPROVED")
    assert [(f["filename"], f["status"]) for f in session.list_pull_files("org", "repo", n)] == [
        ("a.go", "modified"), ("b.go", "added")]
    assert [c["sha"] for c in session.list_pull_commits("org", "repo", n)] == ["c1" * 20, "c2" * 20]
    assert [(r["user"]["login"], r["state"]) for r in session.list_reviews("org", "repo", n)] == [
        ("alice", "APPROVED")]


def test_list_pull_files_reads_all_3000_pages(gh, session):
    n = gh.add_pull(REPO, files=[f"dir/file{i}.go" for i in range(3000)])
    files = session.list_pull_files("org", "repo", n)
    assert len(files) == 3000 and files[-1]["filename"] == "dir/file2999.go"
    assert gh.count("GET", f"/repos/org/repo/pulls/{n}/files") == 30
    assert all(r.query.startswith("per_page=100") for r in session.requests)


def test_comments_create_edit_delete(gh, session):
    n = gh.add_issue(REPO)
    gh.add_comment(REPO, n, "first", author="alice")
    created = session.create_comment("org", "repo", n, "/lgtm")
    assert [c.body for c in gh.comments(REPO, n)] == ["first", "/lgtm"]
    assert [c["body"] for c in session.list_issue_comments("org", "repo", n)] == ["first", "/lgtm"]
    session.edit_comment("org", "repo", created["id"], "edited")
    assert gh.comments(REPO, n)[1].body == "edited"
    assert session.delete_comment("org", "repo", created["id"]) is True
    assert session.delete_comment("org", "repo", created["id"]) is False  # already gone
    assert [c.body for c in gh.comments(REPO, n)] == ["first"]


def test_a_write_refreshes_the_events_reads_of_that_repository(gh, session):
    n = gh.add_issue(REPO)
    assert session.list_issue_comments("org", "repo", n) == []
    session.create_comment("org", "repo", n, "hello")
    assert [c["body"] for c in session.list_issue_comments("org", "repo", n)] == ["hello"]


def test_labels(gh, session):
    n = gh.add_pull(REPO, labels=["size/S"])
    gh.add_label(REPO, "lgtm")
    assert [lb["name"] for lb in session.get_issue_labels("org", "repo", n)] == ["size/S"]
    after = session.add_labels("org", "repo", n, ["lgtm", "size/S"])
    assert [lb["name"] for lb in after] == ["size/S", "lgtm"]
    assert gh.labels(REPO, n) == ["size/S", "lgtm"]
    assert session.remove_label("org", "repo", n, "size/S") is True
    assert session.remove_label("org", "repo", n, "size/S") is False  # 404 "Label does not exist"
    assert gh.labels(REPO, n) == ["lgtm"]
    with pytest.raises(NotFound):
        session.remove_label("org", "repo", 999, "lgtm")  # the issue is missing: a real 404


def test_label_names_with_slashes_and_spaces(gh, session):
    n = gh.add_issue(REPO, labels=["do-not-merge/hold", "help wanted"])
    assert session.remove_label("org", "repo", n, "do-not-merge/hold") is True
    assert session.remove_label("org", "repo", n, "help wanted") is True
    assert gh.labels(REPO, n) == []


def test_repo_labels(gh, session):
    gh.add_label(REPO, "bug")
    assert session.create_repo_label("org", "repo", "kind/feature", "#c7def8", "A feature") is True
    assert session.create_repo_label("org", "repo", "kind/feature") is False
    assert sorted(lb["name"] for lb in session.get_repo_labels("org", "repo")) == ["bug", "kind/feature"]
    assert gh.repo(REPO).labels["kind/feature"].color == "c7def8"
    with pytest.raises(ValidationFailed):
        session.create_repo_label("org", "repo", "bad", color="nothex")


def test_assignees_and_reviewers(gh, session):
    n = gh.add_pull(REPO, author="bob")
    issue = session.add_assignees("org", "repo", n, ["alice", "mallory"])
    assert [a["login"] for a in issue["assignees"]] == ["alice"]  # GitHub skips who cannot be assigned
    assert gh.assignees(REPO, n) == ["alice"]
    session.remove_assignees("org", "repo", n, ["alice"])
    assert gh.assignees(REPO, n) == []
    pr = session.request_reviewers("org", "repo", n, ["alice", "carol"])
    assert [u["login"] for u in pr["requested_reviewers"]] == ["alice", "carol"]
    session.unrequest_reviewers("org", "repo", n, ["carol"])
    assert gh.requested_reviewers(REPO, n) == ["alice"]
    with pytest.raises(ValidationFailed):
        session.request_reviewers("org", "repo", n, ["mallory"])


def test_membership_collaborators_and_permissions(gh, session):
    gh.add_team("org", "reviewers", members=["carol", "dave"])
    assert session.is_member("org", "carol") is True
    assert session.is_member("org", "alice") is False
    assert session.is_member("org", "ORG") is True  # the org itself, as Prow (personal repos)
    assert session.is_collaborator("org", "repo", "alice") is True
    assert session.is_collaborator("org", "repo", "mallory") is False
    assert session.get_permission("org", "repo", "alice") == "write"
    assert session.get_permission("org", "repo", "mallory") == "read"
    assert [m["login"] for m in session.list_team_members("org", "reviewers")] == ["carol", "dave"]
    with pytest.raises(NotFound):
        session.list_team_members("org", "nope")


def test_list_teams_names_and_slugs(gh, session):
    gh.add_team("org", "sig-testing", name="SIG Testing")
    gh.add_team("org", "reviewers")
    assert sorted((t["name"], t["slug"]) for t in session.list_teams("org")) == [
        ("SIG Testing", "sig-testing"), ("reviewers", "reviewers")]


def test_team_has_member_asks_for_one_membership(gh, session):
    gh.add_team("org", "reviewers", members=["carol", "dave"])
    assert session.team_has_member("org", "reviewers", "Carol") is True
    assert session.team_has_member("org", "reviewers", "alice") is False
    assert session.team_has_member("org", "nope", "carol") is False
    assert gh.count("GET", "/orgs/org/teams/reviewers/members") == 0


def test_membership_302_follows_to_the_public_members_url(gh, session):
    """A token that cannot see private membership gets a 302 to public_members (the fake does not model
    it: injected). The redirect is followed, as under Prow; a private member then reads as a non-member."""
    gh.fail("GET", "/orgs/org/members/carol", status=302, body={},
            headers={"Location": f"{gh.url}/orgs/org/public_members/carol"})
    assert session.is_member("org", "carol") is False
    assert [(r.path, r.status) for r in session.requests] == [
        ("/orgs/org/members/carol", 302), ("/orgs/org/public_members/carol", 404)]


def test_get_file(gh, session):
    gh.set_file(REPO, "docs/OWNERS", b"reviewers:\n- carol\n\xff")
    branch_sha = gh.set_file(REPO, "docs/OWNERS", "changed\n", ref="feature")
    assert session.get_file("org", "repo", "OWNERS") == b"approvers:\n- alice\n"
    assert session.get_file("org", "repo", "docs/OWNERS", "main") == b"reviewers:\n- carol\n\xff"
    assert session.get_file("org", "repo", "docs/OWNERS", branch_sha) == b"changed\n"
    assert session.get_file("org", "repo", "docs/OWNERS", "feature") == b"changed\n"
    assert session.get_file("org", "repo", "missing/OWNERS", "main") is None
    assert session.get_file("org", "repo", "docs", "main") is None  # a directory


def test_get_ref_sha(gh, session):
    sha = gh.add_branch(REPO, "release-1.0")
    assert session.get_ref_sha("org", "repo", "main") == gh.branch_sha(REPO, "main") == sha
    gh.set_file(REPO, "x", "y", ref="release-1.0")
    assert session.get_ref_sha("org", "repo", "release-1.0") == gh.branch_sha(REPO, "release-1.0") != sha
    with pytest.raises(NotFound):
        session.get_ref_sha("org", "repo", "nope")


def test_branch_protection(gh, session):
    gh.add_branch(REPO, "release-1.0")
    gh.add_branch(REPO, "dev")
    gh.protect_branch(REPO, "release-1.0", required_contexts=["build", "test / unit"])
    gh.protect_branch(REPO, "dev")
    assert session.get_branch_protection("org", "repo", "release-1.0")["required_status_checks"]["contexts"] == [
        "build", "test / unit"]
    assert "required_status_checks" not in session.get_branch_protection("org", "repo", "dev")
    assert session.get_branch_protection("org", "repo", "main") is None      # "Branch not protected"
    with pytest.raises(NotFound):                                              # any other 404 is an error
        session.get_branch_protection("org", "repo", "nope")


def test_statuses(gh, session):
    n = gh.add_pull(REPO)
    sha = gh.pull(REPO, n).head_sha
    session.create_status("org", "repo", sha, state="pending", context="ci/unit", description="Running")
    session.create_status("org", "repo", sha, state="success", context="ci/unit", target_url="https://x/1")
    session.create_status("org", "repo", sha, state="failure", context="ci/lint")
    assert [(s.context, s.state) for s in gh.statuses(REPO, sha)] == [
        ("ci/unit", "pending"), ("ci/unit", "success"), ("ci/lint", "failure")]
    combined = session.get_combined_status("org", "repo", sha)
    assert combined["state"] == "failure"
    assert sorted((s["context"], s["state"]) for s in combined["statuses"]) == [
        ("ci/lint", "failure"), ("ci/unit", "success")]
    assert [s["state"] for s in session.list_statuses("org", "repo", sha)] == ["failure", "success", "pending"]
    with pytest.raises(ValidationFailed):
        session.create_status("org", "repo", sha, state="bogus", context="x")


def test_merge(gh, session):
    n = gh.add_pull(REPO, files=[{"filename": "a.txt", "content": "A\n"}])
    head = gh.pull(REPO, n).head_sha
    with pytest.raises(Conflict):
        session.merge_pull("org", "repo", n, sha="f" * 40)
    result = session.merge_pull("org", "repo", n, merge_method="squash", sha=head, commit_title="Squashed")
    assert result["merged"] is True
    assert gh.merged(REPO, n) and gh.pull(REPO, n).merge_method == "squash"
    assert gh.file(REPO, "a.txt") == b"A\n"
    with pytest.raises(NotMergeable):
        session.merge_pull("org", "repo", n)


def test_edit_close_reopen_and_milestones(gh, session):
    n = gh.add_issue(REPO, title="old")
    m = gh.add_milestone(REPO, "v1.0")
    gh.add_milestone(REPO, "v0.9", state="closed")
    assert [x["title"] for x in session.list_milestones("org", "repo")] == ["v1.0"]
    assert sorted(x["title"] for x in session.list_milestones("org", "repo", state="all")) == ["v0.9", "v1.0"]
    session.edit_issue("org", "repo", n, title="new", milestone=m)
    assert (gh.issue(REPO, n).title, gh.issue(REPO, n).milestone) == ("new", m)
    session.edit_issue("org", "repo", n, milestone=None)
    assert gh.issue(REPO, n).milestone is None and gh.issue(REPO, n).title == "new"
    assert session.close_issue("org", "repo", n)["state"] == "closed"
    assert gh.issue(REPO, n).state == "closed"
    session.reopen_issue("org", "repo", n)
    assert gh.issue(REPO, n).state == "open"
    with pytest.raises(ValidationFailed):
        session.edit_issue("org", "repo", n, milestone=99)


def test_an_api_prefix_as_on_github_enterprise():
    with FakeGitHub(prefix="/api/v3") as ghe:
        ghe.add_repo(REPO)
        n = ghe.add_pull(REPO, files=[f"f{i}" for i in range(150)])
        client = GitHubClient(base_url=ghe.url, token=ghe.token, cache=MemoryETagCache())
        with client.for_event("d") as s:
            assert len(s.list_pull_files("org", "repo", n)) == 150
            assert [r.path for r in s.requests] == [f"/repos/org/repo/pulls/{n}/files"] * 2


def test_tree_blobs_and_collaborators(gh, client):
    gh.set_files(REPO, {"docs/OWNERS": "reviewers:\n- carol\n", "docs/api/a.md": "a"})
    gh.add_collaborator(REPO, "bob", permission="read")
    with client.for_event("d-1") as s:
        tree = s.get_tree("org", "repo", "main", recursive=True)
        assert [(e["path"], e["type"]) for e in tree["tree"]] == [
            ("OWNERS", "blob"), ("docs", "tree"), ("docs/OWNERS", "blob"), ("docs/api", "tree"),
            ("docs/api/a.md", "blob")]
        assert [e["path"] for e in s.get_tree("org", "repo", "main")["tree"]] == ["OWNERS", "docs"]
        docs = next(e for e in tree["tree"] if e["path"] == "docs")
        assert [e["path"] for e in s.get_tree("org", "repo", docs["sha"])["tree"]] == ["OWNERS", "api"]
        blob = next(e["sha"] for e in tree["tree"] if e["path"] == "docs/OWNERS")
        assert s.get_blob("org", "repo", blob) == b"reviewers:\n- carol\n"
        assert sorted(c["login"] for c in s.list_collaborators("org", "repo")) == ["alice", "bob"]
        with pytest.raises(NotFound):
            s.get_blob("org", "repo", "0" * 40)
    with client.for_event("d-2") as s:  # a blob is content-addressed: the cached copy needs no request
        assert s.get_blob("org", "repo", blob) == b"reviewers:\n- carol\n"
        s.get_tree("org", "repo", "main", recursive=True)
        assert [(r.path, r.status) for r in s.requests] == [("/repos/org/repo/git/trees/main", 304)]


def test_reactions_on_issues_and_comments(gh, session):
    number = gh.add_issue(REPO)
    comment_id = gh.add_comment(REPO, number, "nice")
    assert session.create_issue_reaction("org", "repo", number, "heart")["content"] == "heart"
    session.create_issue_reaction("org", "repo", number, "heart")
    session.create_comment_reaction("org", "repo", comment_id, "+1")
    assert gh.reactions(REPO, issue=number) == [("ci-bot", "heart")]
    assert gh.reactions(REPO, comment=comment_id) == [("ci-bot", "+1")]
    with pytest.raises(ValidationFailed):
        session.create_comment_reaction("org", "repo", comment_id, "party")


def test_review_comments_and_label_events(gh, session):
    n = gh.add_pull(REPO, author="bob")
    gh.add_review_comment(REPO, n, "/approve", author="alice")
    assert [(c["user"]["login"], c["body"]) for c in session.list_review_comments("org", "repo", n)] == [
        ("alice", "/approve")]
    session.add_labels("org", "repo", n, ["approved"])
    session.remove_label("org", "repo", n, "approved")
    gh.update_pull(REPO, n, labels=["approved"], actor="carol")
    assert [(e["event"], e["label"]["name"], e["actor"]["login"])
            for e in session.list_issue_events("org", "repo", n)] == [
        ("labeled", "approved", "ci-bot"), ("unlabeled", "approved", "ci-bot"), ("labeled", "approved", "carol")]


def test_get_repo_and_graphql_transfer(gh, session):
    gh.add_repo("org/other")
    number = gh.add_issue(REPO, title="Misfiled")
    gh.add_comment(REPO, number, "context")
    issue_id = session.get_issue("org", "repo", number)["node_id"]
    target = session.get_repo("org", "other")
    data = session.graphql("mutation($input: TransferIssueInput!) { transferIssue(input: $input) { issue { url } } }",
                           {"input": {"issueId": issue_id, "repositoryId": target["node_id"]}}, mutation=True)
    assert data["transferIssue"]["issue"]["url"].endswith("/org/other/issues/1")
    assert [c.body for c in gh.comments("org/other", 1)] == ["context"]
    with pytest.raises(GitHubError, match="Could not resolve"):
        session.graphql("mutation { transferIssue(input: $input) { issue { url } } }",
                        {"input": {"issueId": "nope", "repositoryId": target["node_id"]}}, mutation=True)
    assert gh.count("POST", "/graphql") == 2   # a mutation is never repeated


def test_create_review_with_inline_comments(gh, session):
    n = gh.add_pull(REPO, author="bob")
    session.create_review("org", "repo", n, body="2 invalid OWNERS files",
                          comments=[{"path": "a/OWNERS", "body": "Cannot parse file.", "position": 1}])
    [review] = gh.reviews(REPO, n)
    assert (review.state, review.body) == ("COMMENTED", "2 invalid OWNERS files")
    assert [(c["path"], c["body"]) for c in session.list_review_comments("org", "repo", n)] == [
        ("a/OWNERS", "Cannot parse file.")]


def test_check_runs(gh, session):
    sha = gh.branch_sha(REPO, "main")
    gh.add_check_run(REPO, sha, "build", conclusion="failure", details_url="https://ci/1")
    gh.add_check_run(REPO, sha, "lint", status="in_progress")
    assert not session.uses_app_auth()
    assert [(r["name"], r["status"], r["conclusion"]) for r in session.list_check_runs("org", "repo", sha)] == [
        ("lint", "in_progress", None), ("build", "completed", "failure")]
    created = session.create_check_run("org", "repo", name="build", head_sha=sha, conclusion="success",
                                       output={"title": "t", "summary": "s"})
    assert created["conclusion"] == "success" and created["completed_at"]
    assert [(r.name, r.conclusion) for r in gh.check_runs(REPO, sha)][-1] == ("build", "success")
    assert len(session.list_check_runs("org", "repo", "main")) == 3


def test_get_blobs_reads_the_uncached_ones_in_one_graphql_request(gh, client):
    gh.set_files(REPO, {"a/OWNERS": "approvers: [a]\n", "b/OWNERS": "approvers: [b]\n"})
    with client.for_event("d-1") as s:
        tree = {e["path"]: e["sha"] for e in s.get_tree("org", "repo", "main", recursive=True)["tree"]}
        first = s.get_blob("org", "repo", tree["OWNERS"])
        blobs = s.get_blobs("org", "repo", [tree["OWNERS"], tree["a/OWNERS"], tree["b/OWNERS"]])
        assert blobs == {tree["OWNERS"]: first, tree["a/OWNERS"]: b"approvers: [a]\n",
                         tree["b/OWNERS"]: b"approvers: [b]\n"}
        assert [(r.method, r.path) for r in s.requests[2:]] == [("POST", "/graphql")]
        assert s.get_blob("org", "repo", tree["b/OWNERS"]) == b"approvers: [b]\n"  # remembered
        assert len(s.requests) == 3
    with client.for_event("d-2") as s:  # and cached across events
        assert s.get_blobs("org", "repo", [tree["a/OWNERS"], tree["b/OWNERS"]])[tree["a/OWNERS"]] == b"approvers: [a]\n"
        assert s.requests == []


def test_workflow_runs_list_approve_and_rerun_failed_jobs(gh, session):
    waiting = gh.add_workflow_run(REPO, "pr-1", "a" * 40, "lint", conclusion="action_required")
    failed = gh.add_workflow_run(REPO, "pr-1", "a" * 40, "test", conclusion="failure")
    gh.add_workflow_run(REPO, "pr-1", "b" * 40, "test", conclusion="failure")      # an older head commit
    pending = session.list_workflow_runs("org", "repo", branch="pr-1", head_sha="a" * 40, status="action_required")
    assert [r["id"] for r in pending] == [waiting]
    assert [r["id"] for r in session.list_workflow_runs("org", "repo", branch="pr-1", head_sha="a" * 40,
                                                         status="failure")] == [failed]
    session.approve_workflow_run("org", "repo", waiting)
    session.rerun_failed_workflow_jobs("org", "repo", failed)
    runs = {r.id: r for r in gh.workflow_runs(REPO)}
    assert runs[waiting].approved and runs[waiting].status == "queued"
    assert runs[failed].run_attempt == 2 and runs[failed].status == "queued"
    with pytest.raises(GitHubError):
        session.rerun_failed_workflow_jobs("org", "repo", failed)          # nothing failed any more
