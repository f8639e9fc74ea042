"""The fake GitHub, driven by the real PyGithub client (and plain requests) over HTTP."""
from __future__ import annotations

import base64
import hashlib
import time

import pytest
import requests
from github import Auth, Github, GithubException, GithubIntegration
from github.GithubException import BadCredentialsException, RateLimitExceededException, UnknownObjectException

from tests.fakes.github import FakeGitHub

REPO = "org/repo"


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    """The fake with one org repository, a collaborator (alice), an org member (carol) and a stranger (mallory)."""
    fake_github.add_repo(REPO, default_branch="main", files={"README.md": "hello\n"})
    fake_github.add_collaborator(REPO, "alice", permission="write")
    fake_github.add_org_member("org", "carol")
    fake_github.add_user("mallory")
    fake_github.add_token("alice-token", "alice")
    return fake_github


@pytest.fixture
def g(gh: FakeGitHub) -> Github:
    return gh.github()


def api(gh: FakeGitHub, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"token {token or gh.token}", **kwargs.pop("headers", {})}
    return requests.request(method, gh.url + path, headers=headers, timeout=5, **kwargs)


# -------------------------------------------------------------------------------------------- endpoint families


def test_users_orgs_and_teams(gh, g):
    gh.add_team("org", "reviewers", members=["carol", "dave"])

    assert g.get_user().login == "ci-bot"
    assert g.get_user("alice").login == "alice"
    org = g.get_organization("org")
    assert org.login == "org"
    assert org.has_in_members(g.get_user("carol")) is True
    assert org.has_in_members(g.get_user("alice")) is False
    assert sorted(m.login for m in org.get_members()) == ["carol", "dave"]
    team = org.get_team_by_slug("reviewers")
    assert [t.slug for t in org.get_teams()] == ["reviewers"]
    assert [m.login for m in team.get_members()] == ["carol", "dave"]
    assert team.has_in_members(g.get_user("dave")) is True
    with pytest.raises(UnknownObjectException):
        g.get_user("nobody").id
    assert api(gh, "GET", "/orgs/org/members/carol").status_code == 204
    assert api(gh, "GET", "/orgs/org/members/alice").status_code == 404


def test_repository_branches_and_refs(gh, g):
    feature_sha = gh.set_file(REPO, "x.txt", "x", ref="feature/x")
    repo = g.get_repo(REPO)

    assert repo.default_branch == "main"
    assert repo.full_name == REPO
    assert repo.get_branch("main").commit.sha == gh.branch_sha(REPO, "main")
    assert repo.get_branch("feature/x").commit.sha == feature_sha
    assert repo.get_git_ref("heads/main").object.sha == gh.branch_sha(REPO, "main")
    assert api(gh, "GET", "/repos/org/repo/git/refs/heads/main").json()["object"]["sha"] == gh.branch_sha(REPO, "main")
    assert [r["ref"] for r in api(gh, "GET", "/repos/org/repo/git/refs/heads/feat").json()] == ["refs/heads/feature/x"]
    with pytest.raises(GithubException) as e:
        repo.get_branch("nope")
    assert e.value.status == 404


def test_collaborators_and_permissions(gh, g):
    gh.add_collaborator(REPO, "max", permission="maintain")
    repo = g.get_repo(REPO)

    assert repo.has_in_collaborators("alice") is True
    assert repo.has_in_collaborators("mallory") is False
    assert repo.get_collaborator_permission("alice") == "write"
    assert repo.get_collaborator_role_name("max") == "maintain"
    assert repo.get_collaborator_permission("max") == "write"
    assert repo.get_collaborator_permission("mallory") == "read"  # public repository
    assert sorted(c.login for c in repo.get_collaborators()) == ["alice", "max"]
    assert api(gh, "GET", "/repos/org/repo/collaborators/alice").status_code == 204
    assert api(gh, "GET", "/repos/org/repo/collaborators/mallory").status_code == 404


