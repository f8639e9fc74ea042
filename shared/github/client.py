"""The app's one GitHub client: REST calls, pagination, conditional requests, retries, typed errors.

    client = default_client()                       # per process: GITHUB_API_URL, GITHUB_TOKEN or GITHUB_APP_*
    with client.for_event(delivery_id, installation_id=..., org=..., repo=...) as gh:
        files = gh.list_pull_files("org", "repo", 5)  # every plugin of the event shares what was read
        gh.create_comment("org", "repo", 5, "Hi")
    # on exit: one log line "github requests for delivery <id>: <n> ..." with the count

PyGithub is used for transport and auth only, imported on first request (the webhook's cold start never
pays for it): its `Requester.requestJson` (status, headers, body without raising; `retry=None`, no
throttling) and `Auth.AppAuth` for the App's JWT. REST paths, pagination (`Link`), ETags, retries and the
error mapping are ours, so every request is visible in `EventSession.requests` and counted. Two
behaviours of the Requester remain: it follows a 301 (renamed repository) itself, and on a 202 to a GET it
waits 2 s and asks again (only GitHub's statistics endpoints answer 202; none is used here).

Reads: every GET goes through the per-event memo (same identity, URL and Accept: answered from memory,
no request), then the ETag cache (`If-None-Match`; a 304 costs no rate limit). Writes drop the event's
memoized reads of the same repository that the write can change (`survives_write`: a comment or a label
forgets the issue and PR reads, not the PR's files or the git tree), so a plugin sees what an earlier
plugin changed and still shares what no plugin can change.

Failures (see `errors.py`): 4xx are terminal; a rate limit raises `RateLimited` at once (never sleeps);
GETs are retried on 5xx, timeouts and connection errors after 0.2 s, 0.5 s and 1 s. Writes:

    method                       retried?  why
    create_comment (POST)        no        a retry after a lost answer would post twice:
                                           TransientError(ambiguous=True), the caller checks state first
    create_review (POST)         no        as create_comment
    create_check_run (POST)      no        as create_comment
    merge_pull (PUT)             no        a retry after an applied merge answers 405; ambiguous, Tide re-syncs
    edit_comment, edit_issue     yes       PATCH with the same fields is idempotent
    delete_comment               yes       DELETE is idempotent; 404 (already gone) returns False
    add_labels (POST)            yes       GitHub adds a label that is present as a no-op
    remove_label (DELETE)        yes       404 "Label does not exist" is success (returns False)
    create_repo_label (POST)     yes       a duplicate is refused (422 already_exists → returns False)
    add/remove_assignees, request/unrequest_reviewers
                                 yes       set union / difference
    create_*_reaction (POST)     yes       one reaction per user and content
    create_status (POST)         yes       a repeated status is the same latest state for its context
    installation token (POST)    yes       a second token is harmless
A request that never reached GitHub (connection refused, connect timeout) is retried for any method.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping
from urllib.parse import quote, urlencode, urlsplit

from shared.github.auth import AppAuth, Identity, TokenAuth
from shared.github.errors import (GitHubError, NotFound, TransientError, Unauthorized, ValidationFailed,
                                  error_for_response, parse_body)
from shared.github.etag_cache import CachedResponse, ETagCache, MemoryETagCache, path_prefix

log = logging.getLogger("shared.github")

DEFAULT_API_URL = "https://api.github.com"
ACCEPT = "application/vnd.github+json"
API_VERSION = "2022-11-28"
TIMEOUT = 10.0
BACKOFF = (0.2, 0.5, 1.0)  # sleeps before the 2nd, 3rd and 4th attempt
PER_PAGE = 100
MAX_PAGES = 300  # 30,000 items; GitHub stops PR files at 3,000 and commits at 250
USER_AGENT = "prow-on-azure-functions"
SETTINGS = ("GITHUB_API_URL", "GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY")

_NO_BODY = object()
_UNSET: Any = object()
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class GitHubConfigError(Exception):
    """The GitHub settings are missing or inconsistent."""


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request of a session (retries and token mints included)."""
    method: str
    path: str  # without the API base and the query
    query: str
    status: int | None  # None: no answer (timeout, dropped connection)
    not_modified: bool = False  # a 304: answered from the ETag cache, free of rate limit


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    text: str
    not_modified: bool = False

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


class _TransportFailure(Exception):
    def __init__(self, error: Exception, sent: bool):
        super().__init__(f"{type(error).__name__}: {error}")
        self.sent = sent


def next_link(link_header: str | None) -> str | None:
    """The rel="next" URL of a `Link` header."""
    if not link_header:
        return None
    for part in link_header.split(","):
        m = _LINK_NEXT.search(part)
        if m:
            return m.group(1)
    return None


def _never_sent(error: Exception) -> bool:
    """Whether a requests/urllib3 error happened before the request reached the server."""
    import requests
    from urllib3.exceptions import NewConnectionError
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    seen, todo = set(), [error]
    while todo:
        e = todo.pop()
        if id(e) in seen or len(seen) > 20:
            continue
        seen.add(id(e))
        if isinstance(e, NewConnectionError):
            return True
        todo += [x for x in (*getattr(e, "args", ()), getattr(e, "reason", None), e.__cause__, e.__context__)
                 if isinstance(x, BaseException)]
    return False


