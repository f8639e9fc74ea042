"""`phony` signs a delivery as GitHub does; the hook accepts it over real HTTP."""
import json

import pytest

from shared.cli import main as cli
from tests import webhooks
from tests.http_host import FunctionsHttpHost
from tests.test_hook import drain


@pytest.fixture
def served_hook(app_functions, webhook_queue, monkeypatch):
    monkeypatch.setenv("PROW_HMAC_SECRET", "phony-secret")
    with FunctionsHttpHost(app_functions) as host:
        yield host.url + "/api/hook"


def write_payload(tmp_path, event="issue_comment", action="created"):
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(webhooks.example(event, action)))
    return path


@pytest.mark.parametrize("content_type", ["json", "form"])
def test_phony_delivery_is_accepted_and_queued(served_hook, storage_env, tmp_path, capsys, content_type):
    payload = write_payload(tmp_path)
    rc = cli(["phony", "--address", served_hook, "--hmac", "phony-secret", "--event", "issue_comment",
              "--payload", str(payload), "--delivery", f"phony-{content_type}", "--content-type", content_type])
    assert rc == 0
    assert "200 Event received. Have a nice day." in capsys.readouterr().out
    [msg] = drain(storage_env)
    assert (msg.delivery_id, msg.event) == (f"phony-{content_type}", "issue_comment")


def test_phony_with_wrong_token_fails(served_hook, tmp_path, capsys):
    rc = cli(["phony", "--address", served_hook, "--hmac", "nope", "--event", "issues",
              "--payload", str(write_payload(tmp_path, "issues", "opened"))])
    assert rc == 1
    assert "403 Forbidden: Invalid X-Hub-Signature-256" in capsys.readouterr().out


def test_phony_hierarchical_secret_file_picks_the_repo_scope(served_hook, storage_env, tmp_path, monkeypatch):
    payload = webhooks.example("issues", "opened")
    full = payload["repository"]["full_name"]
    secret = f"'*':\n  - value: global\n{full}:\n  - value: repo-key\n"
    monkeypatch.setenv("PROW_HMAC_SECRET", secret)
    (tmp_path / "hmac").write_text(secret)
    rc = cli(["phony", "--address", served_hook, "--hmac-secret-file", str(tmp_path / "hmac"),
              "--event", "issues", "--payload", str(write_payload(tmp_path, "issues", "opened"))])
    assert rc == 0
    assert len(drain(storage_env)) == 1


def test_phony_default_ping_is_answered_not_queued(served_hook, storage_env):
    assert cli(["phony", "--address", served_hook, "--hmac", "phony-secret"]) == 0
    assert drain(storage_env) == []


def test_phony_unreachable_address(capsys):
    from tests.azurite import free_port
    assert cli(["phony", "--address", f"http://127.0.0.1:{free_port()}/api/hook"]) == 1
    assert "could not reach" in capsys.readouterr().err
