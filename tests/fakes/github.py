"""A stateful fake of the GitHub REST API (v3), served over real HTTP for the real PyGithub client.

It runs in-process on 127.0.0.1 (a free port) in a background thread. Clients are pointed at `gh.url`
exactly as at https://api.github.com; every absolute URL in a response body or `Link` header points back at
the fake, because PyGithub asserts that the host of the URLs it follows matches its base_url.

    with FakeGitHub() as gh:                      # or the `fake_github` pytest fixture (defined below)
        gh.add_repo("org/repo", default_branch="main")
        gh.add_collaborator("org/repo", "alice", permission="write")
        gh.set_file("org/repo", "OWNERS", "approvers:\\n- alice\\n")
        n = gh.add_pull("org/repo", author="bob", files=["a.go", "b.go"], labels=["lgtm"])
        g = gh.github()                           # PyGithub with test defaults (no throttling, no retry, lazy)
        g.get_repo("org/repo").get_pull(n).create_issue_comment("/approve")
        assert [c.body for c in gh.comments("org/repo", n)] == ["/approve"]
        assert gh.count("POST", "/repos/org/repo/issues/*/comments") == 1

Names: a repository is "owner/name"; users, repositories and labels are looked up case-insensitively as on
GitHub. Records returned by the read API are the live state (dataclasses below); do not mutate them, use the
builder. All methods are thread-safe.

Builder (test setup; each returns what a test needs next):
    add_user(login, *, name, email, type="User") -> User          (idempotent; other builders add users implicitly)
    add_token(token, login)                                       (more valid tokens; `FakeGitHub(token=, login=)` sets the first)
    add_org(org, *, name) -> User
    add_org_member(org, login, *, role="member"|"admin")          (admin = org owner: admin on every org repo)
    add_team(org, slug, *, name, members=(), privacy, permission) -> Team;  add_team_member(org, slug, login)
    add_repo("owner/name", *, default_branch="main", private=False, files={path: content},
             allow_merge_commit=True, allow_squash_merge=True, allow_rebase_merge=True) -> Repo
    add_branch(repo, name, *, sha=None (default branch head), protected=False) -> sha
    protect_branch(repo, branch, *, required_contexts=())          (GET .../branches/{b}/protection answers it)
    add_collaborator(repo, login, permission="write")              (admin|maintain|write|triage|read)
    add_commit(repo, *, sha=None, parents=None, files=None, message, author, branch=None) -> sha
    set_file(repo, path, content, *, ref=None) -> sha;  set_files(repo, {path: content}, *, ref=None, message) -> sha
        ref = a branch (a new commit moves it; a missing branch is created off the default branch) or an
        existing commit sha (its tree is edited in place). content: str, bytes, or None to delete.
    add_label(repo, name, *, color="ededed", description="") -> Label
    add_milestone(repo, title, *, state="open", description="", due_on=None) -> number
    add_issue(repo, number=None, *, title, body, author, labels, assignees, milestone, state) -> number
    add_pull(repo, number=None, *, author, title, body, base=default branch, head="pr-<n>", head_sha=None,
             files=[...], labels, assignees, requested_reviewers, draft=False, mergeable=True, state="open",
             commits=None) -> number
        files: filenames, or dicts {filename, status, additions, deletions, patch, previous_filename,
        content}; a `content` is written into the head commit's tree (status "removed" deletes it).
        mergeable: True, False (merge answers 405) or None (GitHub still computing).
    transfer_issue(repo, n, to_repo) -> new number              (also POST /graphql `transferIssue`)
    update_issue(repo, n, **fields) / update_pull(repo, n, **fields)
        fields: title, body, state, labels, assignees, milestone, locked; pulls also draft, mergeable, base,
        head_sha (a push: new head commit appended to the PR's commits; files= replaces the file list).
    add_comment(repo, n, body, *, author) -> comment id
    add_review(repo, n, *, author, state="APPROVED", body="", commit_id=head) -> review id
    add_review_comment(repo, n, body, *, author="reviewer", path="README.md") -> comment id (inline, on the diff)
    set_status(repo, sha, context, state, *, description="", target_url=None, creator=bot) -> status id
    add_check_run(repo, sha, name, *, status="completed", conclusion="failure", details_url, creator, output) -> id
    add_workflow_run(repo, branch, sha, name="CI", *, event="pull_request", status="completed", conclusion="failure")
        -> id (conclusion "action_required": a fork PR's run waiting for approval; approve/rerun-failed-jobs change it)
    add_app(app_id, *, slug="fake-app", public_key=PEM or None (then JWT signatures are not checked))
    add_installation(installation_id, account, *, app_id=None (the only app), repos=None (all of account's))
    set_rate_limit(*, remaining=None, limit=None, reset_in=None)   (remaining=0: every request gets 403 until reset)

Read access:
    user(login), repo(repo), issue(repo, n), pull(repo, n) -> live records (Issue serves both)
    comments(repo, n) -> [Comment];  labels(repo, n) -> [name];  repo_labels(repo) -> [name]
    assignees(repo, n), requested_reviewers(repo, n) -> [login];  reviews(repo, n) -> [Review]
    reactions(repo, *, issue=n | comment=id) -> [(login, content)]
    statuses(repo, ref) -> [Status] oldest first;  check_runs(repo, ref) -> [CheckRun] oldest first;  workflow_runs(repo) -> [WorkflowRun];  combined_status(repo, ref) -> "success"|"failure"|"pending"
    merged(repo, n) -> bool (the Issue also has merge_method, merged_by, merge_commit_sha)
    file(repo, path, *, ref=None) -> bytes | None;  branch_sha(repo, branch) -> sha;  rate_limit -> RateLimit

Injected failures (queued; each matching request consumes one, oldest first; `applied=True` runs the real
handler first, so the state changes and only the response is lost, as after a timeout on GitHub's side):
    fail(method, path, *, status=502, times=1, body=None, headers=None, applied=False) -> Failure
    fail_timeout(method, path, *, times=1, delay=5.0, applied=False)   (no answer; connection closed after delay)
    fail_disconnect(method, path, *, times=1, applied=False)           (connection closed without an answer)
    fail_rate_limit(method="*", path="*", *, times=1, reset_in=60)     (403, X-RateLimit-Remaining: 0)
    fail_secondary_rate_limit(method="*", path="*", *, times=1, retry_after=60)  (403, Retry-After)
    fail_not_found(method, path, *, times=1);  fail_validation(method, path, *, times=1, message, errors)
    clear_failures()
  `Failure.hits` counts the requests it answered.

Request log: `log` -> [LoggedRequest(method, path, query, headers (lower-case names), body, status, login,
failure)]; `find(method="*", path="*")`, `count(method="*", path="*")`, `clear_log()`. `path` excludes the
query string and any API prefix. Patterns: `method` is a verb or "*"; `path` is a glob ("*" also matches
"/") or a compiled regex (full match).

HTTP behaviour: `Authorization: token X` or `Bearer X` (401 "Requires authentication" / "Bad credentials"
otherwise); a GitHub App JWT (`Bearer`, RS256, iss = app id) is accepted only on the /app endpoints and
`.../installation`, and installation tokens only elsewhere. Every response carries X-RateLimit-Limit,
-Remaining, -Reset, -Used, -Resource (one "core" budget shared by all tokens; /rate_limit, 304s and
injected failures are free). Every 2xx GET carries an ETag (a hash of the body); a matching If-None-Match answers 304 without a
body. Lists are paginated (`page`, `per_page` default 30, max 100, `Link` rel first/prev/next/last).

Deliberately not modelled: GraphQL (but for transferIssue, blobs by oid and Tide's PR/issue search) and REST search; forks (head and base are the same repository); branch
protection beyond reading required contexts (merge only looks at state, draft, `mergeable` and the head sha); checks
API beyond listing and creating check runs; review comments beyond listing them; issue events other than labeled/unlabeled (recorded for
label changes through the API, and by update_issue/update_pull given `actor=`); timeline; write-permission checks for the caller (any valid token may
write; installation tokens are not limited to their repositories); private-membership 302 redirects;
tags; rename/transfer redirects (301); mergeability recomputation when a base branch moves.
"""
from __future__ import annotations

import base64
import fnmatch
import hashlib
import itertools
import json
import math
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import jwt
import pytest

DOCS_URL = "https://docs.github.com/rest"
PERMISSION_LEVELS = ("read", "triage", "write", "maintain", "admin")
STATUS_STATES = ("error", "failure", "pending", "success")
MAX_PULL_FILES = 3000  # GitHub's limit for GET /pulls/{n}/files
MAX_COMMENT_LENGTH = 65536


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _as_bytes(content: str | bytes) -> bytes:
    return content.encode() if isinstance(content, str) else content


# ---------------------------------------------------------------------------------------------------- records


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # User | Organization | Bot
    name: str | None = None
    email: str | None = None
    created_at: datetime = field(default_factory=_now)


@dataclass
class Team:
    org: str
    slug: str
    id: int
    name: str
    description: str = ""
    privacy: str = "closed"
    permission: str = "pull"
    members: list[str] = field(default_factory=list)


@dataclass
class Org:
    login: str
    members: dict[str, str] = field(default_factory=dict)  # lower login -> role (member | admin)
    teams: dict[str, Team] = field(default_factory=dict)  # slug -> team


@dataclass
class Commit:
    sha: str
    message: str
    author: str  # login
    parents: list[str]
    tree: dict[str, bytes]
    date: datetime = field(default_factory=_now)


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str = ""


@dataclass
class Milestone:
    id: int
    number: int
    title: str
    creator: str
    state: str = "open"
    description: str = ""
    due_on: datetime | None = None
    created_at: datetime = field(default_factory=_now)


@dataclass
class Comment:
    id: int
    issue: int
    user: str
    body: str
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)
    path: str = ""  # review comments: the file commented on


@dataclass
class Review:
    id: int
    pull: int
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    body: str
    commit_id: str
    submitted_at: datetime | None = field(default_factory=_now)


@dataclass
class Status:
    id: int
    sha: str
    context: str
    state: str
    description: str
    target_url: str | None
    creator: str
    created_at: datetime = field(default_factory=_now)


@dataclass
class CheckRun:
    id: int
    head_sha: str
    name: str
    status: str                      # queued | in_progress | completed
    conclusion: str | None           # success, failure, neutral, ... (completed only)
    creator: str
    details_url: str | None = None
    output: dict = field(default_factory=dict)
    started_at: datetime = field(default_factory=_now)
    completed_at: datetime | None = None


@dataclass
class WorkflowRun:
    """A GitHub Actions run: `conclusion` action_required = waiting for a maintainer's approval (fork PRs)."""
    id: int
    name: str
    head_branch: str
    head_sha: str
    event: str
    status: str                      # queued | in_progress | completed
    conclusion: str | None           # success, failure, action_required, ... (completed only)
    run_attempt: int = 1
    approved: bool = False


@dataclass
class PullFile:
    filename: str
    status: str = "modified"
    additions: int = 1
    deletions: int = 0
    patch: str | None = None
    previous_filename: str | None = None


@dataclass
class Issue:
    """An issue or, when `is_pull`, a pull request (on GitHub every PR is also an issue)."""
    number: int
    id: int
    title: str
    body: str | None
    user: str
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    milestone: int | None = None
    locked: bool = False
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)
    closed_at: datetime | None = None
    closed_by: str | None = None
    is_pull: bool = False
    pull_id: int = 0
    head_ref: str = ""
    head_sha: str = ""
    base_ref: str = ""
    base_sha: str = ""
    draft: bool = False
    mergeable: bool | None = True
    files: list[PullFile] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    merge_method: str | None = None
    events: list[dict] = field(default_factory=list)  # issue events: {event, label, actor, created_at}


@dataclass
class Reaction:
    id: int
    subject: str  # "issue" (an issue or PR, by number) | "comment" (an issue comment, by id)
    subject_id: int
    user: str
    content: str  # +1, -1, laugh, confused, heart, hooray, rocket, eyes
    created_at: datetime = field(default_factory=_now)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str
    private: bool = False
    allow_merge_commit: bool = True
    allow_squash_merge: bool = True
    allow_rebase_merge: bool = True
    created_at: datetime = field(default_factory=_now)
    branches: dict[str, str] = field(default_factory=dict)  # name -> sha
    protected: set[str] = field(default_factory=set)
    required_contexts: dict[str, list[str]] = field(default_factory=dict)  # protected branch -> contexts
    commits: dict[str, Commit] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # lower login -> permission
    labels: dict[str, Label] = field(default_factory=dict)  # lower name -> label
    milestones: dict[int, Milestone] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)  # id -> comment (all issues)
    reviews: list[Review] = field(default_factory=list)
    statuses: dict[str, list[Status]] = field(default_factory=dict)  # sha -> oldest first
    check_runs: list[CheckRun] = field(default_factory=list)  # oldest first
    workflow_runs: list[WorkflowRun] = field(default_factory=list)  # oldest first
    review_comments: list[Comment] = field(default_factory=list)  # `issue` is the pull number
    reactions: list[Reaction] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: str
    public_key: str | None


@dataclass
class Installation:
    id: int
    app_id: int
    account: str
    repos: list[str] | None  # lower full names; None = all repositories of the account


@dataclass
class RateLimit:
    limit: int
    remaining: int
    reset: int  # epoch seconds
    used: int = 0


@dataclass
class Failure:
    method: str
    path: str | re.Pattern
    kind: str  # status | timeout | disconnect
    status: int = 0
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    delay: float = 0.0
    applied: bool = False
    reset_in: int | None = None  # primary rate limit: X-RateLimit-Remaining 0, reset this many seconds ahead
    hits: int = 0


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int | None = None  # None: no answer (injected timeout or disconnect)
    login: str | None = None  # the authenticated user or app
    failure: Failure | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _matches(method: str, path: str | re.Pattern, req_method: str, req_path: str) -> bool:
    if method != "*" and method.upper() != req_method:
        return False
    if isinstance(path, re.Pattern):
        return path.fullmatch(req_path) is not None
    return fnmatch.fnmatchcase(req_path, path)


# ---------------------------------------------------------------------------------------------------- HTTP plumbing


class _ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.errors, self.headers = status, message, errors, headers or {}

    def body(self) -> dict:
        out: dict[str, Any] = {"message": self.message, "documentation_url": DOCS_URL, "status": str(self.status)}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def _not_found() -> _ApiError:
    return _ApiError(404, "Not Found")


def _invalid(resource: str, field_name: str, code: str = "invalid", message: str = "Validation Failed") -> _ApiError:
    return _ApiError(422, message, [{"resource": resource, "code": code, "field": field_name}])


@dataclass
class _Response:
    status: int
    body: Any = None  # JSON-able; None = no body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    login: str | None
    is_app: bool = False

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class _Token:
    login: str
    expires_at: datetime | None = None


_ROUTES: list[tuple[str, re.Pattern, Callable]] = []