def _seg(value: Any) -> str:
    return quote(str(value), safe="")


def _repo_path(org: str, repo: str) -> str:
    return f"/repos/{_seg(org)}/{_seg(repo)}"


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


class GitHubClient:
    """Process-wide settings and caches: base URL, credentials, transport, ETag cache, installation ids,
    bot logins. Calls are made through an `EventSession` (`for_event`)."""

    def __init__(self, *, base_url: str = DEFAULT_API_URL, token: str | None = None,
                 app_id: int | str | None = None, private_key: str | None = None,
                 cache: ETagCache | None = None, timeout: float = TIMEOUT,
                 backoff: tuple[float, ...] = BACKOFF, user_agent: str = USER_AGENT):
        if app_id and private_key:
            self.auth: TokenAuth | AppAuth = AppAuth(app_id, private_key)
        elif token:
            self.auth = TokenAuth(token)
        else:
            raise GitHubConfigError("set GITHUB_TOKEN, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY")
        self.base_url = base_url.rstrip("/")
        self._base_path = urlsplit(self.base_url).path.rstrip("/")
        self.cache = cache
        self.timeout = timeout
        self.backoff = tuple(backoff)
        self.user_agent = user_agent
        self._requester = None
        self._lock = threading.Lock()
        # per process, shared by sessions (single dict reads and writes are atomic)
        self.installations: dict[tuple[str, str | None], int] = {}  # (org, repo or None) -> installation id
        self.bot_logins: dict[str, str] = {}  # auth scope -> login

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, cache: ETagCache | None = None,
                 **options: Any) -> GitHubClient:
        """From the app settings; the ETag cache is the app's storage (PROW_STORAGE) when it is set."""
        env = os.environ if env is None else env
        key = env.get("GITHUB_APP_PRIVATE_KEY", "").strip()
        if key and "\n" not in key and "\\n" in key:
            key = key.replace("\\n", "\n")  # a one-line app setting
        if cache is None:
            cache = _storage_cache(env)
        return cls(base_url=env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL,
                   token=env.get("GITHUB_TOKEN", "").strip() or None,
                   app_id=env.get("GITHUB_APP_ID", "").strip() or None, private_key=key or None,
                   cache=cache, **options)

    def for_event(self, delivery_id: str, installation_id: int | None = None, org: str | None = None,
                  repo: str | None = None) -> EventSession:
        """A session for one event (or one timer run): memoized reads, counted requests, one log line."""
        return EventSession(self, delivery_id, installation_id=installation_id, org=org, repo=repo)

    # -- internals shared by sessions

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        query = urlencode([(k, v) for k, v in (params or {}).items() if v is not None])
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def relative(self, url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        path = parts.path
        if self._base_path and path.startswith(self._base_path):
            path = path[len(self._base_path):] or "/"
        return path, parts.query

    def requester(self):
        if self._requester is None:
            with self._lock:
                if self._requester is None:
                    from github.Requester import Requester
                    self._requester = Requester(
                        auth=None, base_url=self.base_url, timeout=self.timeout, user_agent=self.user_agent,
                        per_page=PER_PAGE, verify=True, retry=None, pool_size=None,
                        seconds_between_requests=None, seconds_between_writes=None, lazy=True)
        return self._requester


def _storage_cache(env: Mapping[str, str]) -> ETagCache:
    from shared.storage import StorageClients, StorageConfigError, StorageSettings, default_clients
    from shared.github.etag_cache import StorageETagCache
    try:
        clients = default_clients() if env is os.environ else StorageClients(StorageSettings.from_env(env))
    except StorageConfigError:
        log.info("github: PROW_STORAGE is not set; ETags are cached in memory only")
        return MemoryETagCache()
    return StorageETagCache(clients)


class EventSession:
    """The GitHub calls of one event: typed methods, per-event memo, request log and count."""

    def __init__(self, client: GitHubClient, delivery_id: str, *, installation_id: int | None = None,
                 org: str | None = None, repo: str | None = None):
        self.client = client
        self.delivery_id = delivery_id
        self.installation_id = int(installation_id) if installation_id else None
        self.org, self.repo = org, repo
        self.requests: list[RequestRecord] = []
        self.memo_hits = 0
        self.rate_limit_remaining: int | None = None
        self._memo: dict[tuple[str, str, str], Response] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- lifecycle and accounting

    @property
    def request_count(self) -> int:
        return len(self.requests)

    @property
    def not_modified_count(self) -> int:
        return sum(1 for r in self.requests if r.not_modified)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        log.info("github requests for delivery %s: %d (%d not modified, %d memoized reads, "
                 "rate limit remaining %s)", self.delivery_id, self.request_count, self.not_modified_count,
                 self.memo_hits, "unknown" if self.rate_limit_remaining is None else self.rate_limit_remaining)

    def __enter__(self) -> EventSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- identity

    def _identity(self) -> Identity:
        auth = self.client.auth
        if isinstance(auth, TokenAuth):
            return auth.identity()
        if self.installation_id is None:
            self.installation_id = self._lookup_installation()
        return auth.installation_identity(self.installation_id, self._mint)

    def _mint(self, app: Identity, installation_id: int) -> tuple[str, datetime]:
        data = self._call("POST", self.client.url(f"/app/installations/{installation_id}/access_tokens"),
                          identity=app, retry=True).json()
        return data["token"], _parse_time(data["expires_at"])

    def _lookup_installation(self) -> int:
        if not self.org:
            raise GitHubConfigError("GitHub App mode needs the event's installation id, or its org (and repo)")
        key = (self.org.lower(), self.repo.lower() if self.repo else None)
        known = self.client.installations.get(key)
        if known is not None:
            return known
        app = self.client.auth.app_identity()
        if self.repo:
            data = self._get(self.client.url(f"{_repo_path(self.org, self.repo)}/installation"), identity=app).json()
        else:
            try:
                data = self._get(self.client.url(f"/orgs/{_seg(self.org)}/installation"), identity=app).json()
            except NotFound:
                data = self._get(self.client.url(f"/users/{_seg(self.org)}/installation"), identity=app).json()
        self.client.installations[key] = int(data["id"])
        return int(data["id"])

    # -- requests

    def _send(self, method: str, url: str, identity: Identity, *, body: Any, accept: str,
              headers: Mapping[str, str] | None) -> Response:
        """One HTTP request, recorded. A transport failure raises _TransportFailure."""
        import requests
        request_headers = {"Accept": accept, "Authorization": identity.authorization,
                           "X-GitHub-Api-Version": API_VERSION, **(headers or {})}
        path, query = self.client.relative(url)
        try:
            status, response_headers, text = self.client.requester().requestJson(
                method, url, headers=request_headers, input=None if body is _NO_BODY else body)
        except requests.exceptions.RequestException as e:
            with self._lock:
                self.requests.append(RequestRecord(method, path, query, None))
            raise _TransportFailure(e, sent=not _never_sent(e)) from e
        log.debug("github %s %s%s -> %s (delivery %s)", method, path, f"?{query}" if query else "", status,
                  self.delivery_id)
        with self._lock:
            self.requests.append(RequestRecord(method, path, query, status, status == 304))
            remaining = response_headers.get("x-ratelimit-remaining")
            if remaining is not None and remaining.isdigit():
                self.rate_limit_remaining = int(remaining)
        return Response(status, dict(response_headers), text)

    def _call(self, method: str, url: str, *, identity: Identity | None = None, body: Any = _NO_BODY,
              accept: str = ACCEPT, headers: Mapping[str, str] | None = None, expect: tuple[int, ...] = (),
              retry: bool | None = None) -> Response:
        """A request with the retry policy; answers a 2xx, 3xx or an `expect`ed status, raises otherwise."""
        retry = method == "GET" if retry is None else retry
        identity = identity or self._identity()
        path, _ = self.client.relative(url)
        attempts = 1 + len(self.client.backoff)
        refreshed = False
        try:
            attempt = 0
            while True:
                attempt += 1
                try:
                    response = self._send(method, url, identity, body=body, accept=accept, headers=headers)
                except _TransportFailure as failure:
                    error: GitHubError = TransientError(
                        str(failure), ambiguous=failure.sent and method != "GET", method=method, path=path)
                    may_retry = retry or not failure.sent
                else:
                    if response.status in expect:
                        return response
                    error = error_for_response(response.status, response.headers, parse_body(response.text),
                                               method=method, path=path)
                    if error is None:
                        return response
                    if isinstance(error, Unauthorized) and identity.installation_id is not None and not refreshed:
                        self.client.auth.forget(identity.installation_id)  # revoked or expired early
                        identity, refreshed = self._identity(), True
                        attempt -= 1
                        continue
                    may_retry = retry and isinstance(error, TransientError)
                if not may_retry or attempt >= attempts:
                    if isinstance(error, TransientError):
                        error.attempts = attempt
                    raise error
                time.sleep(self.client.backoff[attempt - 1])
        finally:
            if method != "GET":
                self._forget_reads(url)

    def _forget_reads(self, url: str) -> None:
        prefix = path_prefix(url)
        write = urlsplit(url).path
        with self._lock:
            for key in [k for k in self._memo if path_prefix(k[1]) == prefix and not survives_write(k[1], write)]:
                del self._memo[key]

    def _get(self, url: str, *, identity: Identity | None = None, accept: str = ACCEPT,
             expect: tuple[int, ...] = (), immutable: bool = False) -> Response:
        """A GET through the event memo and the ETag cache. A 404 is memoized too (plugins probe for the
        same missing OWNERS files), and raised as NotFound unless the caller `expect`s it.
        `immutable`: the URL names content by its hash (a git blob), so a cached answer is used
        without asking GitHub again."""
        identity = identity or self._identity()
        key = (identity.scope, url, accept)
        with self._lock:
            response = self._memo.get(key)
            if response is not None:
                self.memo_hits += 1
        if response is None:
            cache = self.client.cache
            cached = cache.get(identity.scope, url, accept) if cache is not None else None
            if immutable and cached is not None:
                response = Response(cached.status, {}, cached.body.decode("utf-8"), not_modified=True)
                with self._lock:
                    self._memo[key] = response
                return response
            response = self._call("GET", url, identity=identity, accept=accept,
                                  headers={"If-None-Match": cached.etag} if cached else None,
                                  expect=(*expect, 404, *((304,) if cached else ())))
            if response.status == 304 and cached is not None:
                response = Response(cached.status, {"link": cached.link} if cached.link else {},
                                    cached.body.decode("utf-8"), not_modified=True)
            elif 200 <= response.status < 300 and cache is not None and response.headers.get("etag"):
                cache.put(identity.scope, url, accept,
                          CachedResponse(response.headers["etag"], response.status, response.text.encode("utf-8"),
                                         response.headers.get("link")))
            if response.status < 300 or response.status == 404:
                with self._lock:
                    self._memo[key] = response
        if response.status < 400 or response.status in expect:
            return response
        raise error_for_response(response.status, response.headers, parse_body(response.text),
                                 method="GET", path=self.client.relative(url)[0])

    def _pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        url: str | None = self.client.url(path, {**(params or {}), "per_page": PER_PAGE})
        seen: set[str] = set()
        while url and url not in seen and len(seen) < MAX_PAGES:
            seen.add(url)
            response = self._get(url)
            yield response.json()
            url = next_link(response.headers.get("link"))

    def _list(self, path: str, params: Mapping[str, Any] | None = None) -> list:
        items: list = []
        for page in self._pages(path, params):
            items.extend(page or [])
        return items

    def _read(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._get(self.client.url(path, params)).json()

    def _write(self, method: str, path: str, body: Any = _NO_BODY, *, retry: bool,
               expect: tuple[int, ...] = ()) -> Response:
        return self._call(method, self.client.url(path), body=body, retry=retry, expect=expect)

    # -- identity of the bot

    def bot_login(self) -> str:
        """The bot's login: the token's user, or `<app slug>[bot]` for a GitHub App."""
        auth = self.client.auth
        scope = auth.scope if isinstance(auth, AppAuth) else auth.identity().scope
        login = self.client.bot_logins.get(scope)
        if login is None:
            if isinstance(auth, AppAuth):
                login = self._get(self.client.url("/app"), identity=auth.app_identity()).json()["slug"] + "[bot]"
            else:
                login = self._read("/user")["login"]
            self.client.bot_logins[scope] = login
        return login

    # -- repositories

    def get_repo(self, org: str, repo: str) -> dict:
        return self._read(_repo_path(org, repo))

    # -- GraphQL

    def graphql_url(self) -> str:
        """GitHub's GraphQL endpoint: /graphql beside the REST root (GitHub Enterprise: /api/graphql)."""
        base = self.client.base_url
        return base[: -len("/v3")] + "/graphql" if base.endswith("/api/v3") else base + "/graphql"

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None, *, mutation: bool = False) -> dict:
        """One GraphQL request; its `data`. GitHub answers errors with 200 and an `errors` list: raised as
        GitHubError (ValidationFailed for NOT_FOUND/UNPROCESSABLE-like answers is not distinguished).
        A mutation is not retried after it may have reached GitHub (as create_comment)."""
        response = self._call("POST", self.graphql_url(), body={"query": query, "variables": dict(variables or {})},
                              retry=not mutation)
        data = response.json() or {}
        if data.get("errors"):
            messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in data["errors"])
            raise GitHubError(f"GraphQL: {messages}", status=response.status, method="POST", path="/graphql")
        return data.get("data") or {}

    # -- issues and pull requests

    def get_issue(self, org: str, repo: str, number: int) -> dict:
        return self._read(f"{_repo_path(org, repo)}/issues/{int(number)}")

    def get_pull(self, org: str, repo: str, number: int) -> dict:
        return self._read(f"{_repo_path(org, repo)}/pulls/{int(number)}")

    def list_open_pulls(self, org: str, repo: str) -> list[dict]:
        """Every open pull request of a repository (all pages)."""
        return self._list(f"{_repo_path(org, repo)}/pulls", {"state": "open", "per_page": 100})

    def list_pull_files(self, org: str, repo: str, number: int) -> list[dict]:
        """The PR's changed files (GitHub lists at most 3,000)."""
        return self._list(f"{_repo_path(org, repo)}/pulls/{int(number)}/files")

    def list_pull_commits(self, org: str, repo: str, number: int) -> list[dict]:
        return self._list(f"{_repo_path(org, repo)}/pulls/{int(number)}/commits")

    def list_reviews(self, org: str, repo: str, number: int) -> list[dict]:
        return self._list(f"{_repo_path(org, repo)}/pulls/{int(number)}/reviews")

    def create_review(self, org: str, repo: str, number: int, *, body: str, event: str = "COMMENT",
                      commit_id: str | None = None, comments: list[dict] | tuple[dict, ...] = ()) -> dict:
        """Submit a review (event APPROVE, REQUEST_CHANGES or COMMENT) with inline `comments`
        ({path, body, position}). Not retried once it may have reached GitHub, like create_comment."""
        fields: dict[str, Any] = {"body": body, "event": event, "comments": list(comments)}
        if commit_id:
            fields["commit_id"] = commit_id
        return self._write("POST", f"{_repo_path(org, repo)}/pulls/{int(number)}/reviews", fields, retry=False).json()

    def list_review_comments(self, org: str, repo: str, number: int) -> list[dict]:
        """The inline comments on a pull request's diff."""
        return self._list(f"{_repo_path(org, repo)}/pulls/{int(number)}/comments")

    def list_issue_events(self, org: str, repo: str, number: int) -> list[dict]:
        """An issue's (or PR's) events, oldest first: labeled, unlabeled, closed, ... with `actor`."""
        return self._list(f"{_repo_path(org, repo)}/issues/{int(number)}/events")

    def edit_issue(self, org: str, repo: str, number: int, *, title: str | None = None,
                   body: str | None = None, state: str | None = None, state_reason: str | None = None,
                   milestone: int | None = _UNSET) -> dict:
        """Change an issue's (or a PR's) title, body, state or milestone (`milestone=None` clears it)."""
        fields: dict[str, Any] = {k: v for k, v in (("title", title), ("body", body), ("state", state),
                                                    ("state_reason", state_reason)) if v is not None}
        if milestone is not _UNSET:
            fields["milestone"] = milestone
        return self._write("PATCH", f"{_repo_path(org, repo)}/issues/{int(number)}", fields, retry=True).json()

    def close_issue(self, org: str, repo: str, number: int) -> dict:
        return self.edit_issue(org, repo, number, state="closed")

    def reopen_issue(self, org: str, repo: str, number: int) -> dict:
        return self.edit_issue(org, repo, number, state="open")

    def merge_pull(self, org: str, repo: str, number: int, *, merge_method: str = "merge",
                   sha: str | None = None, commit_title: str | None = None,
                   commit_message: str | None = None) -> dict:
        """Merge; NotMergeable (405) or Conflict (409: the head moved from `sha`) when GitHub refuses.
        Not retried: a lost answer raises TransientError(ambiguous=True); check `merged` before retrying."""
        body = {k: v for k, v in (("merge_method", merge_method), ("sha", sha), ("commit_title", commit_title),
                                  ("commit_message", commit_message)) if v is not None}
        return self._write("PUT", f"{_repo_path(org, repo)}/pulls/{int(number)}/merge", body, retry=False).json()

    # -- comments

    def list_issue_comments(self, org: str, repo: str, number: int) -> list[dict]:
        return self._list(f"{_repo_path(org, repo)}/issues/{int(number)}/comments")

    def create_comment(self, org: str, repo: str, number: int, body: str) -> dict:
        """Post a comment. Never retried after it may have reached GitHub (see the module docstring)."""
        return self._write("POST", f"{_repo_path(org, repo)}/issues/{int(number)}/comments", {"body": body},
                           retry=False).json()

    def edit_comment(self, org: str, repo: str, comment_id: int, body: str) -> dict:
        return self._write("PATCH", f"{_repo_path(org, repo)}/issues/comments/{int(comment_id)}",
                           {"body": body}, retry=True).json()

    def delete_comment(self, org: str, repo: str, comment_id: int) -> bool:
        """Delete a comment; False when it was already gone."""
        response = self._write("DELETE", f"{_repo_path(org, repo)}/issues/comments/{int(comment_id)}",
                               retry=True, expect=(404,))
        return response.status != 404

    # -- reactions

    def create_issue_reaction(self, org: str, repo: str, number: int, content: str) -> dict:
        """React to an issue or PR (content: +1, -1, laugh, confused, heart, hooray, rocket, eyes). The
        same reaction twice by the bot is one reaction (GitHub answers the existing one)."""
        return self._write("POST", f"{_repo_path(org, repo)}/issues/{int(number)}/reactions", {"content": content},
                           retry=True).json()

    def create_comment_reaction(self, org: str, repo: str, comment_id: int, content: str) -> dict:
        return self._write("POST", f"{_repo_path(org, repo)}/issues/comments/{int(comment_id)}/reactions",
                           {"content": content}, retry=True).json()

    # -- labels

    def get_issue_labels(self, org: str, repo: str, number: int) -> list[dict]:
        return self._list(f"{_repo_path(org, repo)}/issues/{int(number)}/labels")

    def add_labels(self, org: str, repo: str, number: int, labels: list[str] | tuple[str, ...]) -> list[dict]:
        """Add labels (present ones are kept); the issue's labels afterwards."""
        return self._write("POST", f"{_repo_path(org, repo)}/issues/{int(number)}/labels",
                           {"labels": list(labels)}, retry=True).json()

    def remove_label(self, org: str, repo: str, number: int, label: str) -> bool:
        """Remove a label; False when the issue did not have it (GitHub's 404 "Label does not exist")."""
        response = self._write("DELETE", f"{_repo_path(org, repo)}/issues/{int(number)}/labels/{_seg(label)}",
                               retry=True, expect=(404,))
        if response.status != 404:
            return True
        body = parse_body(response.text)
        if isinstance(body, dict) and body.get("message") == "Label does not exist":
            return False
        raise error_for_response(404, response.headers, body, method="DELETE",
                                 path=f"{_repo_path(org, repo)}/issues/{int(number)}/labels/{label}")

    def get_repo_labels(self, org: str, repo: str) -> list[dict]:
        return self._list(f"{_repo_path(org, repo)}/labels")

    def create_repo_label(self, org: str, repo: str, name: str, color: str = "ededed",
                          description: str = "") -> bool:
        """Create a repository label; False when it exists already (possibly from a retried attempt)."""
        try:
            self._write("POST", f"{_repo_path(org, repo)}/labels",
                        {"name": name, "color": color.lstrip("#"), "description": description}, retry=True)
        except ValidationFailed as e:
            if e.has_code("already_exists"):
                return False
            raise
        return True

    # -- assignees and reviewers

    def add_assignees(self, org: str, repo: str, number: int, logins: list[str] | tuple[str, ...]) -> dict:
        """Assign users; the issue afterwards. GitHub silently skips users it cannot assign: compare
        `assignees` in the answer with what was asked."""
        return self._write("POST", f"{_repo_path(org, repo)}/issues/{int(number)}/assignees",
                           {"assignees": list(logins)}, retry=True).json()

    def remove_assignees(self, org: str, repo: str, number: int, logins: list[str] | tuple[str, ...]) -> dict:
        return self._write("DELETE", f"{_repo_path(org, repo)}/issues/{int(number)}/assignees",
                           {"assignees": list(logins)}, retry=True).json()

    def request_reviewers(self, org: str, repo: str, number: int, logins: list[str] | tuple[str, ...] = (),
                          team_slugs: list[str] | tuple[str, ...] = ()) -> dict:
        """Request reviews; the PR afterwards. ValidationFailed (422) when one of them is not a collaborator."""
        return self._write("POST", f"{_repo_path(org, repo)}/pulls/{int(number)}/requested_reviewers",
                           {"reviewers": list(logins), "team_reviewers": list(team_slugs)}, retry=True).json()

    def unrequest_reviewers(self, org: str, repo: str, number: int, logins: list[str] | tuple[str, ...] = (),
                            team_slugs: list[str] | tuple[str, ...] = ()) -> dict:
        return self._write("DELETE", f"{_repo_path(org, repo)}/pulls/{int(number)}/requested_reviewers",
                           {"reviewers": list(logins), "team_reviewers": list(team_slugs)}, retry=True).json()

    # -- people

    def is_member(self, org: str, user: str) -> bool:
        """Org membership as Prow checks it: the org itself counts (personal repos); 204 yes, 404 no.
        A 302 means the token cannot see private membership: GitHub points at the public-members URL,
        which is followed (as Go's HTTP client under Prow does), so private members read as non-members."""
        if org.lower() == user.lower():
            return True
        response = self._get(self.client.url(f"/orgs/{_seg(org)}/members/{_seg(user)}"), expect=(302, 404))
        if response.status == 302:
            location = response.headers.get("location") or ""
            if urlsplit(location).netloc not in ("", urlsplit(self.client.base_url).netloc):
                raise GitHubError(f"membership check redirected off the API host: {location}", status=302,
                                  method="GET", path=f"/orgs/{org}/members/{user}")
            if not urlsplit(location).netloc:
                location = self.client.url(self.client.relative(location)[0])
            response = self._get(location, expect=(404,))
        return 200 <= response.status < 300

    def is_collaborator(self, org: str, repo: str, user: str) -> bool:
        response = self._get(self.client.url(f"{_repo_path(org, repo)}/collaborators/{_seg(user)}"), expect=(404,))
        return 200 <= response.status < 300

    def get_permission(self, org: str, repo: str, user: str) -> str:
        """The user's permission as Prow reads it: admin, write, read or none (GitHub's legacy `permission`)."""
        return self._read(f"{_repo_path(org, repo)}/collaborators/{_seg(user)}/permission")["permission"]

    def list_teams(self, org: str) -> list[dict]:
        """The org's teams the token can see: {name, slug, id, ...}."""
        return self._list(f"/orgs/{_seg(org)}/teams")

    def list_team_members(self, org: str, team_slug: str, role: str = "all") -> list[dict]:
        return self._list(f"/orgs/{_seg(org)}/teams/{_seg(team_slug)}/members", {"role": role})

    def team_has_member(self, org: str, team_slug: str, user: str) -> bool:
        """Prow's TeamBySlugHasMember, in one request whatever the team's size: an active membership
        (a pending invitation is not one). GitHub answers 404 for a missing team or user: not a member."""
        response = self._get(self.client.url(f"/orgs/{_seg(org)}/teams/{_seg(team_slug)}/memberships/{_seg(user)}"),
                             expect=(404,))
        return 200 <= response.status < 300 and (response.json() or {}).get("state") == "active"

    # -- contents and refs

    def get_file(self, org: str, repo: str, path: str, ref: str | None = None) -> bytes | None:
        """A file's bytes at `ref` (default branch when None); None when there is no file at that path."""
        try:
            data = self._read(f"{_repo_path(org, repo)}/contents/{quote(path.strip('/'), safe='/')}",
                              {"ref": ref})
        except NotFound:
            return None
        if not isinstance(data, dict) or data.get("type", "file") != "file":
            return None
        if data.get("encoding") != "base64":
            raise GitHubError(f"{path}: the contents API does not return this file "
                              f"(encoding {data.get('encoding')!r}; files over 1 MB are not supported)",
                              method="GET", path=f"{_repo_path(org, repo)}/contents/{path}")
        return base64.b64decode(data.get("content") or "")

    def get_tree(self, org: str, repo: str, ref: str, *, recursive: bool = False) -> dict:
        """A git tree by sha or ref name (a branch answers its head commit's tree): `sha`, `tree`
        entries ({path, mode, type: blob|tree|commit, sha, size}), `truncated` (GitHub stops a
        recursive listing at 100,000 entries or 7 MB)."""
        return self._read(f"{_repo_path(org, repo)}/git/trees/{quote(ref, safe='/')}",
                          {"recursive": 1 if recursive else None})

    def get_blob(self, org: str, repo: str, sha: str) -> bytes:
        """A git blob's bytes by its sha. Content-addressed, so a cached copy is used without a request."""
        data = self._get(self.client.url(f"{_repo_path(org, repo)}/git/blobs/{_seg(sha)}"), immutable=True).json()
        if data.get("encoding") != "base64":
            return (data.get("content") or "").encode("utf-8")
        return base64.b64decode(data.get("content") or "")

    def get_blobs(self, org: str, repo: str, shas: list[str] | tuple[str, ...]) -> dict[str, bytes]:
        """Many git blobs by sha: those cached (or read earlier in the event) without a request, the rest
        with one GraphQL request per 100, each then cached as `get_blob` would cache it. A blob GraphQL
        cannot give as text (binary, truncated) is read with `get_blob`."""
        out: dict[str, bytes] = {}
        identity = self._identity()
        cache = self.client.cache
        missing = []
        for sha in dict.fromkeys(shas):
            url = self.client.url(f"{_repo_path(org, repo)}/git/blobs/{_seg(sha)}")
            with self._lock:
                known = (identity.scope, url, ACCEPT) in self._memo
            if known or (cache is not None and cache.get(identity.scope, url, ACCEPT) is not None):
                out[sha] = self.get_blob(org, repo, sha)
            else:
                missing.append(sha)
        for start in range(0, len(missing), 100):
            chunk = missing[start:start + 100]
            fields = " ".join(f'b{i}: object(oid: "{sha}") {{ ... on Blob {{ text isBinary isTruncated }} }}'
                              for i, sha in enumerate(chunk))
            data = self.graphql(f"query($owner: String!, $name: String!) {{ repository(owner: $owner, name: $name) "
                                f"{{ {fields} }} }}", {"owner": org, "name": repo})
            found = data.get("repository") or {}
            for i, sha in enumerate(chunk):
                blob = found.get(f"b{i}")
                if not blob or blob.get("isBinary") or blob.get("isTruncated") or blob.get("text") is None:
                    out[sha] = self.get_blob(org, repo, sha)
                    continue
                content = blob["text"].encode("utf-8")
                self._remember(identity, self.client.url(f"{_repo_path(org, repo)}/git/blobs/{_seg(sha)}"), json.dumps(
                    {"sha": sha, "content": base64.b64encode(content).decode(), "encoding": "base64"}), sha)
                out[sha] = content
        return out

    def _remember(self, identity: Identity, url: str, text: str, etag: str) -> None:
        """Keep a body read another way (GraphQL) as the GET of `url` would have been kept."""
        with self._lock:
            self._memo[(identity.scope, url, ACCEPT)] = Response(200, {}, text)
        if self.client.cache is not None:
            self.client.cache.put(identity.scope, url, ACCEPT, CachedResponse(f'"{etag}"', 200, text.encode("utf-8")))

    def list_collaborators(self, org: str, repo: str) -> list[dict]:
        """Everyone with access to the repository (direct, through teams and as org owners)."""
        return self._list(f"{_repo_path(org, repo)}/collaborators")

    def get_ref_sha(self, org: str, repo: str, branch: str) -> str:
        return self._read(f"{_repo_path(org, repo)}/git/ref/heads/{quote(branch, safe='/')}")["object"]["sha"]

    def get_branch_protection(self, org: str, repo: str, branch: str) -> dict | None:
        """A branch's protection (`required_status_checks.contexts`, ...), None when the branch is not
        protected. GitHub also answers 404 to a token that may not read protection: that raises NotFound,
        as Prow's client makes it an error."""
        path = f"{_repo_path(org, repo)}/branches/{quote(branch, safe='/')}/protection"
        response = self._get(self.client.url(path), expect=(404,))
        body = parse_body(response.text)
        if response.status != 404:
            return body
        if isinstance(body, dict) and body.get("message") == "Branch not protected":
            return None
        raise error_for_response(404, response.headers, body, method="GET", path=path)

    # -- statuses

    def create_status(self, org: str, repo: str, sha: str, *, state: str, context: str,
                      description: str = "", target_url: str | None = None) -> dict:
        body = {"state": state, "context": context, "description": description}
        if target_url:
            body["target_url"] = target_url
        return self._write("POST", f"{_repo_path(org, repo)}/statuses/{_seg(sha)}", body, retry=True).json()

    def get_combined_status(self, org: str, repo: str, ref: str) -> dict:
        """The combined state and the latest status per context (all pages merged)."""
        combined: dict | None = None
        for page in self._pages(f"{_repo_path(org, repo)}/commits/{quote(ref, safe='/')}/status"):
            if combined is None:
                combined = page
            else:
                combined["statuses"].extend(page.get("statuses") or [])
        return combined or {}

    def list_statuses(self, org: str, repo: str, ref: str) -> list[dict]:
        """Every status of a ref, newest first."""
        return self._list(f"{_repo_path(org, repo)}/commits/{quote(ref, safe='/')}/statuses")

    # -- check runs (GitHub lets only Apps create them)

    def uses_app_auth(self) -> bool:
        return isinstance(self.client.auth, AppAuth)

    def list_check_runs(self, org: str, repo: str, ref: str) -> list[dict]:
        """Every check run of a ref (all pages)."""
        runs: list[dict] = []
        for page in self._pages(f"{_repo_path(org, repo)}/commits/{quote(ref, safe='/')}/check-runs"):
            runs.extend((page or {}).get("check_runs") or [])
        return runs

    def create_check_run(self, org: str, repo: str, *, name: str, head_sha: str, status: str = "completed",
                         conclusion: str | None = None, output: Mapping[str, Any] | None = None) -> dict:
        """Create a check run. Not retried once it may have reached GitHub (a second would be created)."""
        body: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": status}
        if conclusion:
            body["conclusion"] = conclusion
        if output:
            body["output"] = dict(output)
        return self._write("POST", f"{_repo_path(org, repo)}/check-runs", body, retry=False).json()

    # -- GitHub Actions workflow runs

    def list_workflow_runs(self, org: str, repo: str, *, branch: str, head_sha: str | None = None,
                           status: str | None = None, event: str | None = None) -> list[dict]:
        """The workflow runs of a head branch (all pages), narrowed by head commit, status
        (`action_required`, `failure`, ...) and triggering event when given."""
        params = {"branch": branch}
        params.update({k: v for k, v in (("head_sha", head_sha), ("status", status), ("event", event)) if v})
        runs: list[dict] = []
        for page in self._pages(f"{_repo_path(org, repo)}/actions/runs", params):
            runs.extend((page or {}).get("workflow_runs") or [])
        return runs

    def approve_workflow_run(self, org: str, repo: str, run_id: int) -> None:
        """Approve a fork PR's run that waits for approval (404: it does not wait, or is gone)."""
        self._write("POST", f"{_repo_path(org, repo)}/actions/runs/{int(run_id)}/approve", {}, retry=True)

    def rerun_failed_workflow_jobs(self, org: str, repo: str, run_id: int) -> None:
        """Re-run the failed jobs of a completed run."""
        self._write("POST", f"{_repo_path(org, repo)}/actions/runs/{int(run_id)}/rerun-failed-jobs", {},
                    retry=True)

    # -- milestones

    def list_milestones(self, org: str, repo: str, state: str = "open") -> list[dict]:
        return self._list(f"{_repo_path(org, repo)}/milestones", {"state": state})