def test_contents_files_directories_and_refs(gh, g):
    first = gh.set_file(REPO, "OWNERS", "approvers:\n- alice\n")
    gh.set_files(REPO, {"pkg/a/OWNERS": "approvers:\n- carol\n", "pkg/b.go": b"package b\n"})
    second = gh.set_file(REPO, "OWNERS", "approvers:\n- bob\n")
    repo = g.get_repo(REPO)

    owners = repo.get_contents("OWNERS", ref="main")
    assert owners.decoded_content == b"approvers:\n- bob\n"
    assert owners.sha == hashlib.sha1(b"blob 17\0approvers:\n- bob\n").hexdigest()  # git's blob sha
    assert repo.get_contents("OWNERS", ref=first).decoded_content == b"approvers:\n- alice\n"
    assert sorted((c.name, c.type) for c in repo.get_contents("pkg")) == [("a", "dir"), ("b.go", "file")]
    assert {c.path for c in repo.get_contents("")} == {"OWNERS", "README.md", "pkg"}
    with pytest.raises(UnknownObjectException):
        repo.get_contents("MISSING")
    assert gh.file(REPO, "pkg/b.go") == b"package b\n"
    assert gh.branch_sha(REPO, "main") == second


def test_commits_and_statuses(gh, g):
    sha = gh.add_commit(REPO, files={"new.txt": "new\n"}, branch="main", author="alice", message="add new")
    repo = g.get_repo(REPO)

    commit = repo.get_commit(sha)
    assert commit.commit.message == "add new"
    assert commit.author.login == "alice"
    assert [(f.filename, f.status) for f in commit.files] == [("new.txt", "added")]

    repo.get_commit(sha).create_status("pending", "https://ci/1", "running", "ci/unit")
    repo.get_commit(sha).create_status("success", "https://ci/1", "passed", "ci/unit")
    repo.get_commit(sha).create_status("failure", "https://ci/2", "failed", "ci/lint")

    combined = repo.get_commit(sha).get_combined_status()
    assert combined.state == "failure"
    assert sorted((s.context, s.state) for s in combined.statuses) == [("ci/lint", "failure"), ("ci/unit", "success")]
    assert [s.state for s in repo.get_commit(sha).get_statuses()] == ["failure", "success", "pending"]  # newest first
    assert [(s.context, s.state, s.creator) for s in gh.statuses(REPO, sha)] == [
        ("ci/unit", "pending", "ci-bot"), ("ci/unit", "success", "ci-bot"), ("ci/lint", "failure", "ci-bot")]
    assert gh.combined_status(REPO, "main") == "failure"
    with pytest.raises(GithubException) as e:
        repo.get_commit(sha).create_status("bogus", context="x")
    assert e.value.status == 422
    unknown = api(gh, "POST", "/repos/org/repo/statuses/" + "0" * 40, json={"state": "success", "context": "x"})
    assert unknown.status_code == 422


def test_issues_and_comments(gh, g):
    n = gh.add_issue(REPO, title="Broken", body="It broke", author="mallory")
    existing = gh.add_comment(REPO, n, "me too", author="carol")
    issue = g.get_repo(REPO).get_issue(n)

    assert (issue.title, issue.user.login, issue.pull_request) == ("Broken", "mallory", None)
    created = issue.create_comment("/assign")
    assert created.user.login == "ci-bot"
    assert [(c.user.login, c.body) for c in issue.get_comments()] == [("carol", "me too"), ("ci-bot", "/assign")]
    assert [c.author_association for c in issue.get_comments()] == ["MEMBER", "NONE"]
    created.edit("/assign @alice")
    g.get_repo(REPO).get_issue(n).get_comment(existing).delete()
    issue.edit(title="Broken build", state="closed")

    assert [c.body for c in gh.comments(REPO, n)] == ["/assign @alice"]
    record = gh.issue(REPO, n)
    assert (record.title, record.state, record.closed_by, record.state_reason) == (
        "Broken build", "closed", "ci-bot", "completed")
    with pytest.raises(GithubException) as e:
        issue.create_comment("x" * 65537)
    assert e.value.status == 422


