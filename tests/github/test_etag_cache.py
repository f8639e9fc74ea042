"""Conditional requests with the ETag cache in Azurite (Table index, Blob bodies), across events."""
from __future__ import annotations

import os

import pytest

from shared.github import GitHubClient, MemoryETagCache, StorageETagCache
from shared.github.etag_cache import CachedResponse, cache_keys, path_prefix
from shared.storage import StorageClients, StorageSettings
from tests.github.conftest import FAST_BACKOFF, REPO


@pytest.fixture
def storage(azurite):
    return StorageClients(StorageSettings(connection_string=azurite.connection_string))


@pytest.fixture
def cache(storage, unique_name) -> StorageETagCache:
    """The storage cache on a table and container of its own (the app uses `githubcache` for both)."""
    return StorageETagCache(storage, table=unique_name("t"), container=unique_name("c"))


@pytest.fixture
def make(gh, cache):
    def client(token: str | None = None, **options) -> GitHubClient:
        return GitHubClient(base_url=gh.url, token=token or gh.token, cache=options.pop("cache", cache),
                            backoff=FAST_BACKOFF, **options)
    return client


def read_twice(gh, make, read):
    """Run `read` in two events; the second one's requests and the rate limit spent by it."""
    client = make()
    with client.for_event("first") as first:
        before = read(first)
    spent_before = gh.rate_limit.used
    with client.for_event("second") as second:
        after = read(second)
    return before, after, second, gh.rate_limit.used - spent_before


def test_second_read_of_pr_files_is_304_and_free(gh, make):
    n = gh.add_pull(REPO, files=[f"pkg/f{i}.go" for i in range(250)])
    before, after, second, spent = read_twice(gh, make, lambda s: s.list_pull_files("org", "repo", n))
    assert after == before and len(after) == 250
    assert [r.status for r in second.requests] == [304, 304, 304]
    assert all(req.headers.get("if-none-match") for req in gh.find("GET", "*/files")[3:])
    assert spent == 0


def test_second_read_of_labels_and_of_a_file_is_304(gh, make):
    n = gh.add_issue(REPO, labels=["lgtm", "approved"])

    def read(s):
        return s.get_issue_labels("org", "repo", n), s.get_file("org", "repo", "OWNERS", "main")

    before, after, second, spent = read_twice(gh, make, read)
    assert after == before and after[1] == b"approvers:\n- alice\n"
    assert second.not_modified_count == second.request_count == 2
    assert spent == 0


def test_a_changed_resource_is_read_again(gh, make):
    n = gh.add_issue(REPO, labels=["lgtm"])
    client = make()
    with client.for_event("one") as s:
        assert [lb["name"] for lb in s.get_issue_labels("org", "repo", n)] == ["lgtm"]
        assert s.get_file("org", "repo", "OWNERS") == b"approvers:\n- alice\n"
    gh.update_issue(REPO, n, labels=["lgtm", "hold"])
    gh.set_file(REPO, "OWNERS", "approvers:\n- bob\n")
    with client.for_event("two") as s:
        assert [lb["name"] for lb in s.get_issue_labels("org", "repo", n)] == ["lgtm", "hold"]
        assert s.get_file("org", "repo", "OWNERS") == b"approvers:\n- bob\n"
        assert [r.status for r in s.requests] == [200, 200]
    with client.for_event("three") as s:
        assert [lb["name"] for lb in s.get_issue_labels("org", "repo", n)] == ["lgtm", "hold"]
        assert [r.status for r in s.requests] == [304]


def test_bodies_larger_than_a_table_property(gh, make, cache):
    """3,000 PR files (30 pages of ~100 KB) and a 300 KB incompressible file go through Blob storage."""
    n = gh.add_pull(REPO, files=[{"filename": f"vendor/github.com/some/module/file_{i:05d}.go",
                                  "patch": f"@@ -1 +1 @@\n-old {i}\n+new {i}\n"} for i in range(3000)])
    big = os.urandom(300_000)
    gh.set_file(REPO, "testdata/blob.bin", big)

    def read(s):
        return s.list_pull_files("org", "repo", n), s.get_file("org", "repo", "testdata/blob.bin")

    before, after, second, spent = read_twice(gh, make, read)
    assert len(after[0]) == 3000 and after == before and after[1] == big
    assert second.request_count == 31 and second.not_modified_count == 31 and spent == 0
    # a page of 100 files (~70 KB of JSON) gzips into its entity; the incompressible file goes to Blob
    assert len(list(cache._ensure()[1].list_blob_names())) == 1


def test_two_identities_do_not_share_entries(gh, make, cache):
    gh.add_token("other-token", "other-bot")
    n = gh.add_issue(REPO, labels=["lgtm"])
    with make().for_event("a") as s:
        s.get_issue_labels("org", "repo", n)
    with make("other-token").for_event("b") as s:
        s.get_issue_labels("org", "repo", n)
        assert [r.status for r in s.requests] == [200]
    other = gh.find("GET", f"/repos/org/repo/issues/{n}/labels")[-1]
    assert other.login == "other-bot" and "if-none-match" not in other.headers
    assert cache_keys("token:a", "u", "x")[0] != cache_keys("token:b", "u", "x")[0]


def test_a_blob_from_another_writer_is_a_miss_not_a_wrong_answer(cache):
    url = "https://api.github.com/repos/o/r/pulls/1/files?per_page=100"
    big = os.urandom(100_000)
    cache.put("s", url, "json", CachedResponse('"v1"', 200, big))
    assert cache.get("s", url, "json").body == big
    pk, rk = cache_keys("s", url, "json")
    table, container = cache._ensure()
    container.upload_blob(f"{pk}/{rk}", b"x", overwrite=True, metadata={"etag": "other"})
    assert cache.get("s", url, "json") is None


def test_a_broken_store_degrades_to_plain_requests(gh, caplog):
    broken = StorageETagCache(StorageClients(StorageSettings(
        connection_string="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
                          "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
                          "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;"), retry_total=0))
    n = gh.add_issue(REPO, labels=["lgtm"])
    client = GitHubClient(base_url=gh.url, token=gh.token, cache=broken)
    with client.for_event("x") as s:
        assert [lb["name"] for lb in s.get_issue_labels("org", "repo", n)] == ["lgtm"]
    assert "github cache" in caplog.text


def test_memory_cache_is_bounded():
    cache = MemoryETagCache(max_entries=2)
    for i in range(3):
        cache.put("s", f"u{i}", "a", CachedResponse(f'"{i}"', 200, b"[]"))
    assert len(cache) == 2 and cache.get("s", "u0", "a") is None and cache.get("s", "u2", "a").etag == '"2"'


def test_path_prefix():
    assert path_prefix("https://h/api/v3/repos/Org/Repo/pulls/1/files?page=2") == "/repos/org/repo"
    assert path_prefix("https://api.github.com/orgs/o/members/u") == "/orgs/o"
    assert path_prefix("https://api.github.com/user") == "/user"
