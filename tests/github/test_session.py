"""Per-event sessions: shared reads, request counting, the log line; configuration and lazy imports."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.github import GitHubClient, GitHubConfigError, MemoryETagCache, StorageETagCache, default_client
from tests.github.conftest import REPO

ROOT = Path(__file__).resolve().parents[2]


def test_plugins_of_one_event_share_what_was_read(gh, session):
    """Prow reads a new PR's files six times and its labels four times per event; we ask once each."""
    n = gh.add_pull(REPO, files=[f"f{i}" for i in range(150)], labels=["lgtm"])
    for _ in range(6):
        assert len(session.list_pull_files("org", "repo", n)) == 150
    for _ in range(4):
        assert [lb["name"] for lb in session.get_issue_labels("org", "repo", n)] == ["lgtm"]
    assert gh.count("GET", f"/repos/org/repo/pulls/{n}/files") == 2  # two pages, once
    assert gh.count("GET", f"/repos/org/repo/issues/{n}/labels") == 1
    assert session.request_count == 3 and session.memo_hits == 5 * 2 + 3


def test_a_comment_forgets_the_issue_reads_but_not_the_files_or_the_tree(gh, session):
    """Plugin after plugin on one event: what a comment or label can change is read again, the rest is not."""
    n = gh.add_pull(REPO, files=["a.go"], labels=["lgtm"])
    session.list_pull_files("org", "repo", n)
    session.get_issue_labels("org", "repo", n)
    session.get_tree("org", "repo", "main")
    session.create_comment("org", "repo", n, "hi")
    session.add_labels("org", "repo", n, ["approved"])
    session.list_pull_files("org", "repo", n)
    session.get_tree("org", "repo", "main")
    assert {lb["name"] for lb in session.get_issue_labels("org", "repo", n)} == {"lgtm", "approved"}
    assert gh.count("GET", f"/repos/org/repo/pulls/{n}/files") == 1
    assert gh.count("GET", "/repos/org/repo/git/trees/main") == 1
    assert gh.count("GET", f"/repos/org/repo/issues/{n}/labels") == 2


def test_a_merge_forgets_every_read_of_the_repository(gh, session):
    n = gh.add_pull(REPO, files=["a.go"])
    session.get_tree("org", "repo", "main")
    session.list_pull_files("org", "repo", n)
    session.merge_pull("org", "repo", n)
    session.get_tree("org", "repo", "main")
    session.list_pull_files("org", "repo", n)
    assert gh.count("GET", "/repos/org/repo/git/trees/main") == 2
    assert gh.count("GET", f"/repos/org/repo/pulls/{n}/files") == 2


def test_memoized_results_are_fresh_objects(gh, session):
    n = gh.add_issue(REPO, labels=["lgtm"])
    session.get_issue_labels("org", "repo", n).append({"name": "mutated"})
    assert [lb["name"] for lb in session.get_issue_labels("org", "repo", n)] == ["lgtm"]


def test_missing_files_are_remembered_for_the_event(gh, session):
    for _ in range(3):
        assert session.get_file("org", "repo", "pkg/OWNERS", "main") is None
    assert gh.count("GET", "/repos/org/repo/contents/pkg/OWNERS") == 1


def test_requests_are_counted_and_logged_with_the_delivery_id(gh, client, caplog):
    n = gh.add_issue(REPO)
    caplog.set_level(logging.INFO, logger="shared.github")
    with client.for_event("72d3162e-cc78-11e3-81ab-4c9367dc0958") as s:
        s.get_issue("org", "repo", n)
        s.get_issue("org", "repo", n)
        s.create_comment("org", "repo", n, "hi")
        s.add_labels("org", "repo", n, ["lgtm"])
    assert s.request_count == 3 and s.memo_hits == 1
    assert [(r.method, r.path, r.status, r.not_modified) for r in s.requests] == [
        ("GET", f"/repos/org/repo/issues/{n}", 200, False),
        ("POST", f"/repos/org/repo/issues/{n}/comments", 201, False),
        ("POST", f"/repos/org/repo/issues/{n}/labels", 200, False)]
    assert s.rate_limit_remaining == gh.rate_limit.remaining
    lines = [r.getMessage() for r in caplog.records if r.name == "shared.github"]
    assert lines == [f"github requests for delivery 72d3162e-cc78-11e3-81ab-4c9367dc0958: 3 (0 not modified, "
                     f"1 memoized reads, rate limit remaining {gh.rate_limit.remaining})"]


def test_default_backoff_is_short(gh):
    client = GitHubClient(base_url=gh.url, token=gh.token)  # defaults: 0.2 s, 0.5 s, 1 s
    n = gh.add_issue(REPO)
    gh.fail("GET", f"/repos/org/repo/issues/{n}", status=502)
    started = time.monotonic()
    with client.for_event("d") as s:
        s.get_issue("org", "repo", n)
    assert 0.2 <= time.monotonic() - started < 0.6


def test_requests_carry_the_api_headers(gh, session):
    session.get_file("org", "repo", "OWNERS")
    req = gh.log[-1]
    assert req.headers["accept"] == "application/vnd.github+json"
    assert req.headers["x-github-api-version"] == "2022-11-28"
    assert req.headers["authorization"] == f"token {gh.token}"
    assert "ref" not in req.query  # the default branch


def test_from_env_with_a_token(gh, monkeypatch):
    monkeypatch.delenv("PROW_STORAGE", raising=False)
    env = {"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": gh.token}
    client = GitHubClient.from_env(env)
    assert client.base_url == gh.url and isinstance(client.cache, MemoryETagCache)
    with client.for_event("d") as s:
        assert s.bot_login() == "ci-bot"


def test_from_env_uses_the_apps_storage_for_etags(gh, storage_env):
    client = GitHubClient.from_env({"GITHUB_TOKEN": "t", "PROW_STORAGE": storage_env})
    assert client.base_url == "https://api.github.com"
    assert isinstance(client.cache, StorageETagCache) and client.cache.table_name == "githubcache"


def test_from_env_needs_credentials():
    with pytest.raises(GitHubConfigError):
        GitHubClient.from_env({"GITHUB_API_URL": "http://x"}, cache=MemoryETagCache())


def test_default_client_is_per_process_and_follows_the_settings(gh, monkeypatch):
    monkeypatch.delenv("PROW_STORAGE", raising=False)
    monkeypatch.delenv("GITHUB_APP_ID", raising=False)
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", gh.token)
    first = default_client()
    assert default_client() is first
    monkeypatch.setenv("GITHUB_TOKEN", "rotated")
    assert default_client() is not first


def test_importing_the_client_loads_neither_pygithub_nor_storage_sdks():
    probe = ("import json, sys; import shared.github; "
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('github', 'requests', 'azure', 'urllib3'))))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
