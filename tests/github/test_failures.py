"""Retries, write safety, rate limits and typed errors against injected failures of the fake."""
from __future__ import annotations

import time

import pytest

from shared.github import (GitHubClient, NotFound, RateLimited, TransientError, Unauthorized,
                           ValidationFailed)
from tests.github.conftest import REPO


@pytest.fixture
def n(gh) -> int:
    return gh.add_pull(REPO, labels=["size/S"])


def test_a_502_then_success_on_a_get_is_retried(gh, session, n):
    gh.fail("GET", f"/repos/org/repo/issues/{n}/labels", status=502)
    assert [lb["name"] for lb in session.get_issue_labels("org", "repo", n)] == ["size/S"]
    assert [r.status for r in session.requests] == [502, 200]


def test_get_retries_are_bounded(gh, session, n):
    gh.fail("GET", f"/repos/org/repo/pulls/{n}", status=503, times=10)
    with pytest.raises(TransientError) as e:
        session.get_pull("org", "repo", n)
    assert e.value.attempts == 4 and e.value.status == 503 and e.value.ambiguous is False
    assert gh.count("GET", f"/repos/org/repo/pulls/{n}") == 4


def test_a_502_on_a_comment_is_ambiguous_and_not_posted_twice(gh, session, n):
    gh.fail("POST", "/repos/org/repo/issues/*/comments", status=502, applied=True)
    with pytest.raises(TransientError) as e:
        session.create_comment("org", "repo", n, "/retest")
    assert e.value.ambiguous is True and e.value.attempts == 1
    assert [c.body for c in gh.comments(REPO, n)] == ["/retest"]
    assert gh.count("POST", "/repos/org/repo/issues/*/comments") == 1


def test_a_dropped_answer_on_a_comment_is_ambiguous(gh, session, n):
    gh.fail_disconnect("POST", "/repos/org/repo/issues/*/comments", applied=True)
    with pytest.raises(TransientError) as e:
        session.create_comment("org", "repo", n, "hello")
    assert e.value.ambiguous is True and e.value.status is None
    assert len(gh.comments(REPO, n)) == 1


def test_a_merge_is_not_retried(gh, session, n):
    gh.fail("PUT", "/repos/org/repo/pulls/*/merge", status=502, applied=True)
    with pytest.raises(TransientError) as e:
        session.merge_pull("org", "repo", n)
    assert e.value.ambiguous is True and gh.merged(REPO, n)
    assert gh.count("PUT", "/repos/org/repo/pulls/*/merge") == 1


def test_idempotent_writes_are_retried(gh, session, n):
    gh.fail("POST", "/repos/org/repo/issues/*/labels", status=502, applied=True)
    gh.fail("DELETE", "/repos/org/repo/issues/*/labels/*", status=500, applied=True)
    gh.fail("POST", "/repos/org/repo/statuses/*", status=502)
    assert [lb["name"] for lb in session.add_labels("org", "repo", n, ["lgtm"])] == ["size/S", "lgtm"]
    assert session.remove_label("org", "repo", n, "size/S") is False  # the first attempt removed it
    assert gh.labels(REPO, n) == ["lgtm"]
    sha = gh.pull(REPO, n).head_sha
    session.create_status("org", "repo", sha, state="success", context="ci")
    assert [s.state for s in gh.statuses(REPO, sha)] == ["success"]


def test_a_label_created_by_a_lost_attempt_reads_as_existing(gh, session):
    gh.fail("POST", "/repos/org/repo/labels", status=502, applied=True)
    assert session.create_repo_label("org", "repo", "triage/accepted") is False
    assert gh.repo_labels(REPO) == ["triage/accepted"]


def test_primary_rate_limit_raises_at_once_with_the_reset_delay(gh, session, n):
    gh.fail_rate_limit(reset_in=754)
    started = time.monotonic()
    with pytest.raises(RateLimited) as e:
        session.get_pull("org", "repo", n)
    assert time.monotonic() - started < 0.5
    assert e.value.secondary is False and 752 <= e.value.retry_after_seconds <= 755
    assert session.request_count == 1


def test_an_exhausted_budget_is_a_primary_rate_limit(gh, session, n):
    gh.set_rate_limit(remaining=0, reset_in=300)
    with pytest.raises(RateLimited) as e:
        session.create_comment("org", "repo", n, "x")
    assert e.value.secondary is False and 298 <= e.value.retry_after_seconds <= 300
    assert gh.comments(REPO, n) == []


def test_secondary_rate_limit_uses_retry_after_and_does_not_sleep(gh, session, n):
    gh.fail_secondary_rate_limit("POST", "*", retry_after=90)
    started = time.monotonic()
    with pytest.raises(RateLimited) as e:
        session.add_labels("org", "repo", n, ["lgtm"])
    assert time.monotonic() - started < 0.5
    assert e.value.secondary is True and e.value.retry_after_seconds == 90
    assert gh.count("POST") == 1 and gh.labels(REPO, n) == ["size/S"]


def test_not_found_and_validation_are_terminal(gh, session, n):
    with pytest.raises(NotFound):
        session.get_issue("org", "repo", 404)
    with pytest.raises(NotFound):
        session.get_pull("org", "nope", 1)
    gh.fail_validation("POST", "/repos/org/repo/issues/*/comments", message="Validation Failed")
    with pytest.raises(ValidationFailed) as e:
        session.create_comment("org", "repo", n, "x")
    assert e.value.errors[0]["message"] == "injected validation failure"
    assert gh.count("GET", "/repos/org/nope/pulls/1") == 1  # terminal: not retried


def test_timeouts_become_transient_after_bounded_retries(gh, make_client, n):
    client = make_client(timeout=0.2)
    gh.fail_timeout("GET", f"/repos/org/repo/pulls/{n}", times=4, delay=1.0)
    started = time.monotonic()
    with client.for_event("d") as s, pytest.raises(TransientError) as e:
        s.get_pull("org", "repo", n)
    assert e.value.attempts == 4 and e.value.status is None and e.value.ambiguous is False
    assert time.monotonic() - started < 2.0
    assert [r.status for r in s.requests] == [None] * 4


def test_a_timeout_on_a_comment_is_not_retried(gh, make_client, n):
    client = make_client(timeout=0.2)
    gh.fail_timeout("POST", "/repos/org/repo/issues/*/comments", delay=1.0, applied=True)
    with client.for_event("d") as s, pytest.raises(TransientError) as e:
        s.create_comment("org", "repo", n, "once")
    assert e.value.ambiguous is True and s.request_count == 1
    assert [c.body for c in gh.comments(REPO, n)] == ["once"]


def test_a_request_that_never_left_is_retried_even_for_a_comment():
    client = GitHubClient(base_url="http://127.0.0.1:9", token="t", backoff=(0.01, 0.01, 0.01))
    with client.for_event("d") as s, pytest.raises(TransientError) as e:
        s.create_comment("org", "repo", 1, "x")
    assert e.value.ambiguous is False and e.value.attempts == 4


def test_bad_credentials(gh, make_client):
    with make_client(token="wrong").for_event("d") as s, pytest.raises(Unauthorized):
        s.get_issue("org", "repo", 1)