def test_labels(gh, g):
    gh.add_label(REPO, "lgtm", color="15dd18")
    n = gh.add_pull(REPO, author="mallory", labels=["needs-ok-to-test"])
    issue = g.get_repo(REPO).get_issue(n)

    issue.add_to_labels("lgtm", "approved")
    assert gh.labels(REPO, n) == ["needs-ok-to-test", "lgtm", "approved"]
    assert "approved" in gh.repo_labels(REPO)  # created on the fly, as GitHub does
    issue.remove_from_labels("needs-ok-to-test")
    with pytest.raises(GithubException) as e:
        issue.remove_from_labels("not-there")
    assert e.value.status == 404 and not isinstance(e.value, UnknownObjectException)
    issue.set_labels("do-not-merge/hold")
    assert gh.labels(REPO, n) == ["do-not-merge/hold"]
    assert [label.name for label in issue.get_labels()] == ["do-not-merge/hold"]
    issue.remove_from_labels("do-not-merge/hold")  # a "/" in the name survives the URL
    assert gh.labels(REPO, n) == []

    repo = g.get_repo(REPO)
    repo.create_label("kind/bug", "ee0701", "Something is broken")
    assert repo.get_label("kind/bug").color == "ee0701"
    with pytest.raises(GithubException) as e:
        repo.create_label("LGTM", "000000")
    assert e.value.status == 422


def test_assignees(gh, g):
    n = gh.add_issue(REPO, author="mallory")
    issue = g.get_repo(REPO).get_issue(n)

    issue.add_to_assignees("alice", "carol", "mallory")  # mallory cannot be assigned: skipped silently
    assert gh.assignees(REPO, n) == ["alice", "carol"]
    issue.remove_from_assignees("alice")
    assert gh.assignees(REPO, n) == ["carol"]


def test_pull_requests_reviews_and_review_requests(gh, g):
    n = gh.add_pull(REPO, author="mallory", title="Fix", body="Fixes #1", head="fix", files=["a.go"],
                    commits=["a" * 40, "b" * 40], labels=["lgtm"], draft=True)
    gh.add_issue(REPO, title="not a PR")
    closed = gh.add_pull(REPO, author="mallory", state="closed")
    repo = g.get_repo(REPO)
    pr = repo.get_pull(n)

    assert (pr.title, pr.body, pr.user.login, pr.draft, pr.state) == ("Fix", "Fixes #1", "mallory", True, "open")
    assert (pr.head.ref, pr.head.sha, pr.base.ref) == ("fix", "b" * 40, "main")
    assert pr.base.sha == gh.branch_sha(REPO, "main")
    assert [c.sha for c in pr.get_commits()] == ["a" * 40, "b" * 40]
    assert [p.number for p in repo.get_pulls(state="open")] == [n]
    assert sorted(p.number for p in repo.get_pulls(state="all")) == [n, closed]

    pr.create_review_request(reviewers=["alice", "carol"])
    assert gh.requested_reviewers(REPO, n) == ["alice", "carol"]
    pr.delete_review_request(reviewers=["carol"])
    assert [u.login for u in pr.get_review_requests()[0]] == ["alice"]
    with pytest.raises(GithubException) as e:
        pr.create_review_request(reviewers=["mallory"])  # the author
    assert e.value.status == 422

    as_alice = gh.github(token="alice-token").get_repo(REPO).get_pull(n)
    as_alice.create_review(body="looks good", event="APPROVE")
    assert [(r.user.login, r.state, r.commit_id) for r in pr.get_reviews()] == [("alice", "APPROVED", "b" * 40)]
    assert [(r.user, r.state) for r in gh.reviews(REPO, n)] == [("alice", "APPROVED")]
    assert gh.requested_reviewers(REPO, n) == []  # a review answers the request

    gh.update_pull(REPO, n, head_sha="c" * 40, draft=False)
    assert g.get_repo(REPO).get_pull(n).head.sha == "c" * 40
    assert gh.pull(REPO, n).commits == ["a" * 40, "b" * 40, "c" * 40]


