"""Fixtures for the GitHub client tests: the fake GitHub with a populated repository, and clients."""
from __future__ import annotations

import pytest

from shared.github import GitHubClient, MemoryETagCache
from tests.fakes.github import FakeGitHub, fake_github  # noqa: F401

REPO = "org/repo"
FAST_BACKOFF = (0.01, 0.02, 0.04)


@pytest.fixture
def gh(fake_github: FakeGitHub) -> FakeGitHub:
    """The fake with org/repo: alice a collaborator (write), carol an org member, mallory a stranger."""
    fake_github.add_repo(REPO, default_branch="main", files={"OWNERS": "approvers:\n- alice\n"})
    fake_github.add_collaborator(REPO, "alice", permission="write")
    fake_github.add_org_member("org", "carol")
    fake_github.add_user("mallory")
    return fake_github


@pytest.fixture
def make_client(gh: FakeGitHub):
    """Build a token client for the fake (memory ETag cache, fast backoff unless given)."""
    def make(**options) -> GitHubClient:
        options.setdefault("cache", MemoryETagCache())
        options.setdefault("backoff", FAST_BACKOFF)
        options.setdefault("timeout", 2.0)
        options.setdefault("token", gh.token)
        return GitHubClient(base_url=gh.url, **options)
    return make


@pytest.fixture
def client(make_client) -> GitHubClient:
    return make_client()


@pytest.fixture
def session(client: GitHubClient):
    with client.for_event("delivery-1") as s:
        yield s