def _route(method: str, template: str):
    """Register a handler of `_RestApi` for `method` and a path template (`{name}` or `{name:regex}`)."""
    def to_regex(m: re.Match) -> str:
        name, _, pattern = m.group(1).partition(":")
        return f"(?P<{name}>{pattern or '[^/]+'})"

    regex = re.compile(re.sub(r"\{([^}]+)\}", to_regex, template))

    def register(fn):
        _ROUTES.append((method, regex, fn))
        return fn
    return register


# ---------------------------------------------------------------------------------------------------- the server


class FakeGitHub:
    """The fake GitHub: state, builder, read access, failures, request log and the HTTP server."""

    def __init__(self, *, token: str = "fake-token", login: str = "ci-bot", prefix: str = "",
                 rate_limit: int = 5000):
        self._lock = threading.RLock()
        self._ids = itertools.count(1001)
        self._sha_counter = itertools.count(1)
        self._users: dict[str, User] = {}
        self._orgs: dict[str, Org] = {}
        self._repos: dict[str, Repo] = {}
        self._apps: dict[int, App] = {}
        self._installations: dict[int, Installation] = {}
        self._tokens: dict[str, _Token] = {}
        self._failures: list[Failure] = []
        self._log: list[LoggedRequest] = []
        self.rate_limit = RateLimit(limit=rate_limit, remaining=rate_limit, reset=int(time.time()) + 3600)
        self.token, self.login, self.prefix = token, login, prefix.rstrip("/")
        self.add_token(token, login)
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-github", daemon=True)
        self._api = _RestApi(self)

    # -- lifecycle

    @property
    def web_url(self) -> str:
        """The server root (html_url links)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The API base URL to give clients (GITHUB_API_URL)."""
        return self.web_url + self.prefix

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def github(self, token: str | None = None, **kwargs):
        """A PyGithub client for this fake with test defaults: no throttling, no retries, lazy, 5 s timeout."""
        from github import Auth, Github

        options: dict[str, Any] = dict(base_url=self.url, auth=Auth.Token(token or self.token), timeout=5,
                                       seconds_between_requests=None, seconds_between_writes=None,
                                       retry=None, lazy=True)
        options.update(kwargs)
        return Github(**options)

    # -- builder

    def _new_id(self) -> int:
        return next(self._ids)

    def _new_sha(self, seed: str) -> str:
        return hashlib.sha1(f"{seed}:{next(self._sha_counter)}".encode()).hexdigest()

    def add_user(self, login: str, *, name: str | None = None, email: str | None = None,
                 type: str = "User") -> User:
        with self._lock:
            user = self._users.get(login.lower())
            if user is None:
                user = self._users[login.lower()] = User(login, self._new_id(), type, name, email)
            else:
                user.name, user.email = name or user.name, email or user.email
            return user

    def add_token(self, token: str, login: str) -> None:
        with self._lock:
            self.add_user(login, type="Bot" if login.endswith("[bot]") else "User")
            self._tokens[token] = _Token(login)

    def add_org(self, org: str, *, name: str | None = None) -> User:
        with self._lock:
            user = self.add_user(org, name=name, type="Organization")
            user.type = "Organization"
            self._orgs.setdefault(org.lower(), Org(user.login))
            return user

    def add_org_member(self, org: str, login: str, *, role: str = "member") -> None:
        assert role in ("member", "admin"), role
        with self._lock:
            self.add_org(org)
            self.add_user(login)
            self._orgs[org.lower()].members[login.lower()] = role

    def add_team(self, org: str, slug: str, *, name: str | None = None, members: tuple | list = (),
                 privacy: str = "closed", permission: str = "pull", description: str = "") -> Team:
        with self._lock:
            self.add_org(org)
            team = Team(org, slug, self._new_id(), name or slug, description, privacy, permission)
            self._orgs[org.lower()].teams[slug] = team
            for login in members:
                self.add_team_member(org, slug, login)
            return team

    def add_team_member(self, org: str, slug: str, login: str) -> None:
        with self._lock:
            team = self._orgs[org.lower()].teams[slug]
            if login.lower() not in self._orgs[org.lower()].members:
                self.add_org_member(org, login)
            if login.lower() not in (m.lower() for m in team.members):
                team.members.append(self._users[login.lower()].login)

    def add_repo(self, full_name: str, *, default_branch: str = "main", private: bool = False,
                 files: dict[str, str | bytes] | None = None, allow_merge_commit: bool = True,
                 allow_squash_merge: bool = True, allow_rebase_merge: bool = True) -> Repo:
        owner, _, name = full_name.partition("/")
        assert owner and name, full_name
        with self._lock:
            if owner.lower() not in self._users:
                self.add_org(owner)
            repo = Repo(self._users[owner.lower()].login, name, self._new_id(), default_branch, private,
                        allow_merge_commit, allow_squash_merge, allow_rebase_merge)
            self._repos[full_name.lower()] = repo
            sha = self._new_sha(full_name)
            tree = {path: _as_bytes(content) for path, content in (files or {}).items()}
            repo.commits[sha] = Commit(sha, "Initial commit", repo.owner, [], tree)
            repo.branches[default_branch] = sha
            return repo

    def add_branch(self, repo: str, name: str, *, sha: str | None = None, protected: bool = False) -> str:
        with self._lock:
            r = self.repo(repo)
            sha = sha or r.branches[r.default_branch]
            assert sha in r.commits, f"unknown commit {sha}"
            r.branches[name] = sha
            if protected:
                r.protected.add(name)
            return sha

    def add_collaborator(self, repo: str, login: str, permission: str = "write") -> None:
        assert permission in PERMISSION_LEVELS, permission
        with self._lock:
            self.add_user(login)
            self.repo(repo).collaborators[login.lower()] = permission

    def add_commit(self, repo: str, *, sha: str | None = None, parents: list[str] | None = None,
                   files: dict[str, str | bytes | None] | None = None, message: str = "commit",
                   author: str | None = None, branch: str | None = None) -> str:
        """A commit whose tree is its first parent's (default: the branch head) with `files` applied."""
        with self._lock:
            r = self.repo(repo)
            if parents is None:
                parents = [r.branches.get(branch or r.default_branch, r.branches[r.default_branch])]
            tree = dict(r.commits[parents[0]].tree) if parents and parents[0] in r.commits else {}
            for path, content in (files or {}).items():
                if content is None:
                    tree.pop(path.strip("/"), None)
                else:
                    tree[path.strip("/")] = _as_bytes(content)
            sha = sha or self._new_sha(f"{repo}:{message}")
            r.commits[sha] = Commit(sha, message, self.add_user(author or r.owner).login, list(parents), tree)
            if branch:
                r.branches[branch] = sha
            return sha

    def set_file(self, repo: str, path: str, content: str | bytes | None, *, ref: str | None = None) -> str:
        return self.set_files(repo, {path: content}, ref=ref, message=f"Update {path}")

    def set_files(self, repo: str, files: dict[str, str | bytes | None], *, ref: str | None = None,
                  message: str = "Update files") -> str:
        with self._lock:
            r = self.repo(repo)
            ref = ref or r.default_branch
            if ref in r.commits and ref not in r.branches:
                tree = r.commits[ref].tree
                for path, content in files.items():
                    if content is None:
                        tree.pop(path.strip("/"), None)
                    else:
                        tree[path.strip("/")] = _as_bytes(content)
                return ref
            if ref not in r.branches:
                r.branches[ref] = r.branches[r.default_branch]
            return self.add_commit(repo, parents=[r.branches[ref]], files=files, message=message, branch=ref)

    def add_label(self, repo: str, name: str, *, color: str = "ededed", description: str = "") -> Label:
        with self._lock:
            r = self.repo(repo)
            label = r.labels.get(name.lower())
            if label is None:
                label = r.labels[name.lower()] = Label(self._new_id(), name, color, description)
            return label

    def add_milestone(self, repo: str, title: str, *, state: str = "open", description: str = "",
                      due_on: datetime | None = None) -> int:
        with self._lock:
            r = self.repo(repo)
            number = max(r.milestones, default=0) + 1
            r.milestones[number] = Milestone(self._new_id(), number, title, r.owner, state, description, due_on)
            return number

    def _next_number(self, r: Repo) -> int:
        return max(r.issues, default=0) + 1

    def add_issue(self, repo: str, number: int | None = None, *, title: str = "An issue", body: str = "",
                  author: str = "contributor", labels: tuple | list = (), assignees: tuple | list = (),
                  milestone: int | None = None, state: str = "open") -> int:
        with self._lock:
            r = self.repo(repo)
            number = number or self._next_number(r)
            assert number not in r.issues, f"#{number} exists in {repo}"
            issue = Issue(number, self._new_id(), title, body, self.add_user(author).login)
            r.issues[number] = issue
            self._update(r, issue, labels=labels, assignees=assignees, milestone=milestone, state=state)
            return number

    def add_pull(self, repo: str, number: int | None = None, *, author: str = "contributor",
                 title: str = "A change", body: str = "", base: str | None = None, head: str | None = None,
                 head_sha: str | None = None, files: list | tuple = (), labels: tuple | list = (),
                 assignees: tuple | list = (), requested_reviewers: tuple | list = (), draft: bool = False,
                 mergeable: bool | None = True, state: str = "open", commits: list[str] | None = None) -> int:
        with self._lock:
            r = self.repo(repo)
            number = number or self._next_number(r)
            assert number not in r.issues, f"#{number} exists in {repo}"
            base = base or r.default_branch
            if base not in r.branches:
                self.add_branch(repo, base)
            issue = Issue(number, self._new_id(), title, body, self.add_user(author).login, is_pull=True,
                          pull_id=self._new_id(), head_ref=head or f"pr-{number}", base_ref=base,
                          base_sha=r.branches[base], draft=draft, mergeable=mergeable)
            r.issues[number] = issue
            self._push(r, issue, head_sha, files, commits)
            self._update(r, issue, labels=labels, assignees=assignees, state=state)
            issue.requested_reviewers = [self.add_user(login).login for login in requested_reviewers]
            return number

    def _push(self, r: Repo, issue: Issue, head_sha: str | None, files: list | tuple | None,
              commits: list[str] | None = None) -> None:
        """Record the PR's files and, on creation or with a new head sha, move its head to a new commit.

        File specs with `content` are written into the head commit's tree.
        """
        if files is not None:
            issue.files = [_pull_file(spec) for spec in files]
        tree_changes = {spec["filename"]: None if spec.get("status") == "removed" else spec["content"]
                        for spec in files or () if isinstance(spec, dict) and "content" in spec}
        head_sha = head_sha or (commits[-1] if commits else None)
        if issue.head_sha and head_sha is None:
            if tree_changes:
                self.set_files(r.full_name, tree_changes, ref=issue.head_sha)
            return
        parent = issue.head_sha or issue.base_sha
        for sha in (commits or [])[:-1]:
            if sha not in r.commits:
                self.add_commit(r.full_name, sha=sha, parents=[parent], author=issue.user)
            issue.commits.append(sha)
            parent = sha
        if head_sha not in r.commits:
            head_sha = self.add_commit(r.full_name, sha=head_sha, parents=[parent], files=tree_changes,
                                       author=issue.user, message=issue.title)
        elif tree_changes:
            self.set_files(r.full_name, tree_changes, ref=head_sha)
        issue.head_sha = head_sha
        issue.commits.append(head_sha)
        r.branches[issue.head_ref] = head_sha

    def update_issue(self, repo: str, number: int, **fields) -> None:
        """Change title, body, state, labels, assignees, milestone or locked (of an issue or a PR)."""
        with self._lock:
            issue = self.issue(repo, number)
            for name in ("title", "body", "locked"):
                if name in fields:
                    setattr(issue, name, fields.pop(name))
            self._update(self.repo(repo), issue, **fields)

    def update_pull(self, repo: str, number: int, **fields) -> None:
        """update_issue's fields, plus draft, mergeable, base, and head_sha (a push) or files."""
        with self._lock:
            pull = self.pull(repo, number)
            if "head_sha" in fields or "files" in fields:
                self._push(self.repo(repo), pull, fields.pop("head_sha", None), fields.pop("files", None))
            for name in ("draft", "mergeable"):
                if name in fields:
                    setattr(pull, name, fields.pop(name))
            if "base" in fields:
                pull.base_ref = fields.pop("base")
            self.update_issue(repo, number, **fields)

    def _update(self, r: Repo, issue: Issue, *, labels=None, assignees=None, milestone: Any = ...,
                state: str | None = None, actor: str | None = None) -> None:
        if labels is not None:
            before = list(issue.labels)
            issue.labels = []
            for name in labels:
                label = self.add_label(r.full_name, name)
                if label.name not in issue.labels:
                    issue.labels.append(label.name)
            if actor is not None:
                for kind, names in (("unlabeled", [n for n in before if n not in issue.labels]),
                                    ("labeled", [n for n in issue.labels if n not in before])):
                    issue.events.extend({"id": self._new_id(), "event": kind, "label": n, "actor": actor,
                                         "created_at": _now()} for n in names)
        if assignees is not None:
            issue.assignees = [self.add_user(login).login for login in dict.fromkeys(assignees)]
        if milestone is not ...:
            issue.milestone = milestone
        if state is not None and state != issue.state:
            issue.state = state
            if state == "closed":
                issue.closed_at, issue.closed_by = _now(), actor or issue.user
                issue.state_reason = None if issue.is_pull else "completed"
            else:
                issue.closed_at, issue.closed_by, issue.state_reason = None, None, "reopened"
        issue.updated_at = _now()

    def transfer_issue(self, repo: str, number: int, to_repo: str) -> int:
        """Move issue #number (with its comments) to `to_repo`, where it gets the next number; returns it."""
        with self._lock:
            source, target = self.repo(repo), self.repo(to_repo)
            issue = source.issues.pop(number)
            comments = [c for c in source.comments.values() if c.issue == number]
            issue.number = self._next_number(target)
            target.issues[issue.number] = issue
            for c in comments:
                del source.comments[c.id]
                c.issue = issue.number
                target.comments[c.id] = c
            for label in issue.labels:
                self.add_label(to_repo, label)
            issue.updated_at = _now()
            return issue.number

    def add_comment(self, repo: str, number: int, body: str, *, author: str = "contributor") -> int:
        with self._lock:
            r, issue = self.repo(repo), self.issue(repo, number)
            comment = Comment(self._new_id(), number, self.add_user(author).login, body)
            r.comments[comment.id] = comment
            issue.updated_at = _now()
            return comment.id

    def add_review_comment(self, repo: str, number: int, body: str, *, author: str = "reviewer",
                           path: str = "README.md") -> int:
        """An inline review comment on a pull request's diff."""
        with self._lock:
            r = self.repo(repo)
            self.pull(repo, number)
            comment = Comment(self._new_id(), number, self.add_user(author).login, body, path=path)
            r.review_comments.append(comment)
            return comment.id

    def add_review(self, repo: str, number: int, *, author: str, state: str = "APPROVED", body: str = "",
                   commit_id: str | None = None) -> int:
        with self._lock:
            r, pull = self.repo(repo), self.pull(repo, number)
            review = Review(self._new_id(), number, self.add_user(author).login, state, body,
                            commit_id or pull.head_sha, None if state == "PENDING" else _now())
            r.reviews.append(review)
            if state != "PENDING":
                pull.requested_reviewers = [u for u in pull.requested_reviewers if u.lower() != author.lower()]
            return review.id

    def set_status(self, repo: str, sha: str, context: str, state: str, *, description: str = "",
                   target_url: str | None = None, creator: str | None = None) -> int:
        assert state in STATUS_STATES, state
        with self._lock:
            r = self.repo(repo)
            status = Status(self._new_id(), sha, context, state, description, target_url,
                            self.add_user(creator or self.login).login)
            r.statuses.setdefault(sha, []).append(status)
            return status.id

    def protect_branch(self, repo: str, branch: str, *, required_contexts: list[str] | tuple[str, ...] = ()) -> None:
        """Protect a branch; `required_contexts` are its required status checks."""
        with self._lock:
            r = self.repo(repo)
            assert branch in r.branches, f"unknown branch {branch}"
            r.protected.add(branch)
            r.required_contexts[branch] = list(required_contexts)

    def add_app(self, app_id: int, *, slug: str = "fake-app", public_key: str | bytes | None = None,
                name: str | None = None, owner: str | None = None) -> App:
        with self._lock:
            owner_user = self.add_user(owner or self.login)
            key = public_key.decode() if isinstance(public_key, bytes) else public_key
            app = self._apps[int(app_id)] = App(int(app_id), slug, name or slug, owner_user.login, key)
            self.add_user(f"{slug}[bot]", type="Bot")
            return app

    def add_installation(self, installation_id: int, account: str, *, app_id: int | None = None,
                         repos: list[str] | None = None) -> Installation:
        with self._lock:
            if app_id is None:
                assert len(self._apps) == 1, "add_app first, or pass app_id"
                app_id = next(iter(self._apps))
            if account.lower() not in self._users:
                self.add_org(account)
            inst = Installation(installation_id, app_id, self._users[account.lower()].login,
                                [name.lower() for name in repos] if repos is not None else None)
            self._installations[installation_id] = inst
            return inst

    def set_rate_limit(self, *, remaining: int | None = None, limit: int | None = None,
                       reset_in: int | None = None) -> None:
        with self._lock:
            if limit is not None:
                self.rate_limit.limit = limit
            if remaining is not None:
                self.rate_limit.remaining = remaining
                self.rate_limit.used = self.rate_limit.limit - remaining
            if reset_in is not None:
                self.rate_limit.reset = int(time.time()) + reset_in

    # -- read access

    def user(self, login: str) -> User | None:
        return self._users.get(login.lower())

    def repo(self, full_name: str) -> Repo:
        try:
            return self._repos[full_name.lower()]
        except KeyError:
            raise KeyError(f"no repository {full_name!r}; add_repo first") from None

    def issue(self, repo: str, number: int) -> Issue:
        issue = self.repo(repo).issues.get(number)
        if issue is None:
            raise KeyError(f"no issue or pull request #{number} in {repo}")
        return issue

    def pull(self, repo: str, number: int) -> Issue:
        issue = self.issue(repo, number)
        assert issue.is_pull, f"#{number} in {repo} is an issue, not a pull request"
        return issue

    def comments(self, repo: str, number: int) -> list[Comment]:
        with self._lock:
            return [c for c in self.repo(repo).comments.values() if c.issue == number]

    def labels(self, repo: str, number: int) -> list[str]:
        return list(self.issue(repo, number).labels)

    def repo_labels(self, repo: str) -> list[str]:
        return [label.name for label in self.repo(repo).labels.values()]

    def assignees(self, repo: str, number: int) -> list[str]:
        return list(self.issue(repo, number).assignees)

    def requested_reviewers(self, repo: str, number: int) -> list[str]:
        return list(self.pull(repo, number).requested_reviewers)

    def reactions(self, repo: str, *, issue: int | None = None, comment: int | None = None) -> list[tuple[str, str]]:
        """(login, content) of the reactions on issue/PR `issue` or on issue comment `comment`, oldest first."""
        subject, subject_id = ("issue", issue) if issue is not None else ("comment", comment)
        return [(x.user, x.content) for x in self.repo(repo).reactions
                if x.subject == subject and x.subject_id == subject_id]

    def reviews(self, repo: str, number: int) -> list[Review]:
        with self._lock:
            return [rv for rv in self.repo(repo).reviews if rv.pull == number]

    def statuses(self, repo: str, ref: str) -> list[Status]:
        with self._lock:
            r = self.repo(repo)
            return list(r.statuses.get(_resolve(r, ref) or ref, []))

    def check_runs(self, repo: str, ref: str) -> list[CheckRun]:
        with self._lock:
            r = self.repo(repo)
            sha = _resolve(r, ref) or ref
            return [run for run in r.check_runs if run.head_sha == sha]

    def add_check_run(self, repo: str, sha: str, name: str, *, status: str = "completed",
                      conclusion: str | None = "failure", details_url: str | None = None,
                      creator: str | None = None, output: dict | None = None) -> int:
        with self._lock:
            r = self.repo(repo)
            run = CheckRun(self._new_id(), sha, name, status, conclusion if status == "completed" else None,
                           self.add_user(creator or self.login).login, details_url, dict(output or {}))
            if status == "completed":
                run.completed_at = _now()
            r.check_runs.append(run)
            return run.id

    def add_workflow_run(self, repo: str, branch: str, sha: str, name: str = "CI", *, event: str = "pull_request",
                         status: str = "completed", conclusion: str | None = "failure") -> int:
        """A workflow run of a head branch (conclusion action_required: waits for approval)."""
        with self._lock:
            run = WorkflowRun(self._new_id(), name, branch, sha, event, status,
                              conclusion if status == "completed" else None)
            self.repo(repo).workflow_runs.append(run)
            return run.id

    def workflow_runs(self, repo: str) -> list[WorkflowRun]:
        with self._lock:
            return list(self.repo(repo).workflow_runs)

    def combined_status(self, repo: str, ref: str) -> str:
        return _combined_state(_latest_statuses(self.statuses(repo, ref)))

    def merged(self, repo: str, number: int) -> bool:
        return self.pull(repo, number).merged

    def file(self, repo: str, path: str, *, ref: str | None = None) -> bytes | None:
        with self._lock:
            r = self.repo(repo)
            sha = _resolve(r, ref or r.default_branch)
            return r.commits[sha].tree.get(path.strip("/")) if sha else None

    def branch_sha(self, repo: str, branch: str) -> str:
        return self.repo(repo).branches[branch]

    # -- failures

    def _queue(self, failure: Failure) -> Failure:
        with self._lock:
            self._failures.append(failure)
        return failure

    def fail(self, method: str, path: str | re.Pattern, *, status: int = 502, times: int = 1,
             body: Any = None, headers: dict[str, str] | None = None, applied: bool = False) -> Failure:
        if body is None:
            body = {"message": "Server Error"} if status >= 500 else _ApiError(status, "Error").body()
        return self._queue(Failure(method, path, "status", status, body, dict(headers or {}), times,
                                   applied=applied))

    def fail_timeout(self, method: str, path: str | re.Pattern, *, times: int = 1, delay: float = 5.0,
                     applied: bool = False) -> Failure:
        return self._queue(Failure(method, path, "timeout", times=times, delay=delay, applied=applied))

    def fail_disconnect(self, method: str, path: str | re.Pattern, *, times: int = 1,
                        applied: bool = False) -> Failure:
        return self._queue(Failure(method, path, "disconnect", times=times, applied=applied))

    def fail_rate_limit(self, method: str = "*", path: str | re.Pattern = "*", *, times: int = 1,
                        reset_in: int = 60) -> Failure:
        """GitHub's primary rate limit answer (the state's budget is unchanged; see set_rate_limit)."""
        body = {"message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for "
                           "help, please include the request ID.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}
        return self._queue(Failure(method, path, "status", 403, body, {}, times, reset_in=reset_in))

    def fail_secondary_rate_limit(self, method: str = "*", path: str | re.Pattern = "*", *, times: int = 1,
                                  retry_after: int = 60) -> Failure:
        body = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                           "try again. If you reach out to GitHub Support for help, please include the "
                           "request ID.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                                     "#about-secondary-rate-limits"}
        return self._queue(Failure(method, path, "status", 403, body, {"Retry-After": str(retry_after)}, times))

    def fail_not_found(self, method: str, path: str | re.Pattern, *, times: int = 1) -> Failure:
        return self._queue(Failure(method, path, "status", 404, _not_found().body(), {}, times))

    def fail_validation(self, method: str, path: str | re.Pattern, *, times: int = 1,
                        message: str = "Validation Failed", errors: list | None = None) -> Failure:
        errors = errors if errors is not None else [{"resource": "Issue", "code": "custom", "field": "body",
                                                     "message": "injected validation failure"}]
        return self._queue(Failure(method, path, "status", 422, _ApiError(422, message, errors).body(), {},
                                   times))

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    # -- request log

    @property
    def log(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def find(self, method: str = "*", path: str | re.Pattern = "*") -> list[LoggedRequest]:
        return [req for req in self.log if _matches(method, path, req.method, req.path)]

    def count(self, method: str = "*", path: str | re.Pattern = "*") -> int:
        return len(self.find(method, path))

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- request processing (called by the HTTP handler thread)

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self._failures:
            if failure.hits < failure.times and _matches(failure.method, failure.path, method, path):
                failure.hits += 1
                return failure
        return None

    def _authenticate(self, headers: dict[str, str], path: str) -> tuple[str, bool]:
        """The login behind the Authorization header, and whether it is an app (JWT)."""
        scheme, _, credential = headers.get("authorization", "").strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() not in ("token", "bearer") or not credential:
            raise _ApiError(401, "Requires authentication")
        app_endpoint = path == "/app" or path.startswith("/app/") or path.endswith("/installation")
        token = self._tokens.get(credential)
        if token is not None:
            if token.expires_at is not None and token.expires_at < datetime.now(timezone.utc):
                raise _ApiError(401, "Bad credentials")
            if app_endpoint:
                raise _ApiError(401, "A JSON web token could not be decoded")
            return token.login, False
        if credential.count(".") == 2:
            app = self._verify_jwt(credential)
            if not app_endpoint:
                raise _ApiError(403, "Resource not accessible by integration")
            return app.slug, True
        raise _ApiError(401, "Bad credentials")

    def _verify_jwt(self, credential: str) -> App:
        try:
            claims = jwt.decode(credential, options={"verify_signature": False})
            app = self._apps.get(int(claims.get("iss", 0)))
            if app is None:
                raise _ApiError(401, "Integration not found")
            if app.public_key:
                jwt.decode(credential, app.public_key, algorithms=["RS256"],
                           options={"require": ["iat", "exp", "iss"]}, leeway=60)
            return app
        except (jwt.PyJWTError, ValueError) as e:
            raise _ApiError(401, f"A JSON web token could not be decoded ({e})") from None

    def _dispatch(self, method: str, target: str, headers: dict[str, str], raw_body: bytes) -> _Outcome:
        parts = urlsplit(target)
        path = parts.path  # routed still percent-encoded, so that an encoded "/" stays inside its segment
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            entry = LoggedRequest(method, unquote(path), query, headers, raw_body)
            self._log.append(entry)
            if self.prefix:
                if not (path == self.prefix or path.startswith(self.prefix + "/")):
                    return self._finish(entry, method, _not_found(), headers, spend=False)
                path = path[len(self.prefix):] or "/"
                entry.path = unquote(path)
            failure = entry.failure = self._take_failure(method, entry.path)
            if failure is not None and not failure.applied:
                return self._fail(entry, failure)
            outcome = self._answer(entry, method, path, query, headers, raw_body)
            return self._fail(entry, failure) if failure is not None else outcome

    def _answer(self, entry: LoggedRequest, method: str, path: str, query: dict, headers: dict,
                raw_body: bytes) -> _Outcome:
        spend = path != "/rate_limit"  # as on GitHub, asking for the rate limit is free
        try:
            login, is_app = self._authenticate(headers, path)
            entry.login = login
            if spend and self._rate_limit_exhausted():
                spend = False
                user = self._users.get(login.lower())
                raise _ApiError(403, f"API rate limit exceeded for user ID {user.id if user else 0}.")
            try:
                body = json.loads(raw_body) if raw_body.strip() else None
            except ValueError:
                raise _ApiError(400, "Problems parsing JSON") from None
            response = self._api.handle(_Call(method, path, query, body, login, is_app))
        except _ApiError as e:
            response = e
        return self._finish(entry, method, response, headers, spend=spend)

    def _rate_limit_exhausted(self) -> bool:
        now = int(time.time())
        if now >= self.rate_limit.reset:
            self.rate_limit.remaining, self.rate_limit.used = self.rate_limit.limit, 0
            self.rate_limit.reset = now + 3600
        return self.rate_limit.remaining <= 0

    def _rate_headers(self) -> dict[str, str]:
        rl = self.rate_limit
        return {"X-RateLimit-Limit": str(rl.limit), "X-RateLimit-Remaining": str(rl.remaining),
                "X-RateLimit-Reset": str(rl.reset), "X-RateLimit-Used": str(rl.used),
                "X-RateLimit-Resource": "core"}

    def _finish(self, entry: LoggedRequest, method: str, response: _Response | _ApiError,
                request_headers: dict[str, str], *, spend: bool) -> _Outcome:
        if isinstance(response, _ApiError):
            response = _Response(response.status, response.body(), response.headers)
        status = response.status
        data = b"" if response.body is None else json.dumps(response.body).encode()
        extra = {}
        if method == "GET" and 200 <= status < 300:
            etag = '"' + hashlib.sha256(data).hexdigest()[:40] + '"'
            extra = {"ETag": etag, "Cache-Control": "private, max-age=60, s-maxage=60",
                     "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP"}
            if _etag_matches(request_headers.get("if-none-match"), etag):
                status, data, spend = 304, b"", False  # a 304 does not count against the rate limit
        if spend:
            self.rate_limit.remaining = max(self.rate_limit.remaining - 1, 0)
            self.rate_limit.used += 1
        out_headers = {"Content-Type": "application/json; charset=utf-8", **self._rate_headers(),
                       "X-GitHub-Media-Type": "github.v3; format=json",
                       "X-GitHub-Request-Id": f"FAKE:{len(self._log):08X}", **extra, **response.headers}
        if status in (204, 304):
            del out_headers["Content-Type"]
        entry.status = status
        return _Outcome(status, out_headers, data)

    def _fail(self, entry: LoggedRequest, failure: Failure) -> _Outcome:
        if failure.kind in ("timeout", "disconnect"):
            entry.status = None
            return _Outcome(0, {}, b"", drop_after=failure.delay if failure.kind == "timeout" else 0.0)
        out_headers = {"Content-Type": "application/json; charset=utf-8", **self._rate_headers()}
        if failure.reset_in is not None:
            out_headers["X-RateLimit-Remaining"] = "0"
            out_headers["X-RateLimit-Reset"] = str(int(time.time()) + failure.reset_in)
        out_headers.update(failure.headers)
        entry.status = failure.status
        return _Outcome(failure.status, out_headers, json.dumps(failure.body).encode())


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


@dataclass
class _Outcome:
    status: int
    headers: dict[str, str]
    body: bytes
    drop_after: float | None = None  # close the connection without an answer after this many seconds


def _handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as PyGithub's requests session expects
        wbufsize = -1  # write headers and body in one segment (avoids ~40 ms delayed-ACK stalls)

        def setup(self):
            super().setup()
            # Bodies larger than the write buffer go out in several segments; without this the last one
            # waits for the client's delayed ACK (~40 ms per paginated page).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args):
            pass

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            outcome = fake._dispatch(self.command, self.path, headers, body)
            if outcome.drop_after is not None:
                if outcome.drop_after:
                    fake._stopping.wait(outcome.drop_after)
                self.close_connection = True
                return
            self.send_response(outcome.status)
            for name, value in outcome.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(outcome.body)))
            self.end_headers()
            if outcome.body:
                self.wfile.write(outcome.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


# ---------------------------------------------------------------------------------------------------- helpers


def _pull_file(spec: str | dict | PullFile) -> PullFile:
    if isinstance(spec, PullFile):
        return spec
    if isinstance(spec, str):
        return PullFile(spec)
    fields = {k: v for k, v in spec.items() if k != "content"}
    return PullFile(**fields)


def _resolve(r: Repo, ref: str | None) -> str | None:
    """A branch name, refs/heads/x, heads/x, a full sha or a unique sha prefix (>= 7) -> sha."""
    if not ref:
        return None
    for prefix in ("refs/heads/", "heads/"):
        if ref.startswith(prefix) and ref[len(prefix):] in r.branches:
            return r.branches[ref[len(prefix):]]
    if ref in r.branches:
        return r.branches[ref]
    if ref in r.commits:
        return ref
    if len(ref) >= 7:
        found = [sha for sha in r.commits if sha.startswith(ref)]
        if len(found) == 1:
            return found[0]
    return None


def _latest_statuses(statuses: list[Status]) -> list[Status]:
    latest: dict[str, Status] = {}
    for status in statuses:
        latest[status.context] = status
    return list(latest.values())


def _combined_state(latest: list[Status]) -> str:
    states = {s.state for s in latest}
    if states & {"error", "failure"}:
        return "failure"
    if not states or "pending" in states:
        return "pending"
    return "success"


def _tree_sha(tree: dict[str, bytes]) -> str:
    digest = hashlib.sha1()
    for path in sorted(tree):
        digest.update(path.encode() + b"\0" + _blob_sha(tree[path]).encode())
    return digest.hexdigest()


def _subtree(tree: dict[str, bytes], directory: str) -> dict[str, bytes]:
    prefix = directory + "/"
    return {p[len(prefix):]: data for p, data in tree.items() if p.startswith(prefix)}


def _node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def _labels_from(body: Any) -> list[str]:
    """Label names from a labels request body: ["a"], {"labels": ["a"]} or [{"name": "a"}]."""
    items = body.get("labels") if isinstance(body, dict) else body
    if items is None or isinstance(items, (str, bytes)) or not isinstance(items, list):
        raise _invalid("Label", "labels")
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise _invalid("Label", "name", "missing_field")
        names.append(name)
    return names


# ---------------------------------------------------------------------------------------------------- REST API


class _RestApi:
    """Route handlers and GitHub-shaped renderings of the fake's state."""

    def __init__(self, fake: FakeGitHub):
        self.gh = fake

    @property
    def api(self) -> str:
        return self.gh.url

    @property
    def web(self) -> str:
        return self.gh.web_url

    def handle(self, call: _Call) -> _Response:
        for method, regex, fn in _ROUTES:
            if method != call.method:
                continue
            m = regex.fullmatch(call.path)
            if m:
                return fn(self, call, **{k: unquote(v) for k, v in m.groupdict().items()})
        raise _not_found()

    # -- lookups

    def _repo(self, owner: str, name: str) -> Repo:
        r = self.gh._repos.get(f"{owner}/{name}".lower())
        if r is None:
            raise _not_found()
        return r

    def _user(self, login: str) -> User:
        user = self.gh._users.get(login.lower())
        if user is None:
            raise _not_found()
        return user

    def _org(self, login: str) -> Org:
        org = self.gh._orgs.get(login.lower())
        if org is None:
            raise _not_found()
        return org

    def _issue(self, r: Repo, number: str) -> Issue:
        issue = r.issues.get(int(number))
        if issue is None:
            raise _not_found()
        return issue

    def _pull(self, r: Repo, number: str) -> Issue:
        issue = self._issue(r, number)
        if not issue.is_pull:
            raise _not_found()
        return issue

    def _permission(self, r: Repo, login: str) -> str | None:
        """The user's role on the repository (admin|maintain|write|triage|read), None without access."""
        key = login.lower()
        if key == r.owner.lower():
            return "admin"
        org = self.gh._orgs.get(r.owner.lower())
        if org and org.members.get(key) == "admin":
            return "admin"
        return r.collaborators.get(key)

    def _assignable(self, r: Repo, login: str) -> bool:
        org = self.gh._orgs.get(r.owner.lower())
        return self._permission(r, login) is not None or bool(org and login.lower() in org.members)

    def _association(self, r: Repo, login: str) -> str:
        key = login.lower()
        if key == r.owner.lower():
            return "OWNER"
        org = self.gh._orgs.get(r.owner.lower())
        if org and key in org.members:
            return "MEMBER"
        if key in r.collaborators:
            return "COLLABORATOR"
        if any(i.merged and i.user.lower() == key for i in r.issues.values()):
            return "CONTRIBUTOR"
        return "NONE"

    # -- pagination

    def _page(self, call: _Call, items: list, render: Callable[[Any], Any]) -> _Response:
        def number(name: str, default: int) -> int:
            try:
                return int(call.arg(name, str(default)))
            except ValueError:
                return default

        per_page = min(max(number("per_page", 30), 1), 100)
        page = max(number("page", 1), 1)
        last = max(math.ceil(len(items) / per_page), 1)
        chunk = items[(page - 1) * per_page: page * per_page]

        def link(to_page: int, rel: str) -> str:
            params = {k: v for k, v in call.query.items() if k not in ("page", "per_page")}
            params = {**params, "per_page": [str(per_page)], "page": [str(to_page)]}
            return f'<{self.api}{call.path}?{urlencode(params, doseq=True)}>; rel="{rel}"'

        links = []
        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        return _Response(200, [render(item) for item in chunk], {"Link": ", ".join(links)} if links else {})

    # -- renderings

    def user_json(self, login: str | None) -> dict | None:
        if login is None:
            return None
        user = self.gh._users[login.lower()]
        return {
            "login": user.login, "id": user.id, "node_id": _node_id(user.type, user.id),
            "avatar_url": f"{self.web}/avatars/u/{user.id}", "gravatar_id": "",
            "url": f"{self.api}/users/{quote(user.login)}", "html_url": f"{self.web}/{quote(user.login)}",
            "type": user.type, "site_admin": False,
        }

    def user_full_json(self, user: User) -> dict:
        public_repos = sum(1 for r in self.gh._repos.values() if r.owner == user.login and not r.private)
        return {**self.user_json(user.login), "name": user.name, "email": user.email, "company": None,
                "blog": "", "location": None, "bio": None, "public_repos": public_repos,
                "created_at": _iso(user.created_at), "updated_at": _iso(user.created_at)}

    def org_json(self, org: Org) -> dict:
        user = self.gh._users[org.login.lower()]
        base = f"{self.api}/orgs/{quote(org.login)}"
        return {"login": org.login, "id": user.id, "node_id": _node_id("Organization", user.id), "url": base,
                "repos_url": f"{base}/repos", "members_url": f"{base}/members{{/member}}",
                "public_members_url": f"{base}/public_members{{/member}}", "avatar_url": f"{self.web}/avatars/u/{user.id}",
                "description": None, "name": user.name, "html_url": f"{self.web}/{quote(org.login)}",
                "type": "Organization", "created_at": _iso(user.created_at), "updated_at": _iso(user.created_at)}

    def team_json(self, team: Team) -> dict:
        base = f"{self.api}/orgs/{quote(team.org)}/teams/{quote(team.slug)}"
        return {"id": team.id, "node_id": _node_id("Team", team.id), "url": base,
                "html_url": f"{self.web}/orgs/{quote(team.org)}/teams/{quote(team.slug)}", "name": team.name,
                "slug": team.slug, "description": team.description, "privacy": team.privacy,
                "permission": team.permission, "members_url": f"{base}/members{{/member}}",
                "repositories_url": f"{base}/repos", "parent": None}

    def repo_json(self, r: Repo, login: str | None = None) -> dict:
        base = f"{self.api}/repos/{r.full_name}"
        out = {
            "id": r.id, "node_id": _node_id("Repository", r.id), "name": r.name, "full_name": r.full_name,
            "private": r.private, "owner": self.user_json(r.owner), "html_url": f"{self.web}/{r.full_name}",
            "description": None, "fork": False, "url": base, "default_branch": r.default_branch,
            "visibility": "private" if r.private else "public", "archived": False, "disabled": False,
            "clone_url": f"{self.web}/{r.full_name}.git", "git_url": f"{self.web}/{r.full_name}.git",
            "ssh_url": f"git@127.0.0.1:{r.full_name}.git", "branches_url": f"{base}/branches{{/branch}}",
            "issues_url": f"{base}/issues{{/number}}", "pulls_url": f"{base}/pulls{{/number}}",
            "statuses_url": f"{base}/statuses/{{sha}}", "labels_url": f"{base}/labels{{/name}}",
            "created_at": _iso(r.created_at), "updated_at": _iso(r.created_at), "pushed_at": _iso(r.created_at),
            "open_issues_count": sum(1 for i in r.issues.values() if i.state == "open"),
            "has_issues": True, "allow_merge_commit": r.allow_merge_commit,
            "allow_squash_merge": r.allow_squash_merge, "allow_rebase_merge": r.allow_rebase_merge,
            "topics": [],
        }
        if login is not None:
            role = self._permission(r, login)
            rank = PERMISSION_LEVELS.index(role) if role else (0 if not r.private else -1)
            out["permissions"] = {"admin": rank >= 4, "maintain": rank >= 3, "push": rank >= 2,
                                  "triage": rank >= 1, "pull": rank >= 0}
        return out

    def commit_json(self, r: Repo, sha: str, *, with_files: bool = False) -> dict:
        c = r.commits[sha]
        base = f"{self.api}/repos/{r.full_name}"
        user = self.gh._users.get(c.author.lower())
        person = {"name": (user.name if user else None) or c.author,
                  "email": (user.email if user else None) or f"{c.author}@users.noreply.fake",
                  "date": _iso(c.date)}
        tree_sha = _tree_sha(c.tree)
        out = {
            "sha": sha, "node_id": _node_id("Commit", sha[:12]), "url": f"{base}/commits/{sha}",
            "html_url": f"{self.web}/{r.full_name}/commit/{sha}", "comments_url": f"{base}/commits/{sha}/comments",
            "commit": {"url": f"{base}/git/commits/{sha}", "author": person, "committer": person,
                       "message": c.message, "tree": {"sha": tree_sha, "url": f"{base}/git/trees/{tree_sha}"},
                       "comment_count": 0},
            "author": self.user_json(c.author), "committer": self.user_json(c.author),
            "parents": [{"sha": p, "url": f"{base}/commits/{p}", "html_url": f"{self.web}/{r.full_name}/commit/{p}"}
                        for p in c.parents],
        }
        if with_files:
            old = r.commits[c.parents[0]].tree if c.parents and c.parents[0] in r.commits else {}
            files = []
            for path in sorted(set(old) | set(c.tree)):
                if old.get(path) == c.tree.get(path):
                    continue
                status = "added" if path not in old else "removed" if path not in c.tree else "modified"
                lines = lambda tree: len(tree.get(path, b"").splitlines())  # noqa: E731
                files.append({"sha": _blob_sha(c.tree.get(path, b"")), "filename": path, "status": status,
                              "additions": lines(c.tree), "deletions": lines(old),
                              "changes": lines(c.tree) + lines(old),
                              "blob_url": f"{self.web}/{r.full_name}/blob/{sha}/{quote(path)}",
                              "raw_url": f"{self.web}/{r.full_name}/raw/{sha}/{quote(path)}",
                              "contents_url": f"{base}/contents/{quote(path)}?ref={sha}"})
            additions = sum(f["additions"] for f in files)
            deletions = sum(f["deletions"] for f in files)
            out["stats"] = {"total": additions + deletions, "additions": additions, "deletions": deletions}
            out["files"] = files
        return out

    def label_json(self, r: Repo, name: str) -> dict:
        label = r.labels[name.lower()]
        return {"id": label.id, "node_id": _node_id("Label", label.id),
                "url": f"{self.api}/repos/{r.full_name}/labels/{quote(label.name, safe='')}",
                "name": label.name, "color": label.color, "default": False, "description": label.description}

    def milestone_json(self, r: Repo, m: Milestone) -> dict:
        base = f"{self.api}/repos/{r.full_name}/milestones/{m.number}"
        in_milestone = [i for i in r.issues.values() if i.milestone == m.number]
        return {"url": base, "html_url": f"{self.web}/{r.full_name}/milestone/{m.number}",
                "labels_url": f"{base}/labels", "id": m.id, "node_id": _node_id("Milestone", m.id),
                "number": m.number, "title": m.title, "description": m.description,
                "creator": self.user_json(m.creator),
                "open_issues": sum(1 for i in in_milestone if i.state == "open"),
                "closed_issues": sum(1 for i in in_milestone if i.state == "closed"), "state": m.state,
                "created_at": _iso(m.created_at), "updated_at": _iso(m.created_at), "due_on": _iso(m.due_on),
                "closed_at": None}

    def issue_json(self, r: Repo, issue: Issue) -> dict:
        base = f"{self.api}/repos/{r.full_name}/issues/{issue.number}"
        kind = "pull" if issue.is_pull else "issues"
        out = {
            "id": issue.id, "node_id": _node_id("Issue", issue.id), "url": base,
            "repository_url": f"{self.api}/repos/{r.full_name}", "labels_url": f"{base}/labels{{/name}}",
            "comments_url": f"{base}/comments", "events_url": f"{base}/events",
            "html_url": f"{self.web}/{r.full_name}/{kind}/{issue.number}", "number": issue.number,
            "state": issue.state, "state_reason": issue.state_reason, "title": issue.title, "body": issue.body,
            "user": self.user_json(issue.user), "labels": [self.label_json(r, n) for n in issue.labels],
            "assignee": self.user_json(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user_json(login) for login in issue.assignees],
            "milestone": self.milestone_json(r, r.milestones[issue.milestone]) if issue.milestone else None,
            "locked": issue.locked, "active_lock_reason": None,
            "comments": sum(1 for c in r.comments.values() if c.issue == issue.number),
            "closed_at": _iso(issue.closed_at), "created_at": _iso(issue.created_at),
            "updated_at": _iso(issue.updated_at), "closed_by": self.user_json(issue.closed_by),
            "author_association": self._association(r, issue.user),
        }
        if issue.is_pull:
            pull_url = f"{self.api}/repos/{r.full_name}/pulls/{issue.number}"
            out["pull_request"] = {"url": pull_url, "html_url": out["html_url"],
                                   "diff_url": f"{out['html_url']}.diff", "patch_url": f"{out['html_url']}.patch",
                                   "merged_at": _iso(issue.merged_at)}
            out["draft"] = issue.draft
        return out

    def pull_json(self, r: Repo, pr: Issue) -> dict:
        base = f"{self.api}/repos/{r.full_name}/pulls/{pr.number}"
        html = f"{self.web}/{r.full_name}/pull/{pr.number}"
        issue_url = f"{self.api}/repos/{r.full_name}/issues/{pr.number}"
        if pr.draft:
            mergeable_state = "draft"
        elif pr.mergeable is None:
            mergeable_state = "unknown"
        else:
            mergeable_state = "clean" if pr.mergeable else "dirty"

        def side(ref: str, sha: str) -> dict:
            return {"label": f"{r.owner}:{ref}", "ref": ref, "sha": sha, "user": self.user_json(r.owner),
                    "repo": self.repo_json(r)}

        return {
            "id": pr.pull_id, "node_id": _node_id("PullRequest", pr.pull_id), "url": base, "html_url": html,
            "diff_url": f"{html}.diff", "patch_url": f"{html}.patch", "issue_url": issue_url,
            "commits_url": f"{base}/commits", "review_comments_url": f"{base}/comments",
            "review_comment_url": f"{self.api}/repos/{r.full_name}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{self.api}/repos/{r.full_name}/statuses/{pr.head_sha}",
            "number": pr.number, "state": pr.state, "locked": pr.locked, "title": pr.title,
            "user": self.user_json(pr.user), "body": pr.body,
            "labels": [self.label_json(r, n) for n in pr.labels],
            "milestone": self.milestone_json(r, r.milestones[pr.milestone]) if pr.milestone else None,
            "active_lock_reason": None, "created_at": _iso(pr.created_at), "updated_at": _iso(pr.updated_at),
            "closed_at": _iso(pr.closed_at), "merged_at": _iso(pr.merged_at),
            "merge_commit_sha": pr.merge_commit_sha,
            "assignee": self.user_json(pr.assignees[0]) if pr.assignees else None,
            "assignees": [self.user_json(login) for login in pr.assignees],
            "requested_reviewers": [self.user_json(login) for login in pr.requested_reviewers],
            "requested_teams": [self.team_json(self.gh._orgs[r.owner.lower()].teams[slug])
                                for slug in pr.requested_teams],
            "head": side(pr.head_ref, pr.head_sha), "base": side(pr.base_ref, r.branches.get(pr.base_ref, pr.base_sha)),
            "_links": {"self": {"href": base}, "html": {"href": html}, "issue": {"href": issue_url},
                       "comments": {"href": f"{issue_url}/comments"}, "commits": {"href": f"{base}/commits"},
                       "statuses": {"href": f"{self.api}/repos/{r.full_name}/statuses/{pr.head_sha}"}},
            "author_association": self._association(r, pr.user), "auto_merge": None, "draft": pr.draft,
            "merged": pr.merged, "mergeable": None if pr.merged else pr.mergeable, "rebaseable": pr.mergeable,
            "mergeable_state": mergeable_state, "merged_by": self.user_json(pr.merged_by),
            "comments": sum(1 for c in r.comments.values() if c.issue == pr.number), "review_comments": 0,
            "maintainer_can_modify": False, "commits": len(pr.commits),
            "additions": sum(f.additions for f in pr.files), "deletions": sum(f.deletions for f in pr.files),
            "changed_files": len(pr.files),
        }

    def pull_file_json(self, r: Repo, pr: Issue, f: PullFile) -> dict:
        head_tree = r.commits[pr.head_sha].tree
        out = {"sha": _blob_sha(head_tree.get(f.filename, f.filename.encode())), "filename": f.filename,
               "status": f.status, "additions": f.additions, "deletions": f.deletions,
               "changes": f.additions + f.deletions,
               "blob_url": f"{self.web}/{r.full_name}/blob/{pr.head_sha}/{quote(f.filename)}",
               "raw_url": f"{self.web}/{r.full_name}/raw/{pr.head_sha}/{quote(f.filename)}",
               "contents_url": f"{self.api}/repos/{r.full_name}/contents/{quote(f.filename)}?ref={pr.head_sha}"}
        if f.patch is not None:
            out["patch"] = f.patch
        if f.previous_filename is not None:
            out["previous_filename"] = f.previous_filename
        return out

    def comment_json(self, r: Repo, c: Comment) -> dict:
        issue = r.issues[c.issue]
        kind = "pull" if issue.is_pull else "issues"
        return {"id": c.id, "node_id": _node_id("IssueComment", c.id),
                "url": f"{self.api}/repos/{r.full_name}/issues/comments/{c.id}",
                "html_url": f"{self.web}/{r.full_name}/{kind}/{c.issue}#issuecomment-{c.id}",
                "issue_url": f"{self.api}/repos/{r.full_name}/issues/{c.issue}", "body": c.body,
                "user": self.user_json(c.user), "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at),
                "author_association": self._association(r, c.user), "performed_via_github_app": None}

    def review_json(self, r: Repo, rv: Review) -> dict:
        html = f"{self.web}/{r.full_name}/pull/{rv.pull}#pullrequestreview-{rv.id}"
        pull_url = f"{self.api}/repos/{r.full_name}/pulls/{rv.pull}"
        out = {"id": rv.id, "node_id": _node_id("PullRequestReview", rv.id), "user": self.user_json(rv.user),
               "body": rv.body, "state": rv.state, "html_url": html, "pull_request_url": pull_url,
               "commit_id": rv.commit_id, "author_association": self._association(r, rv.user),
               "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}}}
        if rv.submitted_at:
            out["submitted_at"] = _iso(rv.submitted_at)
        return out

    def status_json(self, r: Repo, s: Status) -> dict:
        user = self.gh._users[s.creator.lower()]
        return {"url": f"{self.api}/repos/{r.full_name}/statuses/{s.sha}",
                "avatar_url": f"{self.web}/avatars/u/{user.id}", "id": s.id, "node_id": _node_id("StatusContext", s.id),
                "state": s.state, "description": s.description, "target_url": s.target_url, "context": s.context,
                "created_at": _iso(s.created_at), "updated_at": _iso(s.created_at),
                "creator": self.user_json(s.creator)}

    def check_run_json(self, r: Repo, run: CheckRun) -> dict:
        return {"id": run.id, "node_id": _node_id("CheckRun", run.id), "head_sha": run.head_sha, "name": run.name,
                "status": run.status, "conclusion": run.conclusion, "details_url": run.details_url,
                "started_at": _iso(run.started_at), "completed_at": _iso(run.completed_at),
                "output": {"title": run.output.get("title"), "summary": run.output.get("summary"),
                           "text": run.output.get("text")},
                "app": {"slug": run.creator.removesuffix("[bot]")},
                "url": f"{self.api}/repos/{r.full_name}/check-runs/{run.id}",
                "html_url": f"{self.web}/{r.full_name}/runs/{run.id}"}

    def content_json(self, r: Repo, path: str, ref: str, data: bytes | None) -> dict:
        """A file (with content) when `data` is given, else a directory entry."""
        base = f"{self.api}/repos/{r.full_name}"
        sha = _blob_sha(data) if data is not None else _tree_sha({})
        kind = "file" if data is not None else "dir"
        self_url = f"{base}/contents/{quote(path)}?ref={quote(ref, safe='')}"
        html = f"{self.web}/{r.full_name}/{'blob' if data is not None else 'tree'}/{ref}/{quote(path)}"
        git_url = f"{base}/git/{'blobs' if data is not None else 'trees'}/{sha}"
        out = {"type": kind, "size": len(data) if data is not None else 0, "name": path.rsplit("/", 1)[-1],
               "path": path, "sha": sha, "url": self_url, "git_url": git_url, "html_url": html,
               "download_url": f"{self.web}/{r.full_name}/raw/{ref}/{quote(path)}" if data is not None else None,
               "_links": {"self": self_url, "git": git_url, "html": html}}
        return out

    def installation_json(self, inst: Installation) -> dict:
        app = self.gh._apps[inst.app_id]
        account = self.gh._users[inst.account.lower()]
        return {"id": inst.id, "account": self.user_json(inst.account),
                "repository_selection": "all" if inst.repos is None else "selected",
                "access_tokens_url": f"{self.api}/app/installations/{inst.id}/access_tokens",
                "repositories_url": f"{self.api}/installation/repositories",
                "html_url": f"{self.web}/settings/installations/{inst.id}", "app_id": app.id,
                "app_slug": app.slug, "target_id": account.id, "target_type": account.type,
                "permissions": {"contents": "read", "issues": "write", "metadata": "read",
                                "pull_requests": "write", "statuses": "write", "members": "read"},
                "events": ["issue_comment", "issues", "pull_request", "pull_request_review", "push", "status"],
                "created_at": _iso(account.created_at), "updated_at": _iso(account.created_at),
                "single_file_name": None, "suspended_at": None, "suspended_by": None}

    # -- meta, users, orgs, teams

    @_route("GET", "/rate_limit")
    def get_rate_limit(self, call: _Call) -> _Response:
        rl = self.gh.rate_limit
        core = {"limit": rl.limit, "remaining": rl.remaining, "reset": rl.reset, "used": rl.used,
                "resource": "core"}
        other = lambda name, limit: {"limit": limit, "remaining": limit, "reset": rl.reset, "used": 0,  # noqa: E731
                                     "resource": name}
        return _Response(200, {"resources": {"core": core, "search": other("search", 30),
                                             "graphql": other("graphql", 5000),
                                             "integration_manifest": other("integration_manifest", 5000)},
                               "rate": core})

    @_route("GET", "/user")
    def get_authenticated_user(self, call: _Call) -> _Response:
        user = self._user(call.login)
        if user.type == "Bot":
            raise _ApiError(403, "Resource not accessible by integration")
        return _Response(200, self.user_full_json(user))

    @_route("GET", "/users/{login}")
    def get_user(self, call: _Call, login: str) -> _Response:
        return _Response(200, self.user_full_json(self._user(login)))

    @_route("GET", "/orgs/{org}")
    def get_org(self, call: _Call, org: str) -> _Response:
        return _Response(200, self.org_json(self._org(org)))

    @_route("GET", "/orgs/{org}/members")
    def list_org_members(self, call: _Call, org: str) -> _Response:
        o = self._org(org)
        role = call.arg("role", "all")
        logins = [login for login, r in o.members.items() if role == "all" or r == role]
        return self._page(call, logins, self.user_json)

    @_route("GET", "/orgs/{org}/members/{login}")
    def check_org_member(self, call: _Call, org: str, login: str) -> _Response:
        if login.lower() not in self._org(org).members:
            raise _not_found()
        return _Response(204)

    @_route("GET", "/orgs/{org}/memberships/{login}")
    def get_org_membership(self, call: _Call, org: str, login: str) -> _Response:
        o = self._org(org)
        role = o.members.get(login.lower())
        if role is None:
            raise _not_found()
        return _Response(200, {"url": f"{self.api}/orgs/{quote(o.login)}/memberships/{quote(login)}",
                               "state": "active", "role": role, "organization": self.org_json(o),
                               "user": self.user_json(login)})

    @_route("GET", "/orgs/{org}/teams")
    def list_teams(self, call: _Call, org: str) -> _Response:
        return self._page(call, list(self._org(org).teams.values()), self.team_json)

    def _team(self, org: str, slug: str) -> Team:
        team = self._org(org).teams.get(slug)
        if team is None:
            raise _not_found()
        return team

    @_route("GET", "/orgs/{org}/teams/{slug}")
    def get_team(self, call: _Call, org: str, slug: str) -> _Response:
        return _Response(200, self.team_json(self._team(org, slug)))

    @_route("GET", "/orgs/{org}/teams/{slug}/members")
    def list_team_members(self, call: _Call, org: str, slug: str) -> _Response:
        return self._page(call, self._team(org, slug).members, self.user_json)

    @_route("GET", "/orgs/{org}/teams/{slug}/members/{login}")
    def check_team_member(self, call: _Call, org: str, slug: str, login: str) -> _Response:
        if login.lower() not in (m.lower() for m in self._team(org, slug).members):
            raise _not_found()
        return _Response(204)

    @_route("GET", "/orgs/{org}/teams/{slug}/memberships/{login}")
    def get_team_membership(self, call: _Call, org: str, slug: str, login: str) -> _Response:
        team = self._team(org, slug)
        if login.lower() not in (m.lower() for m in team.members):
            raise _not_found()
        return _Response(200, {"url": f"{self.api}/orgs/{quote(org)}/teams/{quote(slug)}/memberships/{quote(login)}",
                               "role": "member", "state": "active"})

    # -- GitHub App

    def _require_app(self, call: _Call) -> App:
        if not call.is_app:
            raise _ApiError(401, "A JSON web token could not be decoded")
        return next(a for a in self.gh._apps.values() if a.slug == call.login)

    def _installation(self, app: App, predicate: Callable[[Installation], bool]) -> Installation:
        for inst in self.gh._installations.values():
            if inst.app_id == app.id and predicate(inst):
                return inst
        raise _not_found()

    @_route("GET", "/app")
    def get_app(self, call: _Call) -> _Response:
        app = self._require_app(call)
        return _Response(200, {"id": app.id, "slug": app.slug, "node_id": _node_id("Integration", app.id),
                               "owner": self.user_json(app.owner), "name": app.name, "description": "",
                               "external_url": self.web, "html_url": f"{self.web}/apps/{app.slug}",
                               "created_at": _iso(_now()), "updated_at": _iso(_now()),
                               "permissions": {}, "events": [],
                               "installations_count": sum(1 for i in self.gh._installations.values()
                                                          if i.app_id == app.id)})

    @_route("GET", "/app/installations")
    def list_installations(self, call: _Call) -> _Response:
        app = self._require_app(call)
        items = [i for i in self.gh._installations.values() if i.app_id == app.id]
        return self._page(call, items, self.installation_json)

    @_route("GET", "/app/installations/{installation_id:\\d+}")
    def get_installation(self, call: _Call, installation_id: str) -> _Response:
        app = self._require_app(call)
        return _Response(200, self.installation_json(self._installation(app, lambda i: i.id == int(installation_id))))

    @_route("POST", "/app/installations/{installation_id:\\d+}/access_tokens")
    def create_access_token(self, call: _Call, installation_id: str) -> _Response:
        app = self._require_app(call)
        inst = self._installation(app, lambda i: i.id == int(installation_id))
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
        expires_at = _now() + timedelta(hours=1)
        self.gh._tokens[token] = _Token(f"{app.slug}[bot]", expires_at)
        body = {"token": token, "expires_at": _iso(expires_at),
                "permissions": self.installation_json(inst)["permissions"],
                "repository_selection": "all" if inst.repos is None else "selected"}
        return _Response(201, body)

    @_route("GET", "/repos/{owner}/{name}/installation")
    def get_repo_installation(self, call: _Call, owner: str, name: str) -> _Response:
        app = self._require_app(call)
        r = self._repo(owner, name)
        inst = self._installation(app, lambda i: i.account.lower() == r.owner.lower()
                                  and (i.repos is None or r.full_name.lower() in i.repos))
        return _Response(200, self.installation_json(inst))

    @_route("GET", "/orgs/{org}/installation")
    def get_org_installation(self, call: _Call, org: str) -> _Response:
        app = self._require_app(call)
        return _Response(200, self.installation_json(self._installation(app, lambda i: i.account.lower() == org.lower())))

    @_route("GET", "/users/{login}/installation")
    def get_user_installation(self, call: _Call, login: str) -> _Response:
        return self.get_org_installation(call, login)

    # -- repositories, branches, refs, collaborators

    @_route("GET", "/repos/{owner}/{name}")
    def get_repo(self, call: _Call, owner: str, name: str) -> _Response:
        return _Response(200, self.repo_json(self._repo(owner, name), call.login))

    # -- GraphQL: only the transferIssue mutation (issue-management's /transfer-issue)

    @_route("POST", "/graphql")
    def graphql(self, call: _Call) -> _Response:
        body = call.body if isinstance(call.body, dict) else {}
        query, variables = str(body.get("query") or ""), body.get("variables") or {}
        if "... on Blob" in query:
            return self._graphql_blobs(query, variables)
        if "search(" in query:
            return self._graphql_search(query, variables)
        if "transferIssue" not in query:
            return _Response(200, {"errors": [{"message": "the fake GitHub answers only the transferIssue mutation"}]})
        given = variables.get("input") or {}
        found = [(r, i) for r in self.gh._repos.values() for i in r.issues.values()
                 if _node_id("PullRequest" if i.is_pull else "Issue", i.pull_id if i.is_pull else i.id)
                 == given.get("issueId")]
        target = next((r for r in self.gh._repos.values() if _node_id("Repository", r.id) == given.get("repositoryId")),
                      None)
        if not found or target is None:
            return _Response(200, {"data": {"transferIssue": None}, "errors": [
                {"type": "NOT_FOUND", "message": "Could not resolve to a node with the global id of "
                                                 f"'{given.get('issueId') if not found else given.get('repositoryId')}'"}]})
        source, issue = found[0]
        if issue.is_pull:
            return _Response(200, {"data": {"transferIssue": None},
                                   "errors": [{"message": "Pull requests cannot be transferred"}]})
        self.gh.transfer_issue(source.full_name, issue.number, target.full_name)
        return _Response(200, {"data": {"transferIssue": {"issue": {
            "url": f"{self.web}/{target.full_name}/issues/{issue.number}"}}}})

    def _graphql_blobs(self, query: str, variables: dict) -> _Response:
        """`repository(owner, name) { alias: object(oid: "...") { ... on Blob { text isBinary isTruncated } } }`."""
        r = self._repo(str(variables.get("owner")), str(variables.get("name")))
        blobs = {_blob_sha(data): data for commit in r.commits.values() for data in commit.tree.values()}
        found = {}
        for alias, sha in re.findall(r'(\w+): object\(oid: "([0-9a-f]+)"\)', query):
            data = blobs.get(sha)
            found[alias] = None if data is None else {"text": data.decode("utf-8", "replace"), "isBinary": False,
                                                     "isTruncated": False}
        return _Response(200, {"data": {"repository": found}})

    def _graphql_search(self, query: str, variables: dict) -> _Response:
        """Tide's `search(type: ISSUE, ...)` aliases: `prs` (paged by `after`, a numeric cursor) and
        `blockers`, answered from the fake's issues, labels, reviews, statuses and check runs. Understood
        qualifiers: is:pr/is:issue, state:, label:"a","b", -label:, repo:, -repo:, org:, author:."""
        data: dict = {}
        for alias, var in re.findall(r'(\w+): search\([^)]*query: \$(\w+)\)', query):
            found = self._search(str(variables.get(var) or ""))
            first = int((re.search(rf'{alias}: search\([^)]*first: (\d+)', query) or [0, 100])[1])
            start = int(variables.get("after") or 0) if alias == "prs" else 0
            page = found[start:start + first]
            data[alias] = {"issueCount": len(found), "nodes": [self._search_node(r, i) for r, i in page],
                           "pageInfo": {"hasNextPage": start + first < len(found),
                                        "endCursor": str(start + len(page))}}
        return _Response(200, {"data": data})

    def _search(self, q: str) -> list:
        toks = re.findall(r'-?\w+:(?:"[^"]*"(?:,"[^"]*")*|\S+)', q)
        def values(tok: str) -> list[str]:
            return [v.strip('"') for v in tok.split(":", 1)[1].split('","')]
        repos = {v.lower() for t in toks if t.startswith("repo:") for v in values(t)}
        orgs = {v.lower() for t in toks if t.startswith("org:") for v in values(t)}
        excluded = {v.lower() for t in toks if t.startswith("-repo:") for v in values(t)}
        out = []
        for r in sorted(self.gh._repos.values(), key=lambda r: r.full_name):
            full = r.full_name.lower()
            if full in excluded or not (full in repos or r.owner.lower() in orgs):
                continue
            for issue in sorted(r.issues.values(), key=lambda i: i.number):
                labels = {name.lower() for name in issue.labels}
                ok = True
                for t in toks:
                    key, vals = t.split(":", 1)[0], values(t)
                    if key == "is" and vals[0] in ("pr", "issue"):
                        ok &= issue.is_pull == (vals[0] == "pr")
                    elif key == "state":
                        ok &= issue.state == vals[0]
                    elif key == "label":
                        ok &= any(v.lower() in labels for v in vals)
                    elif key == "-label":
                        ok &= not any(v.lower() in labels for v in vals)
                    elif key == "author":
                        ok &= issue.user.lower() == vals[0].lower()
                if ok:
                    out.append((r, issue))
        return out

    def _search_node(self, r: Repo, issue: Issue) -> dict:
        owner = {"login": r.owner}
        repository = {"name": r.name, "owner": owner, "mergeCommitAllowed": r.allow_merge_commit,
                      "squashMergeAllowed": r.allow_squash_merge, "rebaseMergeAllowed": r.allow_rebase_merge}
        url = f"{self.web}/{r.full_name}/{'pull' if issue.is_pull else 'issues'}/{issue.number}"
        if not issue.is_pull:
            return {"number": issue.number, "title": issue.title, "url": url, "repository": repository}
        latest: dict[str, str] = {}
        for rv in r.reviews:
            if rv.pull == issue.number and rv.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[rv.user.lower()] = rv.state
        decision = ("CHANGES_REQUESTED" if "CHANGES_REQUESTED" in latest.values()
                    else "APPROVED" if "APPROVED" in latest.values() else "REVIEW_REQUIRED")
        contexts = [{"__typename": "StatusContext", "context": s.context, "state": s.state.upper(),
                     "description": s.description, "targetUrl": s.target_url}
                    for s in _latest_statuses(r.statuses.get(issue.head_sha, []))]
        contexts += [{"__typename": "CheckRun", "name": c.name, "status": c.status.upper(),
                      "conclusion": (c.conclusion or "").upper() or None}
                     for c in r.check_runs if c.head_sha == issue.head_sha]
        milestone = r.milestones.get(issue.milestone) if issue.milestone else None
        mergeable = {True: "MERGEABLE", False: "CONFLICTING", None: "UNKNOWN"}[issue.mergeable]
        return {
            "number": issue.number, "title": issue.title, "body": issue.body or "", "url": url,
            "updatedAt": _iso(issue.updated_at), "isDraft": issue.draft, "author": {"login": issue.user},
            "baseRefName": issue.base_ref, "headRefName": issue.head_ref, "headRefOid": issue.head_sha,
            "mergeable": mergeable, "mergeStateStatus": "DIRTY" if issue.mergeable is False else "CLEAN",
            "reviewDecision": decision, "baseRef": {"target": {"oid": r.branches.get(issue.base_ref, "")}},
            "repository": repository, "labels": {"nodes": [{"name": n} for n in issue.labels]},
            "milestone": {"title": milestone.title} if milestone else None,
            "files": {"totalCount": len(issue.files), "nodes": [{"path": f.filename} for f in issue.files[:100]]},
            "commits": {"nodes": [{"commit": {"oid": issue.head_sha, "statusCheckRollup": {
                "contexts": {"nodes": contexts}}}}]},
        }

    def branch_json(self, r: Repo, branch: str) -> dict:
        base = f"{self.api}/repos/{r.full_name}/branches/{quote(branch)}"
        return {"name": branch, "commit": self.commit_json(r, r.branches[branch]),
                "protected": branch in r.protected, "protection_url": f"{base}/protection",
                "_links": {"self": base, "html": f"{self.web}/{r.full_name}/tree/{quote(branch)}"}}

    @_route("GET", "/repos/{owner}/{name}/branches")
    def list_branches(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)
        branches = sorted(b for b in r.branches if call.arg("protected") != "true" or b in r.protected)
        return self._page(call, branches, lambda b: {"name": b, "commit": {
            "sha": r.branches[b], "url": f"{self.api}/repos/{r.full_name}/commits/{r.branches[b]}"},
            "protected": b in r.protected})

    @_route("GET", "/repos/{owner}/{name}/branches/{branch:.+}/protection")
    def get_branch_protection(self, call: _Call, owner: str, name: str, branch: str) -> _Response:
        r = self._repo(owner, name)
        if branch not in r.branches:
            raise _ApiError(404, "Branch not found")
        if branch not in r.protected:
            raise _ApiError(404, "Branch not protected")
        url = f"{self.api}/repos/{r.full_name}/branches/{quote(branch)}/protection"
        contexts = r.required_contexts.get(branch) or []
        body: dict = {"url": url, "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": False}}
        if contexts:
            body["required_status_checks"] = {
                "url": f"{url}/required_status_checks", "strict": False, "contexts": list(contexts),
                "checks": [{"context": c, "app_id": None} for c in contexts]}
        return _Response(200, body)

    @_route("GET", "/repos/{owner}/{name}/branches/{branch:.+}")
    def get_branch(self, call: _Call, owner: str, name: str, branch: str) -> _Response:
        r = self._repo(owner, name)
        if branch not in r.branches:
            raise _ApiError(404, "Branch not found")
        return _Response(200, self.branch_json(r, branch))

    def ref_json(self, r: Repo, branch: str) -> dict:
        sha = r.branches[branch]
        return {"ref": f"refs/heads/{branch}", "node_id": _node_id("Ref", f"{r.id}:{branch}"),
                "url": f"{self.api}/repos/{r.full_name}/git/refs/heads/{quote(branch)}",
                "object": {"sha": sha, "type": "commit", "url": f"{self.api}/repos/{r.full_name}/git/commits/{sha}"}}

    @_route("GET", "/repos/{owner}/{name}/git/ref/heads/{branch:.+}")
    def get_ref(self, call: _Call, owner: str, name: str, branch: str) -> _Response:
        r = self._repo(owner, name)
        if branch not in r.branches:
            raise _not_found()
        return _Response(200, self.ref_json(r, branch))

    @_route("GET", "/repos/{owner}/{name}/git/refs")
    def list_refs(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)
        return self._page(call, sorted(r.branches), lambda b: self.ref_json(r, b))

    @_route("GET", "/repos/{owner}/{name}/git/refs/{ref:.+}")
    def get_refs(self, call: _Call, owner: str, name: str, ref: str) -> _Response:
        """An exact ref answers the object; otherwise the refs that start with it (a list), as GitHub."""
        r = self._repo(owner, name)
        if ref.rstrip("/") != "heads" and not ref.startswith("heads/"):
            raise _not_found()
        branch = ref[len("heads/"):]
        if branch and branch in r.branches:
            return _Response(200, self.ref_json(r, branch))
        matching = sorted(b for b in r.branches if b.startswith(branch))
        if not matching:
            raise _not_found()
        return _Response(200, [self.ref_json(r, b) for b in matching])

    @_route("GET", "/repos/{owner}/{name}/git/trees/{ref:.+}")
    def get_tree(self, call: _Call, owner: str, name: str, ref: str) -> _Response:
        """A commit's tree (by commit sha, branch or tree sha), one level or `recursive`, as GitHub."""
        r = self._repo(owner, name)
        sha = _resolve(r, ref)
        if sha is not None:
            tree = r.commits[sha].tree
        else:
            tree = next((t for t in self._subtrees(r) if _tree_sha(t) == ref), None)
            if tree is None:
                raise _not_found()
        dirs = sorted({"/".join(p.split("/")[:i]) for p in tree for i in range(1, p.count("/") + 1)})
        recursive = call.arg("recursive") not in (None, "", "0", "false")
        base = f"{self.api}/repos/{r.full_name}/git"
        entries = []
        for path in sorted([*tree, *dirs]):
            if not recursive and "/" in path:
                continue
            if path in tree:
                blob = _blob_sha(tree[path])
                entries.append({"path": path, "mode": "100644", "type": "blob", "sha": blob,
                                "size": len(tree[path]), "url": f"{base}/blobs/{blob}"})
            else:
                sub = _tree_sha(_subtree(tree, path))
                entries.append({"path": path, "mode": "040000", "type": "tree", "sha": sub,
                                "url": f"{base}/trees/{sub}"})
        return _Response(200, {"sha": _tree_sha(tree), "url": f"{base}/trees/{_tree_sha(tree)}",
                               "tree": entries, "truncated": False})

    def _subtrees(self, r: Repo):
        for commit in r.commits.values():
            tree = commit.tree
            yield tree
            for d in {"/".join(p.split("/")[:i]) for p in tree for i in range(1, p.count("/") + 1)}:
                yield _subtree(tree, d)

    @_route("GET", "/repos/{owner}/{name}/git/blobs/{sha}")
    def get_blob(self, call: _Call, owner: str, name: str, sha: str) -> _Response:
        r = self._repo(owner, name)
        for commit in r.commits.values():
            for data in commit.tree.values():
                if _blob_sha(data) == sha:
                    return _Response(200, {"sha": sha, "node_id": _node_id("Blob", sha), "size": len(data),
                                           "url": f"{self.api}/repos/{r.full_name}/git/blobs/{sha}",
                                           "content": base64.encodebytes(data).decode(), "encoding": "base64"})
        raise _not_found()

    @_route("GET", "/repos/{owner}/{name}/collaborators")
    def list_collaborators(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)

        def render(login: str) -> dict:
            role = self._permission(r, login)
            rank = PERMISSION_LEVELS.index(role)
            return {**self.user_json(login), "role_name": role,
                    "permissions": {"admin": rank >= 4, "maintain": rank >= 3, "push": rank >= 2,
                                    "triage": rank >= 1, "pull": True}}
        return self._page(call, list(r.collaborators), render)

    @_route("GET", "/repos/{owner}/{name}/collaborators/{login}")
    def check_collaborator(self, call: _Call, owner: str, name: str, login: str) -> _Response:
        r = self._repo(owner, name)
        if self._permission(r, login) is None:
            raise _not_found()
        return _Response(204)

    @_route("GET", "/repos/{owner}/{name}/collaborators/{login}/permission")
    def get_collaborator_permission(self, call: _Call, owner: str, name: str, login: str) -> _Response:
        r = self._repo(owner, name)
        self._user(login)
        role = self._permission(r, login)
        if role is None:
            role = "none" if r.private else "read"
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        return _Response(200, {"permission": legacy, "role_name": role, "user": self.user_json(login)})

    @_route("GET", "/repos/{owner}/{name}/assignees/{login}")
    def check_assignee(self, call: _Call, owner: str, name: str, login: str) -> _Response:
        if not self._assignable(self._repo(owner, name), login):
            raise _not_found()
        return _Response(204)

    # -- contents and commits

    @_route("GET", "/repos/{owner}/{name}/contents")
    def get_root_contents(self, call: _Call, owner: str, name: str) -> _Response:
        return self.get_contents(call, owner, name, "")

    @_route("GET", "/repos/{owner}/{name}/contents/{path:.*}")
    def get_contents(self, call: _Call, owner: str, name: str, path: str) -> _Response:
        r = self._repo(owner, name)
        ref = call.arg("ref") or r.default_branch
        sha = _resolve(r, ref)
        if sha is None:
            raise _ApiError(404, f"No commit found for the ref {ref}")
        tree = r.commits[sha].tree
        path = path.strip("/")
        if path in tree:
            data = tree[path]
            encoded = base64.encodebytes(data).decode()  # GitHub wraps base64 at 60-76 columns too
            return _Response(200, {**self.content_json(r, path, ref, data), "content": encoded,
                                   "encoding": "base64"})
        prefix = path + "/" if path else ""
        entries: dict[str, bytes | None] = {}
        for p in tree:
            if p.startswith(prefix):
                head, sep, _ = p[len(prefix):].partition("/")
                entries[prefix + head] = None if sep else tree[p]
        if not entries:
            raise _not_found()
        return _Response(200, [self.content_json(r, p, ref, entries[p]) for p in sorted(entries)])

    @_route("GET", "/repos/{owner}/{name}/commits")
    def list_commits(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)
        sha = _resolve(r, call.arg("sha") or r.default_branch)
        if sha is None:
            raise _not_found()
        chain = []
        while sha in r.commits and sha not in chain:
            chain.append(sha)
            sha = r.commits[sha].parents[0] if r.commits[sha].parents else None
        return self._page(call, chain, lambda s: self.commit_json(r, s))

    def _commit_sha(self, r: Repo, ref: str) -> str:
        sha = _resolve(r, ref)
        if sha is None:
            raise _ApiError(422, f"No commit found for SHA: {ref}")
        return sha

    @_route("GET", "/repos/{owner}/{name}/commits/{ref:.+}/check-runs")
    def list_check_runs(self, call: _Call, owner: str, name: str, ref: str) -> _Response:
        r = self._repo(owner, name)
        sha = self._commit_sha(r, ref)
        runs = [self.check_run_json(r, run) for run in reversed(r.check_runs) if run.head_sha == sha]
        page = self._page(call, runs, lambda run: run)
        return _Response(page.status, {"total_count": len(runs), "check_runs": page.body}, page.headers)

    @_route("GET", "/repos/{owner}/{name}/actions/runs")
    def list_workflow_runs(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)
        branch, sha, status, event = (call.arg(k) for k in ("branch", "head_sha", "status", "event"))
        runs = [run for run in reversed(r.workflow_runs)
                if (branch is None or run.head_branch == branch) and (sha is None or run.head_sha == sha)
                and (status is None or status in (run.status, run.conclusion)) and (event is None or run.event == event)]
        page = self._page(call, runs, lambda run: {
            "id": run.id, "name": run.name, "head_branch": run.head_branch, "head_sha": run.head_sha,
            "event": run.event, "status": run.status, "conclusion": run.conclusion, "run_attempt": run.run_attempt,
            "url": f"{self.api}/repos/{r.full_name}/actions/runs/{run.id}"})
        return _Response(page.status, {"total_count": len(runs), "workflow_runs": page.body}, page.headers)

    def _workflow_run(self, r: Repo, run_id: str) -> WorkflowRun:
        run = next((run for run in r.workflow_runs if str(run.id) == run_id), None)
        if run is None:
            raise _not_found()
        return run

    @_route("POST", "/repos/{owner}/{name}/actions/runs/{run_id}/approve")
    def approve_workflow_run(self, call: _Call, owner: str, name: str, run_id: str) -> _Response:
        run = self._workflow_run(self._repo(owner, name), run_id)
        if run.conclusion != "action_required":
            raise _ApiError(403, "This run is not waiting for approval")
        run.status, run.conclusion, run.approved = "queued", None, True
        return _Response(201, {})

    @_route("POST", "/repos/{owner}/{name}/actions/runs/{run_id}/rerun-failed-jobs")
    def rerun_failed_workflow_jobs(self, call: _Call, owner: str, name: str, run_id: str) -> _Response:
        run = self._workflow_run(self._repo(owner, name), run_id)
        if run.status != "completed" or run.conclusion not in ("failure", "cancelled", "timed_out"):
            raise _ApiError(403, "This workflow run has no failed jobs to re-run")
        run.status, run.conclusion, run.run_attempt = "queued", None, run.run_attempt + 1
        return _Response(201, {})

    @_route("POST", "/repos/{owner}/{name}/check-runs")
    def create_check_run(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)
        body = call.body if isinstance(call.body, dict) else {}
        if not body.get("name") or body.get("head_sha") not in r.commits:
            raise _invalid("CheckRun", "head_sha" if body.get("name") else "name", "missing")
        status = body.get("status") or "queued"
        run_id = self.gh.add_check_run(r.full_name, body["head_sha"], body["name"], status=status,
                                       conclusion=body.get("conclusion"), details_url=body.get("details_url"),
                                       creator=call.login, output=body.get("output"))
        return _Response(201, self.check_run_json(r, next(run for run in r.check_runs if run.id == run_id)))

    @_route("GET", "/repos/{owner}/{name}/commits/{ref:.+}/status")
    def get_combined_status(self, call: _Call, owner: str, name: str, ref: str) -> _Response:
        r = self._repo(owner, name)
        sha = self._commit_sha(r, ref)
        latest = _latest_statuses(r.statuses.get(sha, []))
        return _Response(200, {"state": _combined_state(latest), "statuses": [self.status_json(r, s) for s in latest],
                               "sha": sha, "total_count": len(latest), "repository": self.repo_json(r),
                               "commit_url": f"{self.api}/repos/{r.full_name}/commits/{sha}",
                               "url": f"{self.api}/repos/{r.full_name}/commits/{sha}/status"})

    @_route("GET", "/repos/{owner}/{name}/commits/{ref:.+}/statuses")
    def list_statuses(self, call: _Call, owner: str, name: str, ref: str) -> _Response:
        r = self._repo(owner, name)
        sha = self._commit_sha(r, ref)
        return self._page(call, list(reversed(r.statuses.get(sha, []))), lambda s: self.status_json(r, s))

    @_route("GET", "/repos/{owner}/{name}/statuses/{ref:.+}")
    def list_statuses_legacy(self, call: _Call, owner: str, name: str, ref: str) -> _Response:
        return self.list_statuses(call, owner, name, ref)

    @_route("GET", "/repos/{owner}/{name}/commits/{ref:.+}")
    def get_commit(self, call: _Call, owner: str, name: str, ref: str) -> _Response:
        r = self._repo(owner, name)
        return _Response(200, self.commit_json(r, self._commit_sha(r, ref), with_files=True))

    @_route("POST", "/repos/{owner}/{name}/statuses/{sha}")
    def create_status(self, call: _Call, owner: str, name: str, sha: str) -> _Response:
        r = self._repo(owner, name)
        body = call.body if isinstance(call.body, dict) else {}
        if sha not in r.commits:
            raise _ApiError(422, f"No commit found for SHA: {sha}")
        if body.get("state") not in STATUS_STATES:
            raise _invalid("Status", "state", "custom")
        description = body.get("description") or ""
        if len(description) > 140:
            raise _ApiError(422, "Validation Failed", [{"resource": "Status", "code": "custom", "field": "description",
                                                        "message": "description is too long (maximum is 140 characters)"}])
        status_id = self.gh.set_status(r.full_name, sha, body.get("context") or "default", body["state"],
                                       description=description, target_url=body.get("target_url"),
                                       creator=call.login)
        return _Response(201, self.status_json(r, next(s for s in r.statuses[sha] if s.id == status_id)))

    # -- issues, comments, labels, assignees, milestones

    @_route("GET", "/repos/{owner}/{name}/issues")
    def list_issues(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)
        state = call.arg("state", "open")
        wanted = {n.strip().lower() for n in (call.arg("labels") or "").split(",") if n.strip()}
        items = [i for i in r.issues.values()
                 if (state == "all" or i.state == state) and wanted <= {n.lower() for n in i.labels}]
        items.sort(key=lambda i: i.updated_at if call.arg("sort") == "updated" else i.created_at,
                   reverse=call.arg("direction", "desc") == "desc")
        return self._page(call, items, lambda i: self.issue_json(r, i))

    @_route("GET", "/repos/{owner}/{name}/issues/{number:\\d+}")
    def get_issue(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        return _Response(200, self.issue_json(r, self._issue(r, number)))

    @_route("PATCH", "/repos/{owner}/{name}/issues/{number:\\d+}")
    def edit_issue(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        issue = self._issue(r, number)
        self._edit(r, issue, call)
        return _Response(200, self.issue_json(r, issue))

    def _edit(self, r: Repo, issue: Issue, call: _Call) -> None:
        body = call.body if isinstance(call.body, dict) else {}
        if "state" in body and body["state"] not in ("open", "closed"):
            raise _invalid("Issue", "state")
        if body.get("state") == "open" and issue.merged:
            raise _ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                        "field": "state", "message": "state cannot be changed. "
                                                        "The pull request cannot be reopened."}])
        if "milestone" in body and body["milestone"] is not None and body["milestone"] not in r.milestones:
            raise _invalid("Issue", "milestone")
        if "title" in body:
            issue.title = body["title"]
        if "body" in body:
            issue.body = body["body"]
        if "base" in body and issue.is_pull:
            if body["base"] not in r.branches:
                raise _invalid("PullRequest", "base")
            issue.base_ref = body["base"]
        assignees = body.get("assignees")
        if assignees is None and body.get("assignee"):
            assignees = [body["assignee"]]
        self.gh._update(r, issue, labels=_labels_from(body) if "labels" in body else None,
                        assignees=[a for a in assignees if self._assignable(r, a)] if assignees is not None else None,
                        milestone=body["milestone"] if "milestone" in body else ..., state=body.get("state"),
                        actor=call.login)
        if "state_reason" in body and issue.state == "closed":
            issue.state_reason = body["state_reason"]

    @_route("GET", "/repos/{owner}/{name}/issues/{number:\\d+}/comments")
    def list_comments(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        issue = self._issue(r, number)
        items = [c for c in r.comments.values() if c.issue == issue.number]
        return self._page(call, items, lambda c: self.comment_json(r, c))

    def _comment_body(self, call: _Call) -> str:
        body = call.body.get("body") if isinstance(call.body, dict) else None
        if not isinstance(body, str):
            raise _invalid("IssueComment", "body", "missing_field")
        if len(body) > MAX_COMMENT_LENGTH:
            raise _ApiError(422, "Validation Failed", [{"resource": "IssueComment", "code": "unprocessable",
                                                        "field": "data", "message": "Body is too long (maximum "
                                                        f"is {MAX_COMMENT_LENGTH} characters)"}])
        return body

    @_route("POST", "/repos/{owner}/{name}/issues/{number:\\d+}/comments")
    def create_comment(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        issue = self._issue(r, number)
        comment_id = self.gh.add_comment(r.full_name, issue.number, self._comment_body(call), author=call.login)
        return _Response(201, self.comment_json(r, r.comments[comment_id]))

    def _comment(self, r: Repo, comment_id: str) -> Comment:
        comment = r.comments.get(int(comment_id))
        if comment is None:
            raise _not_found()
        return comment

    @_route("GET", "/repos/{owner}/{name}/issues/comments/{comment_id:\\d+}")
    def get_comment(self, call: _Call, owner: str, name: str, comment_id: str) -> _Response:
        r = self._repo(owner, name)
        return _Response(200, self.comment_json(r, self._comment(r, comment_id)))

    @_route("PATCH", "/repos/{owner}/{name}/issues/comments/{comment_id:\\d+}")
    def edit_comment(self, call: _Call, owner: str, name: str, comment_id: str) -> _Response:
        r = self._repo(owner, name)
        comment = self._comment(r, comment_id)
        comment.body = self._comment_body(call)
        comment.updated_at = _now()
        return _Response(200, self.comment_json(r, comment))

    @_route("DELETE", "/repos/{owner}/{name}/issues/comments/{comment_id:\\d+}")
    def delete_comment(self, call: _Call, owner: str, name: str, comment_id: str) -> _Response:
        r = self._repo(owner, name)
        del r.comments[self._comment(r, comment_id).id]
        return _Response(204)

    def _issue_labels(self, call: _Call, r: Repo, issue: Issue) -> _Response:
        return self._page(call, list(issue.labels), lambda n: self.label_json(r, n))

    @_route("GET", "/repos/{owner}/{name}/issues/{number:\\d+}/labels")
    def list_issue_labels(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        return self._issue_labels(call, r, self._issue(r, number))

    @_route("POST", "/repos/{owner}/{name}/issues/{number:\\d+}/labels")
    def add_issue_labels(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        issue = self._issue(r, number)
        self.gh._update(r, issue, labels=issue.labels + _labels_from(call.body), actor=call.login)
        return _Response(200, [self.label_json(r, n) for n in issue.labels])

    @_route("PUT", "/repos/{owner}/{name}/issues/{number:\\d+}/labels")
    def set_issue_labels(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        issue = self._issue(r, number)
        self.gh._update(r, issue, labels=_labels_from(call.body))
        return _Response(200, [self.label_json(r, n) for n in issue.labels])

    @_route("DELETE", "/repos/{owner}/{name}/issues/{number:\\d+}/labels")
    def clear_issue_labels(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        self.gh._update(r, self._issue(r, number), labels=[])
        return _Response(204)

    @_route("DELETE", "/repos/{owner}/{name}/issues/{number:\\d+}/labels/{label:.+}")
    def remove_issue_label(self, call: _Call, owner: str, name: str, number: str, label: str) -> _Response:
        r = self._repo(owner, name)
        issue = self._issue(r, number)
        remaining = [n for n in issue.labels if n.lower() != label.lower()]
        if len(remaining) == len(issue.labels):
            raise _ApiError(404, "Label does not exist")
        self.gh._update(r, issue, labels=remaining, actor=call.login)
        return _Response(200, [self.label_json(r, n) for n in issue.labels])

    @_route("POST", "/repos/{owner}/{name}/issues/{number:\\d+}/assignees")
    def add_assignees(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        issue = self._issue(r, number)
        wanted = call.body.get("assignees") if isinstance(call.body, dict) else None
        if not isinstance(wanted, list):
            raise _invalid("Issue", "assignees", "missing_field")
        # GitHub silently skips users who cannot be assigned; callers compare the answer with what they asked.
        added = [a for a in wanted if self._assignable(r, a)]
        self.gh._update(r, issue, assignees=issue.assignees + added)
        return _Response(201, self.issue_json(r, issue))

    @_route("DELETE", "/repos/{owner}/{name}/issues/{number:\\d+}/assignees")
    def remove_assignees(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        issue = self._issue(r, number)
        unwanted = call.body.get("assignees") if isinstance(call.body, dict) else None
        if not isinstance(unwanted, list):
            raise _invalid("Issue", "assignees", "missing_field")
        gone = {a.lower() for a in unwanted}
        self.gh._update(r, issue, assignees=[a for a in issue.assignees if a.lower() not in gone])
        return _Response(200, self.issue_json(r, issue))

    _REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")

    def reaction_json(self, x: Reaction) -> dict:
        return {"id": x.id, "node_id": _node_id("REA", x.id), "user": self.user_json(x.user), "content": x.content,
                "created_at": _iso(x.created_at)}

    def _react(self, call: _Call, r: Repo, subject: str, subject_id: int) -> _Response:
        content = call.body.get("content") if isinstance(call.body, dict) else None
        if content not in self._REACTIONS:
            raise _invalid("Reaction", "content")
        for x in r.reactions:   # one reaction per user and content: GitHub answers the existing one
            if (x.subject, x.subject_id, x.user.lower(), x.content) == (subject, subject_id, call.login.lower(), content):
                return _Response(200, self.reaction_json(x))
        x = Reaction(self.gh._new_id(), subject, subject_id, call.login, content)
        r.reactions.append(x)
        return _Response(201, self.reaction_json(x))

    def _reactions(self, call: _Call, r: Repo, subject: str, subject_id: int) -> _Response:
        items = [x for x in r.reactions if x.subject == subject and x.subject_id == subject_id]
        return self._page(call, items, self.reaction_json)

    @_route("POST", "/repos/{owner}/{name}/issues/{number:\\d+}/reactions")
    def create_issue_reaction(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        return self._react(call, r, "issue", self._issue(r, number).number)

    @_route("GET", "/repos/{owner}/{name}/issues/{number:\\d+}/reactions")
    def list_issue_reactions(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        return self._reactions(call, r, "issue", self._issue(r, number).number)

    @_route("POST", "/repos/{owner}/{name}/issues/comments/{comment_id:\\d+}/reactions")
    def create_comment_reaction(self, call: _Call, owner: str, name: str, comment_id: str) -> _Response:
        r = self._repo(owner, name)
        return self._react(call, r, "comment", self._comment(r, comment_id).id)

    @_route("GET", "/repos/{owner}/{name}/issues/comments/{comment_id:\\d+}/reactions")
    def list_comment_reactions(self, call: _Call, owner: str, name: str, comment_id: str) -> _Response:
        r = self._repo(owner, name)
        return self._reactions(call, r, "comment", self._comment(r, comment_id).id)

    @_route("GET", "/repos/{owner}/{name}/labels")
    def list_repo_labels(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)
        return self._page(call, [label.name for label in r.labels.values()], lambda n: self.label_json(r, n))

    @_route("POST", "/repos/{owner}/{name}/labels")
    def create_repo_label(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)
        body = call.body if isinstance(call.body, dict) else {}
        label_name = body.get("name")
        if not isinstance(label_name, str) or not label_name.strip():
            raise _invalid("Label", "name", "missing_field")
        if label_name.lower() in r.labels:
            raise _invalid("Label", "name", "already_exists")
        color = str(body.get("color") or "ededed").lstrip("#")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            raise _invalid("Label", "color")
        self.gh.add_label(r.full_name, label_name, color=color, description=body.get("description") or "")
        return _Response(201, self.label_json(r, label_name))

    @_route("GET", "/repos/{owner}/{name}/labels/{label:.+}")
    def get_repo_label(self, call: _Call, owner: str, name: str, label: str) -> _Response:
        r = self._repo(owner, name)
        if label.lower() not in r.labels:
            raise _not_found()
        return _Response(200, self.label_json(r, label))

    @_route("DELETE", "/repos/{owner}/{name}/labels/{label:.+}")
    def delete_repo_label(self, call: _Call, owner: str, name: str, label: str) -> _Response:
        r = self._repo(owner, name)
        if r.labels.pop(label.lower(), None) is None:
            raise _not_found()
        for issue in r.issues.values():
            issue.labels = [n for n in issue.labels if n.lower() != label.lower()]
        return _Response(204)

    @_route("GET", "/repos/{owner}/{name}/milestones")
    def list_milestones(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)
        state = call.arg("state", "open")
        items = [m for m in r.milestones.values() if state == "all" or m.state == state]
        return self._page(call, items, lambda m: self.milestone_json(r, m))

    @_route("GET", "/repos/{owner}/{name}/milestones/{number:\\d+}")
    def get_milestone(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        m = r.milestones.get(int(number))
        if m is None:
            raise _not_found()
        return _Response(200, self.milestone_json(r, m))

    # -- pull requests

    @_route("GET", "/repos/{owner}/{name}/pulls")
    def list_pulls(self, call: _Call, owner: str, name: str) -> _Response:
        r = self._repo(owner, name)
        state, base, head = call.arg("state", "open"), call.arg("base"), call.arg("head")
        items = [i for i in r.issues.values() if i.is_pull and (state == "all" or i.state == state)
                 and (base is None or i.base_ref == base)
                 and (head is None or f"{r.owner}:{i.head_ref}".lower() == head.lower())]
        items.sort(key=lambda i: i.updated_at if call.arg("sort") == "updated" else i.created_at,
                   reverse=call.arg("direction", "desc") == "desc")
        return self._page(call, items, lambda i: self.pull_json(r, i))

    @_route("GET", "/repos/{owner}/{name}/pulls/{number:\\d+}")
    def get_pull(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        return _Response(200, self.pull_json(r, self._pull(r, number)))

    @_route("PATCH", "/repos/{owner}/{name}/pulls/{number:\\d+}")
    def edit_pull(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        pr = self._pull(r, number)
        self._edit(r, pr, call)
        return _Response(200, self.pull_json(r, pr))

    @_route("GET", "/repos/{owner}/{name}/pulls/{number:\\d+}/files")
    def list_pull_files(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        pr = self._pull(r, number)
        return self._page(call, pr.files[:MAX_PULL_FILES], lambda f: self.pull_file_json(r, pr, f))

    @_route("GET", "/repos/{owner}/{name}/pulls/{number:\\d+}/commits")
    def list_pull_commits(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        pr = self._pull(r, number)
        return self._page(call, list(pr.commits), lambda sha: self.commit_json(r, sha))

    @_route("GET", "/repos/{owner}/{name}/pulls/{number:\\d+}/comments")
    def list_review_comments(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        pr = self._pull(r, number)

        def render(c: Comment) -> dict:
            return {"id": c.id, "node_id": _node_id("PullRequestReviewComment", c.id), "body": c.body,
                    "path": c.path, "user": self.user_json(c.user), "created_at": _iso(c.created_at),
                    "updated_at": _iso(c.updated_at),
                    "html_url": f"{self.web}/{r.full_name}/pull/{pr.number}#discussion_r{c.id}",
                    "url": f"{self.api}/repos/{r.full_name}/pulls/comments/{c.id}"}
        return self._page(call, [c for c in r.review_comments if c.issue == pr.number], render)

    @_route("GET", "/repos/{owner}/{name}/issues/{number:\\d+}/events")
    def list_issue_events(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        issue = self._issue(r, number)
        return self._page(call, list(issue.events), lambda e: {
            "id": e["id"], "event": e["event"], "actor": self.user_json(e["actor"]),
            "label": {"name": e["label"], "color": "ededed"}, "created_at": _iso(e["created_at"])})

    @_route("GET", "/repos/{owner}/{name}/pulls/{number:\\d+}/reviews")
    def list_reviews(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        pr = self._pull(r, number)
        return self._page(call, [rv for rv in r.reviews if rv.pull == pr.number], lambda rv: self.review_json(r, rv))

    @_route("POST", "/repos/{owner}/{name}/pulls/{number:\\d+}/reviews")
    def create_review(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        pr = self._pull(r, number)
        body = call.body if isinstance(call.body, dict) else {}
        states = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED", None: "PENDING"}
        event = body.get("event")
        if event not in states:
            raise _invalid("PullRequestReview", "event")
        text = body.get("body") or ""
        own = call.login.lower() == pr.user.lower()
        if own and event == "APPROVE":
            raise _ApiError(422, "Unprocessable Entity", ["Can not approve your own pull request"])
        if own and event == "REQUEST_CHANGES":
            raise _ApiError(422, "Unprocessable Entity", ["Can not request changes on your own pull request"])
        if event in ("REQUEST_CHANGES", "COMMENT") and not text and not body.get("comments"):
            raise _ApiError(422, "Unprocessable Entity", [f"Body is required when using {event}"])
        review_id = self.gh.add_review(r.full_name, pr.number, author=call.login, state=states[event], body=text,
                                       commit_id=body.get("commit_id") or pr.head_sha)
        for inline in body.get("comments") or ():
            self.gh.add_review_comment(r.full_name, pr.number, inline.get("body") or "", author=call.login,
                                       path=inline.get("path") or "")
        return _Response(200, self.review_json(r, next(rv for rv in r.reviews if rv.id == review_id)))

    @_route("GET", "/repos/{owner}/{name}/pulls/{number:\\d+}/requested_reviewers")
    def list_requested_reviewers(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        pr = self._pull(r, number)
        org = self.gh._orgs.get(r.owner.lower())
        return _Response(200, {"users": [self.user_json(u) for u in pr.requested_reviewers],
                               "teams": [self.team_json(org.teams[t]) for t in pr.requested_teams] if org else []})

    def _reviewers_body(self, call: _Call) -> tuple[list[str], list[str]]:
        body = call.body if isinstance(call.body, dict) else {}
        users, teams = body.get("reviewers") or [], body.get("team_reviewers") or []
        if not isinstance(users, list) or not isinstance(teams, list):
            raise _invalid("PullRequest", "reviewers")
        return users, teams

    @_route("POST", "/repos/{owner}/{name}/pulls/{number:\\d+}/requested_reviewers")
    def request_reviewers(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        pr = self._pull(r, number)
        users, teams = self._reviewers_body(call)
        if any(u.lower() == pr.user.lower() for u in users):
            raise _ApiError(422, "Review cannot be requested from pull request author.")
        org = self.gh._orgs.get(r.owner.lower())
        if (any(self._permission(r, u) is None and not (org and u.lower() in org.members) for u in users)
                or any(not org or t not in org.teams for t in teams)):
            raise _ApiError(422, "Reviews may only be requested from collaborators. One or more of the users or "
                                 f"teams you specified is not a collaborator of the {r.full_name} repository.")
        known = {u.lower() for u in pr.requested_reviewers}
        pr.requested_reviewers += [self.gh._users[u.lower()].login for u in users if u.lower() not in known]
        pr.requested_teams += [t for t in teams if t not in pr.requested_teams]
        pr.updated_at = _now()
        return _Response(201, self.pull_json(r, pr))

    @_route("DELETE", "/repos/{owner}/{name}/pulls/{number:\\d+}/requested_reviewers")
    def remove_requested_reviewers(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        pr = self._pull(r, number)
        users, teams = self._reviewers_body(call)
        gone = {u.lower() for u in users}
        pr.requested_reviewers = [u for u in pr.requested_reviewers if u.lower() not in gone]
        pr.requested_teams = [t for t in pr.requested_teams if t not in teams]
        pr.updated_at = _now()
        return _Response(200, self.pull_json(r, pr))

    @_route("GET", "/repos/{owner}/{name}/pulls/{number:\\d+}/merge")
    def check_merged(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        if not self._pull(r, number).merged:
            raise _not_found()
        return _Response(204)

    @_route("PUT", "/repos/{owner}/{name}/pulls/{number:\\d+}/merge")
    def merge_pull(self, call: _Call, owner: str, name: str, number: str) -> _Response:
        r = self._repo(owner, name)
        pr = self._pull(r, number)
        body = call.body if isinstance(call.body, dict) else {}
        method = body.get("merge_method") or "merge"
        allowed = {"merge": r.allow_merge_commit, "squash": r.allow_squash_merge, "rebase": r.allow_rebase_merge}
        if method not in allowed:
            raise _invalid("PullRequest", "merge_method")
        if pr.state != "open" or pr.draft or pr.mergeable is False:
            raise _ApiError(405, "Pull Request is not mergeable")
        if body.get("sha") and body["sha"] != pr.head_sha:
            raise _ApiError(409, "Head branch was modified. Review and try the merge again.")
        if not allowed[method]:
            kind = {"merge": "Merge commits", "squash": "Squash merges", "rebase": "Rebase merges"}[method]
            raise _ApiError(405, f"{kind} are not allowed on this repository.")
        base_head = r.branches[pr.base_ref]
        old, new = r.commits[pr.base_sha].tree, r.commits[pr.head_sha].tree
        changes = {p: new.get(p) for p in set(old) | set(new) if old.get(p) != new.get(p)}
        parents = [base_head, pr.head_sha] if method == "merge" else [base_head]
        message = body.get("commit_title") or f"{pr.title} (#{pr.number})"
        sha = self.gh.add_commit(r.full_name, parents=parents, files=changes, message=message, author=call.login,
                                 branch=pr.base_ref)
        pr.merged, pr.merged_at, pr.merged_by = True, _now(), call.login
        pr.merge_commit_sha, pr.merge_method = sha, method
        self.gh._update(r, pr, state="closed", actor=call.login)
        return _Response(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


@pytest.fixture
def fake_github():
    """A running FakeGitHub, stopped after the test."""
    with FakeGitHub() as gh:
        yield gh