def test_merge(gh, g):
    n = gh.add_pull(REPO, author="mallory", files=[{"filename": "src/new.go", "status": "added",
                                                    "content": "package src\n"}])
    head = gh.pull(REPO, n).head_sha
    pr = g.get_repo(REPO).get_pull(n)

    with pytest.raises(GithubException) as e:
        pr.merge(merge_method="squash", sha="f" * 40)
    assert e.value.status == 409
    result = pr.merge(commit_message="msg", merge_method="squash", sha=head)
    assert result.merged is True
    assert gh.merged(REPO, n) is True
    record = gh.pull(REPO, n)
    assert (record.state, record.merge_method, record.merged_by) == ("closed", "squash", "ci-bot")
    assert gh.branch_sha(REPO, "main") == result.sha == record.merge_commit_sha
    assert gh.file(REPO, "src/new.go") == b"package src\n"
    assert g.get_repo(REPO).get_pull(n).is_merged() is True
    with pytest.raises(GithubException) as e:
        pr.merge(merge_method="squash")  # already merged
    assert e.value.status == 405

    blocked = gh.add_pull(REPO, author="mallory", mergeable=False)
    with pytest.raises(GithubException) as e:
        g.get_repo(REPO).get_pull(blocked).merge(merge_method="merge")
    assert (e.value.status, e.value.data["message"]) == (405, "Pull Request is not mergeable")


def test_milestones(gh, g):
    number = gh.add_milestone(REPO, "v1.0")
    gh.add_milestone(REPO, "v0.9", state="closed")
    n = gh.add_issue(REPO)
    repo = g.get_repo(REPO)

    assert [m.title for m in repo.get_milestones()] == ["v1.0"]
    assert [m.title for m in repo.get_milestones(state="all")] == ["v1.0", "v0.9"]
    repo.get_issue(n).edit(milestone=repo.get_milestone(number))
    assert gh.issue(REPO, n).milestone == number
    assert repo.get_issue(n).milestone.title == "v1.0"


# -------------------------------------------------------------------------------------------- HTTP behaviour


def test_pagination_yields_all_3000_files(gh):
    files = [f"dir{i % 7}/file{i}.go" for i in range(3000)]
    n = gh.add_pull(REPO, author="mallory", files=files)
    g = gh.github(per_page=100)

    listed = g.get_repo(REPO).get_pull(n).get_files()
    assert [f.filename for f in listed] == files
    assert gh.count("GET", f"/repos/org/repo/pulls/{n}/files") == 30
    assert listed.totalCount == 3000

    page = api(gh, "GET", f"/repos/org/repo/pulls/{n}/files", params={"per_page": 50, "page": 2})
    links = requests.utils.parse_header_links(page.headers["Link"])
    assert {link["rel"]: link["url"].split("?")[1] for link in links} == {
        "prev": "per_page=50&page=1", "first": "per_page=50&page=1",
        "next": "per_page=50&page=3", "last": "per_page=50&page=60"}
    assert [f["filename"] for f in page.json()] == files[50:100]
    assert all(link["url"].startswith(gh.url) for link in links)