# Reads that a write of ours to the same repository cannot change: content-addressed git objects, and
# what only a push moves (a PR's files and commits, trees and files at a ref) unless the write moves refs.
_CONTENT_ADDRESSED = re.compile(r"/git/(blobs|trees|commits)/[0-9a-f]{40}$")
_REF_BOUND = re.compile(r"/(pulls/\d+/(files|commits)|git/trees/[^/]+|git/refs?/.+|branches(/.+)?|contents(/.*)?)$")
_MOVES_REFS = re.compile(r"/(pulls/\d+/(merge|update-branch)|merges|git/.+|contents/.+)$")


def survives_write(read_url: str, write_path: str) -> bool:
    """Whether an event's memoized read stays true after one of its writes to the same repository.
    A comment, label or status changes the issue and PR reads, never the PR's files or the OWNERS tree,
    so plugins after it are still answered from memory; a merge or a push through the API forgets all."""
    read = urlsplit(read_url).path.lower()
    if _CONTENT_ADDRESSED.search(read):
        return True
    return bool(_REF_BOUND.search(read)) and not _MOVES_REFS.search(write_path.lower())


_default: GitHubClient | None = None
_default_key: tuple[str, ...] | None = None
_default_lock = threading.Lock()


def default_client() -> GitHubClient:
    """The process-wide client for the current settings (rebuilt when they change)."""
    global _default, _default_key
    key = tuple(os.environ.get(name, "") for name in (*SETTINGS, "PROW_STORAGE"))
    with _default_lock:
        if _default is None or key != _default_key:
            _default, _default_key = GitHubClient.from_env(), key
        return _default
