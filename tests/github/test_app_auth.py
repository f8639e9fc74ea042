"""GitHub App mode: installation tokens minted through the fake, reused until near expiry, looked up by
repository when the event has no installation id; the bot is `<slug>[bot]`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.github import GitHubClient, GitHubConfigError, MemoryETagCache
from tests.github.conftest import FAST_BACKOFF, REPO

APP_ID = 4242
INSTALLATION = 77
MINT = f"/app/installations/{INSTALLATION}/access_tokens"


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture
def app(gh, key_pair) -> GitHubClient:
    gh.add_app(APP_ID, slug="prow-app", public_key=key_pair[1])
    gh.add_installation(INSTALLATION, "org")
    return GitHubClient(base_url=gh.url, app_id=APP_ID, private_key=key_pair[0], cache=MemoryETagCache(),
                        backoff=FAST_BACKOFF)


def test_installation_token_is_minted_and_reused(gh, app):
    n = gh.add_issue(REPO)
    with app.for_event("d1", installation_id=INSTALLATION) as s:
        s.create_comment("org", "repo", n, "hello")
        assert [(r.method, r.path) for r in s.requests] == [("POST", MINT), ("POST", f"/repos/org/repo/issues/{n}/comments")]
    with app.for_event("d2", installation_id=INSTALLATION) as s:
        s.get_issue("org", "repo", n)
        assert s.request_count == 1
    assert gh.count("POST", MINT) == 1
    assert gh.comments(REPO, n)[0].user == "prow-app[bot]"
    mint = gh.find("POST", MINT)[0]
    assert mint.headers["authorization"].startswith("Bearer ") and mint.login == "prow-app"


def test_a_token_is_renewed_five_minutes_before_it_expires(gh, app):
    with app.for_event("d1", installation_id=INSTALLATION) as s:
        s.get_file("org", "repo", "OWNERS")
    token, _ = app.auth._tokens[INSTALLATION]
    app.auth._tokens[INSTALLATION] = (token, datetime.now(timezone.utc) + timedelta(minutes=6))
    with app.for_event("d2", installation_id=INSTALLATION) as s:
        s.get_file("org", "repo", "OWNERS")
    assert gh.count("POST", MINT) == 1
    app.auth._tokens[INSTALLATION] = (token, datetime.now(timezone.utc) + timedelta(minutes=4))
    with app.for_event("d3", installation_id=INSTALLATION) as s:
        s.get_file("org", "repo", "OWNERS")
        assert s.requests[0].path == MINT
    assert gh.count("POST", MINT) == 2 and app.auth._tokens[INSTALLATION][0] != token


def test_a_refused_token_is_replaced_once(gh, app):
    n = gh.add_issue(REPO)
    with app.for_event("d1", installation_id=INSTALLATION) as s:
        s.get_issue("org", "repo", n)
    gh.fail("GET", f"/repos/org/repo/issues/{n}/comments", status=401)
    with app.for_event("d2", installation_id=INSTALLATION) as s:
        assert s.list_issue_comments("org", "repo", n) == []
        assert [(r.method, r.status) for r in s.requests] == [("GET", 401), ("POST", 201), ("GET", 200)]


def test_installation_is_looked_up_by_repository_once(gh, app):
    n = gh.add_issue(REPO, labels=["lgtm"])
    for delivery in ("d1", "d2"):
        with app.for_event(delivery, org="org", repo="repo") as s:
            assert [lb["name"] for lb in s.get_issue_labels("org", "repo", n)] == ["lgtm"]
    assert gh.count("GET", "/repos/org/repo/installation") == 1
    assert gh.count("POST", MINT) == 1


def test_installation_is_looked_up_by_org(gh, app):
    with app.for_event("d", org="org") as s:
        assert s.get_file("org", "repo", "OWNERS") == b"approvers:\n- alice\n"
    assert gh.count("GET", "/orgs/org/installation") == 1


def test_without_installation_or_repository_it_is_a_config_error(app):
    with app.for_event("d") as s, pytest.raises(GitHubConfigError):
        s.get_issue("org", "repo", 1)


def test_bot_login_is_the_app_slug(gh, app):
    with app.for_event("d1", installation_id=INSTALLATION) as s:
        assert s.bot_login() == "prow-app[bot]"
        assert [r.path for r in s.requests] == ["/app"]
    with app.for_event("d2", installation_id=INSTALLATION) as s:
        assert s.bot_login() == "prow-app[bot]" and s.request_count == 0


def test_from_env_app_mode_with_a_one_line_key(gh, key_pair):
    gh.add_app(APP_ID, slug="prow-app", public_key=key_pair[1])
    gh.add_installation(INSTALLATION, "org")
    env = {"GITHUB_API_URL": gh.url, "GITHUB_APP_ID": str(APP_ID),
           "GITHUB_APP_PRIVATE_KEY": key_pair[0].replace("\n", "\\n")}
    client = GitHubClient.from_env(env, cache=MemoryETagCache())
    with client.for_event("d", installation_id=INSTALLATION) as s:
        assert s.get_permission("org", "repo", "alice") == "write"