def test_etag_conditional_requests_and_rate_limit_accounting(gh, g):
    n = gh.add_pull(REPO, author="mallory")
    first = api(gh, "GET", f"/repos/org/repo/pulls/{n}")
    remaining = int(first.headers["X-RateLimit-Remaining"])
    assert first.headers["ETag"]
    assert first.headers["X-RateLimit-Resource"] == "core"
    assert int(first.headers["X-RateLimit-Used"]) == 5000 - remaining

    again = api(gh, "GET", f"/repos/org/repo/pulls/{n}", headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert int(again.headers["X-RateLimit-Remaining"]) == remaining  # 304s are free

    third = api(gh, "GET", f"/repos/org/repo/pulls/{n}")
    assert int(third.headers["X-RateLimit-Remaining"]) == remaining - 1
    for _ in range(2):  # asking for the rate limit is free too
        assert api(gh, "GET", "/rate_limit").json()["resources"]["core"]["remaining"] == remaining - 1

    pr = g.get_repo(REPO).get_pull(n)
    assert pr.title == "A change"  # completes the lazy object: it now has an ETag
    assert pr.update() is False  # 304
    gh.update_pull(REPO, n, title="Renamed")
    assert pr.update() is True
    assert pr.title == "Renamed"
    assert g.get_rate_limit().resources.core.remaining == gh.rate_limit.remaining
    assert g.rate_limiting[0] == gh.rate_limit.remaining


def test_exhausted_rate_limit_answers_403_until_reset(gh, g):
    n = gh.add_issue(REPO)
    gh.set_rate_limit(remaining=0, reset_in=120)
    with pytest.raises(RateLimitExceededException) as e:
        g.get_repo(REPO).get_issue(n).create_comment("hi")
    assert e.value.headers["x-ratelimit-remaining"] == "0"
    assert int(e.value.headers["x-ratelimit-reset"]) >= time.time() + 100
    assert gh.comments(REPO, n) == []
    gh.set_rate_limit(remaining=10)
    assert g.get_user("alice").id


@pytest.mark.parametrize("method", ["token", "Bearer"])
def test_authentication(gh, method):
    assert requests.get(gh.url + "/user", headers={"Authorization": f"{method} alice-token"}).json()["login"] == "alice"
    missing = requests.get(gh.url + "/user")
    assert (missing.status_code, missing.json()["message"]) == (401, "Requires authentication")
    assert "X-RateLimit-Remaining" in missing.headers
    with pytest.raises(BadCredentialsException):
        gh.github(token="wrong").get_user().login


# -------------------------------------------------------------------------------------------- injected failures


def test_injected_server_errors(gh, g):
    n = gh.add_issue(REPO)
    failure = gh.fail("POST", "/repos/org/repo/issues/*/comments", status=502, times=2)
    issue = g.get_repo(REPO).get_issue(n)

    for _ in range(2):
        with pytest.raises(GithubException) as e:
            issue.create_comment("hi")
        assert e.value.status == 502
    issue.create_comment("hi")
    assert failure.hits == 2
    assert [r.status for r in gh.find("POST")] == [502, 502, 201]
    assert [c.body for c in gh.comments(REPO, n)] == ["hi"]


def test_injected_failure_after_the_write_was_applied(gh, g):
    n = gh.add_issue(REPO)
    gh.fail("POST", "*/comments", status=500, applied=True)
    with pytest.raises(GithubException) as e:
        g.get_repo(REPO).get_issue(n).create_comment("hi")
    assert e.value.status == 500
    assert [c.body for c in gh.comments(REPO, n)] == ["hi"]  # a retry would now duplicate it


def test_injected_rate_limits(gh, g):
    gh.fail_rate_limit("GET", "/users/*", reset_in=90)
    with pytest.raises(RateLimitExceededException) as e:
        g.get_user("alice").id
    assert e.value.status == 403
    assert e.value.headers["x-ratelimit-remaining"] == "0"
    assert int(e.value.headers["x-ratelimit-reset"]) >= time.time() + 80

    gh.fail_secondary_rate_limit("POST", "*", retry_after=30)
    with pytest.raises(RateLimitExceededException) as e:
        g.get_repo(REPO).get_commit(gh.branch_sha(REPO, "main")).create_status("success", context="c")
    assert e.value.headers["retry-after"] == "30"
    assert "secondary rate limit" in e.value.data["message"]
    assert gh.statuses(REPO, "main") == []


def test_injected_not_found_and_validation(gh, g):
    gh.fail_not_found("GET", "/repos/org/repo")
    with pytest.raises(UnknownObjectException):
        gh.github(lazy=False).get_repo(REPO)
    gh.fail_validation("POST", "*/labels", message="Validation Failed",
                       errors=[{"resource": "Label", "code": "invalid", "field": "name"}])
    with pytest.raises(GithubException) as e:
        g.get_repo(REPO).get_issue(gh.add_issue(REPO)).add_to_labels("x")
    assert (e.value.status, e.value.data["errors"][0]["field"]) == (422, "name")


def test_injected_timeout_and_disconnect(gh):
    g = gh.github(timeout=1)  # PyGithub takes whole seconds
    gh.fail_timeout("GET", "/users/alice", delay=5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        g.get_user("alice").id
    assert time.monotonic() - started < 2

    gh.fail_disconnect("GET", "/users/alice")
    with pytest.raises(requests.exceptions.ConnectionError):
        g.get_user("alice").id
    assert g.get_user("alice").login == "alice"  # the next request is answered
    assert [r.status for r in gh.find("GET", "/users/alice")] == [None, None, 200]


# -------------------------------------------------------------------------------------------- log, app, prefix


def test_request_log(gh, g):
    n = gh.add_pull(REPO, author="mallory")
    pr = g.get_repo(REPO).get_pull(n)
    pr.create_issue_comment("/lgtm")  # PyGithub reads the PR first
    g.get_repo(REPO).get_issue(n).add_to_labels("lgtm")

    assert gh.count() == 3
    assert gh.count("POST") == 2
    assert gh.count("POST", f"/repos/org/repo/issues/{n}/comments") == 1
    (post,) = gh.find("POST", "*/comments")
    assert (post.json, post.status, post.login) == ({"body": "/lgtm"}, 201, "ci-bot")
    assert post.headers["authorization"] == f"token {gh.token}"
    assert gh.find("POST", "*/labels")[0].json == ["lgtm"]
    gh.clear_log()
    assert gh.log == []


def test_github_app_installation_tokens(gh):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    gh.add_app(4242, slug="prow-ci", public_key=public_pem)
    gh.add_installation(777, "org")
    app_auth = Auth.AppAuth(4242, private_pem)

    integration = GithubIntegration(base_url=gh.url, auth=app_auth)
    assert integration.get_repo_installation("org", "repo").id == 777
    token = integration.get_access_token(777)
    assert token.token.startswith("ghs_") and token.expires_at.timestamp() > time.time() + 3000

    n = gh.add_issue(REPO)
    g = Github(base_url=gh.url, auth=app_auth.get_installation_auth(777), seconds_between_requests=None,
               seconds_between_writes=None, retry=None, lazy=True)
    g.get_repo(REPO).get_issue(n).create_comment("from the app")
    assert [(c.user, c.body) for c in gh.comments(REPO, n)] == [("prow-ci[bot]", "from the app")]
    assert gh.find("POST", "*/comments")[0].headers["authorization"].startswith("token ghs_")

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = Auth.AppAuth(4242, other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()).decode())
    assert api(gh, "POST", "/app/installations/777/access_tokens", token=forged.token).status_code == 401
    assert api(gh, "GET", "/repos/org/repo/installation").status_code == 401  # needs the JWT


def test_enterprise_style_prefix():
    with FakeGitHub(prefix="/api/v3") as gh:
        gh.add_repo(REPO)
        n = gh.add_pull(REPO, author="mallory", files=[f"f{i}" for i in range(45)])
        g = gh.github()
        assert len(list(g.get_repo(REPO).get_pull(n).get_files())) == 45
        assert gh.count("GET", f"/repos/org/repo/pulls/{n}/files") == 2
        assert requests.get(gh.web_url + "/repos/org/repo", headers={"Authorization": "token fake-token"}).status_code == 404


def test_content_is_base64_as_on_github(gh):
    gh.set_file(REPO, "bin/data", bytes(range(256)) * 4)
    body = api(gh, "GET", "/repos/org/repo/contents/bin/data", params={"ref": "main"}).json()
    assert body["encoding"] == "base64" and "\n" in body["content"]
    assert base64.b64decode(body["content"]) == bytes(range(256)) * 4
    assert body["size"] == 1024 and body["url"].startswith(gh.url)
