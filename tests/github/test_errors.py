"""The sans-I/O mapping of GitHub answers to typed errors, case by case, from literal responses."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.github.errors import (ClientError, Conflict, Forbidden, NotFound, NotMergeable, RateLimited,
                                  TransientError, Unauthorized, ValidationFailed, error_for_response, parse_body)

NOW = 1_700_000_000.0
PRIMARY = {"message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
                      "please include the request ID.",
           "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}
SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
                        "again. If you reach out to GitHub Support for help, please include the request ID.",
             "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                                  "#about-secondary-rate-limits"}


def err(status, body=None, headers=None, method="GET"):
    return error_for_response(status, headers or {}, body, method=method, path="/x", now=NOW)


@pytest.mark.parametrize("status", [200, 201, 204, 302, 304])
def test_success_and_redirects_are_not_errors(status):
    assert err(status) is None


def test_primary_rate_limit_waits_until_the_reset():
    e = err(403, PRIMARY, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 754)})
    assert isinstance(e, RateLimited) and not e.secondary
    assert e.retry_after_seconds == 754
    assert e.reset_at == datetime.fromtimestamp(NOW + 754, tz=timezone.utc)
    assert "API rate limit exceeded" in e.message


def test_primary_rate_limit_as_429_and_with_header_names_in_lower_case():
    e = err(429, PRIMARY, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 5)})
    assert isinstance(e, RateLimited) and not e.secondary and e.retry_after_seconds == 5


def test_a_reset_in_the_past_still_waits_one_second():
    e = err(403, PRIMARY, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) - 30)})
    assert isinstance(e, RateLimited) and e.retry_after_seconds == 1


def test_secondary_rate_limit_honours_retry_after():
    e = err(403, SECONDARY, {"Retry-After": "120", "X-RateLimit-Remaining": "4321"})
    assert isinstance(e, RateLimited) and e.secondary and e.retry_after_seconds == 120


def test_secondary_rate_limit_without_headers_waits_a_minute():
    e = err(403, SECONDARY)
    assert isinstance(e, RateLimited) and e.secondary and e.retry_after_seconds == 60


def test_secondary_rate_limit_with_remaining_zero_waits_until_the_reset():
    e = err(403, SECONDARY, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 300)})
    assert isinstance(e, RateLimited) and e.secondary and e.retry_after_seconds == 300


def test_retry_after_as_an_http_date():
    e = err(429, {"message": "slow down"}, {"Retry-After": "Tue, 14 Nov 2023 22:14:20 GMT"})
    assert isinstance(e, RateLimited) and e.retry_after_seconds == 1_700_000_060 - int(NOW)


def test_a_bare_429_is_a_secondary_limit():
    e = err(429, {"message": "Too Many Requests"})
    assert isinstance(e, RateLimited) and e.secondary and e.retry_after_seconds == 60


def test_a_plain_403_is_forbidden_not_a_rate_limit():
    e = err(403, {"message": "Resource not accessible by integration"}, {"X-RateLimit-Remaining": "4999"})
    assert type(e) is Forbidden and e.status == 403 and e.message == "Resource not accessible by integration"


@pytest.mark.parametrize("status,kind", [(401, Unauthorized), (404, NotFound), (410, NotFound),
                                         (405, NotMergeable), (409, Conflict), (400, ClientError)])
def test_terminal_client_errors(status, kind):
    e = err(status, {"message": "nope", "documentation_url": "https://docs"})
    assert type(e) is kind and e.status == status and e.documentation_url == "https://docs"
    assert str(e) == f"GET /x: {status} nope"


def test_validation_failed_carries_githubs_errors():
    e = err(422, {"message": "Validation Failed",
                  "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]}, method="POST")
    assert isinstance(e, ValidationFailed) and e.has_code("already_exists") and not e.has_code("invalid")


@pytest.mark.parametrize("method,ambiguous", [("GET", False), ("POST", True), ("PATCH", True), ("DELETE", True)])
def test_server_errors_are_transient_and_ambiguous_for_writes(method, ambiguous):
    e = err(502, parse_body("<html>Unicorn!</html>"), method=method)
    assert isinstance(e, TransientError) and e.ambiguous is ambiguous
    assert "Unicorn" in e.message


def test_parse_body_tolerates_empty_and_non_json():
    assert parse_body("") is None and parse_body(None) is None
    assert parse_body('{"a": 1}') == {"a": 1}
    assert parse_body(b"oops") == "oops"
