"""External plugins: deliveries are forwarded as Prow's hook forwards them, form-encoded ones as signed JSON,
and a plugin that is down delays nothing else."""
import hashlib
import hmac
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared import labels
from shared.plugins.external import ExternalForwarder, request_for
from tests import payloads, webhooks
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"


class PluginServer:
    """A local external plugin: records every request; answers `status`."""

    def __init__(self, status: int = 200):
        self.status = status
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                self.send_response(server.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    made = []

    def make(status=200):
        made.append(PluginServer(status))
        return made[-1]
    yield make
    for s in made:
        s.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def configure(prow, externals: str, plugins: str = "[help]"):
    prow.plugins_yaml(f"plugins:\n  org:\n    plugins: {plugins}\nexternal_plugins:\n{externals}")


def test_the_body_and_headers_arrive_byte_for_byte(prow, servers):
    plugin = servers()
    configure(prow, f"  org/repo:\n  - name: needs-rebase\n    endpoint: {plugin.url}/hook\n"
                    f"    events: [issue_comment]\n")
    prow.gh.add_repo(REPO)
    n = prow.gh.add_issue(REPO)
    sent = prow.post("issue_comment", payloads.issue_comment(REPO, n, "hi ünïcødé\r\n"))
    prow.post("push", webhooks.example("push") | {"repository": payloads.repository(REPO)})   # not subscribed
    prow.settle()

    [got] = plugin.requests
    assert got["path"] == "/hook"
    assert got["body"] == prow.posted[0]["body"]
    for name in ("X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256", "Content-Type", "X-GitHub-Hook-ID"):
        assert got["headers"][name] == sent[name], name
    assert got["headers"]["User-Agent"] == "ProwHook"


def test_a_form_encoded_delivery_arrives_as_json_with_a_recomputed_signature(prow, servers, monkeypatch):
    monkeypatch.setenv("PROW_HMAC_SECRET", "'*':\n- value: global-secret\norg/repo:\n- value: repo-secret\n")
    plugin = servers()
    configure(prow, f"  org:\n  - name: cherrypicker\n    endpoint: {plugin.url}\n")   # every event
    prow.gh.add_repo(REPO)
    n = prow.gh.add_issue(REPO)
    payload = payloads.issue_comment(REPO, n, "form & encoded = fine")
    sent = prow.post("issue_comment", payload, form=True, secret="repo-secret")
    prow.settle()

    [got] = plugin.requests
    expected_json = webhooks.json_body(payload)          # the `payload` form field, as GitHub encoded it
    assert got["body"] == expected_json
    assert got["headers"]["Content-Type"] == "application/json"
    assert got["headers"]["X-Hub-Signature-256"] == "sha256=" + hmac.new(b"repo-secret", expected_json,
                                                                         hashlib.sha256).hexdigest()
    assert got["headers"]["X-GitHub-Delivery"] == sent["X-GitHub-Delivery"]
    assert "X-Hub-Signature" not in got["headers"]


def test_a_plugin_that_is_down_does_not_block_the_others(prow, servers, caplog):
    up = servers()
    configure(prow, f"  org:\n  - name: down\n    endpoint: {closed_port_url()}\n"
                    f"  - name: up\n    endpoint: {up.url}\n")
    prow.gh.add_repo(REPO)
    n = prow.gh.add_issue(REPO)
    started = time.monotonic()
    sent = prow.post("issue_comment", payloads.issue_comment(REPO, n, "/help"))
    run = prow.settle()

    assert [i.outcome for i in run.calls("dispatch")] == ["ok"]
    assert time.monotonic() - started < 10           # 5 attempts, 100 ms backoff doubling: ~1.5 s
    assert len(up.requests) == 1
    assert prow.gh.labels(REPO, n) == [labels.HELP]  # internal plugins ran
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("external plugin down" in m and "5 attempt(s)" in m and sent["X-GitHub-Delivery"] in m for m in errors)
    record = prow.record(sent["X-GitHub-Delivery"])
    assert record.forwarded == {"down", "up"}         # given up on: a redelivery does not try again


def test_a_non_2xx_answer_is_logged_not_retried(prow, servers, caplog):
    failing = servers(status=500)
    configure(prow, f"  org:\n  - name: failing\n    endpoint: {failing.url}\n")
    prow.gh.add_repo(REPO)
    prow.post("issue_comment", payloads.issue_comment(REPO, 1, "hello"))
    prow.settle()
    assert len(failing.requests) == 1
    assert any("failing" in r.getMessage() and "500" in r.getMessage() for r in caplog.records
               if r.levelname == "ERROR")


def test_a_redelivery_and_a_retried_delivery_forward_once(prow, servers):
    plugin = servers()
    configure(prow, f"  org:\n  - name: needs-rebase\n    endpoint: {plugin.url}\n")
    prow.gh.add_repo(REPO)
    n = prow.gh.add_issue(REPO)
    prow.gh.fail("POST", "/repos/org/repo/issues/*/labels", status=502, times=4)   # help fails the first attempt
    sent = prow.post("issue_comment", payloads.issue_comment(REPO, n, "/help"))
    prow.post("issue_comment", prow.posted[0]["body"], delivery=sent["X-GitHub-Delivery"])
    run = prow.settle()

    assert sorted(i.outcome for i in run.calls("dispatch")) == ["ok", "ok", "retry"]
    assert len(plugin.requests) == 1
    assert prow.gh.labels(REPO, n) == [labels.HELP]


def test_org_and_repo_entries_both_apply_and_other_repos_get_nothing(prow, servers):
    org_plugin, repo_plugin = servers(), servers()
    configure(prow, f"  org:\n  - name: a\n    endpoint: {org_plugin.url}\n"
                    f"  org/other:\n  - name: b\n    endpoint: {repo_plugin.url}\n")
    prow.post("issue_comment", payloads.issue_comment(REPO, 1, "x"))
    prow.post("issue_comment", payloads.issue_comment("org/other", 1, "x"))
    prow.post("issue_comment", payloads.issue_comment("elsewhere/repo", 1, "x"))
    prow.settle()
    assert len(org_plugin.requests) == 2 and len(repo_plugin.requests) == 1


def test_forwarder_retries_transport_errors_five_times_with_doubling_backoff():
    sleeps = []
    forwarder = ExternalForwarder(sleep=sleeps.append)
    [result] = forwarder.forward([("down", closed_port_url())], b"{}", {"Content-Type": "application/json"})
    assert not result.ok and result.attempts == 5
    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8])


def test_a_hanging_plugin_is_bounded_by_the_deadline():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)                                   # accepts, never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        forwarder = ExternalForwarder(deadline=1.0, read_timeout=0.5, sleep=lambda s: None)
        started = time.monotonic()
        [result] = forwarder.forward([("hangs", url)], b"{}", {})
        assert not result.ok and time.monotonic() - started < 4
    finally:
        listener.close()


def test_request_for_keeps_json_deliveries_as_they_are():
    body, headers = request_for(b'{"a":1}', {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/x",
                                             "X-Hub-Signature-256": "sha256=ab"}, scope="o/r")
    assert body == b'{"a":1}'
    assert headers == {"Content-Type": "application/json", "User-Agent": "ProwHook", "X-Hub-Signature-256": "sha256=ab"}
