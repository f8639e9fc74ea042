"""The `hook` function against a real Azurite: every delivery stored byte for byte and queued once."""
import base64
import json
import logging
import time
import uuid

import pytest
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient

from shared.deliveries import DeliveryMessage, DeliveryStore, blob_name
from shared.storage import StorageClients, StorageSettings
from tests import webhooks
from tests.azurite import connection_string, free_port

SECRET = "hook-test-secret"


@pytest.fixture
def hook_env(webhook_queue, monkeypatch):
    monkeypatch.setenv("PROW_HMAC_SECRET", SECRET + "\n")
    return webhook_queue


def drain(conn: str) -> list[DeliveryMessage]:
    """Every message now in webhook-events, decoded the way the Functions host decodes (base64)."""
    raw = QueueClient.from_connection_string(conn, "webhook-events")
    out = []
    while True:
        batch = list(raw.receive_messages(messages_per_page=32, visibility_timeout=60))
        if not batch:
            return out
        for m in batch:
            out.append(DeliveryMessage.from_json(base64.b64decode(m.content)))
            raw.delete_message(m)


def stored(conn: str, delivery_id: str):
    blob = BlobServiceClient.from_connection_string(conn).get_blob_client("webhooks", blob_name(delivery_id))
    return blob.download_blob().readall(), blob.get_blob_properties()


def post(call_http, event, body, **kw):
    h = webhooks.headers(event, body, SECRET, **kw)
    return call_http("hook", headers=h, body=body), h


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_every_example_payload_is_stored_byte_for_byte_and_queued(call_http, hook_env, encoding):
    examples = webhooks.examples()
    assert len(examples) > 300
    sent = {}
    for event, i, payload in examples:
        body = webhooks.json_body(payload) if encoding == "json" else webhooks.form_body(payload)
        ctype = "application/json" if encoding == "json" else "application/x-www-form-urlencoded"
        resp, h = post(call_http, event, body, content_type=ctype)
        assert resp.status_code == 200, (event, i, resp.get_body())
        assert resp.get_body() == b"Event received. Have a nice day."
        sent[h["X-GitHub-Delivery"]] = (event, body, h)
    messages = {m.delivery_id: m for m in drain(hook_env)}
    expected = {d for d, (event, _, _) in sent.items() if event != "ping"}
    assert set(messages) == expected                      # ping is answered, not queued
    for delivery_id in expected:
        event, body, h = sent[delivery_id]
        msg = messages[delivery_id]
        assert msg.event == event
        assert msg.headers["X-Hub-Signature-256"] == h["X-Hub-Signature-256"]
        assert msg.content_type == h["Content-Type"]
        data, props = stored(hook_env, delivery_id)
        assert data == body
        assert props.content_settings.content_type == h["Content-Type"]
        assert len(msg.to_json()) < 4096


def test_message_points_at_blob_and_carries_routing(call_http, hook_env):
    payload = webhooks.example("pull_request", "opened")
    body = webhooks.json_body(payload)
    resp, h = post(call_http, "pull_request", body)
    assert resp.status_code == 200
    [msg] = drain(hook_env)
    assert (msg.event, msg.action, msg.repo) == ("pull_request", "opened", payload["repository"]["full_name"])
    assert msg.installation_id == payload.get("installation", {}).get("id")
    assert (msg.container, msg.blob, msg.size) == ("webhooks", h["X-GitHub-Delivery"], len(body))
    clients = StorageClients(StorageSettings(connection_string=hook_env))
    assert DeliveryStore(clients).read_body(msg) == body


def test_large_push_payload(call_http, hook_env):
    payload = dict(webhooks.example("push"))
    commit = payload["commits"][0] if payload.get("commits") else {"id": "0" * 40, "message": ""}
    payload["commits"] = [dict(commit, id=f"{n:040x}", message="x" * 1000) for n in range(3000)]
    body = webhooks.json_body(payload)
    assert len(body) > 3_000_000
    resp, h = post(call_http, "push", body)
    assert resp.status_code == 200
    [msg] = drain(hook_env)
    assert msg.size == len(body)
    assert len(base64.b64encode(msg.to_json().encode())) < 65536
    assert stored(hook_env, h["X-GitHub-Delivery"])[0] == body


def test_redelivery_is_stored_once(call_http, hook_env):
    body = webhooks.json_body(webhooks.example("issue_comment", "created"))
    delivery = str(uuid.uuid4())
    first, _ = post(call_http, "issue_comment", body, delivery=delivery)
    _, props1 = stored(hook_env, delivery)
    second, _ = post(call_http, "issue_comment", body, delivery=delivery)
    assert first.status_code == second.status_code == 200
    data, props2 = stored(hook_env, delivery)
    assert data == body and props2.etag == props1.etag   # the blob was not rewritten
    # A message per accepted POST (the first could have been lost before queueing); dispatch dedupes.
    assert [m.delivery_id for m in drain(hook_env)] == [delivery, delivery]


@pytest.mark.parametrize("headers_change,status", [
    ({"X-Hub-Signature-256": "sha256=" + "ab" * 32}, 403),
    ({"X-GitHub-Event": ""}, 400),
    ({"Content-Type": "text/xml"}, 400),
])
def test_rejected_deliveries_are_not_stored(call_http, hook_env, headers_change, status):
    body = webhooks.json_body(webhooks.example("issues", "opened"))
    h = {**webhooks.headers("issues", body, SECRET), **headers_change}
    resp = call_http("hook", headers=h, body=body)
    assert resp.status_code == status
    assert resp.mimetype == "text/plain"
    assert drain(hook_env) == []


def test_get_is_405_through_the_function(call_http, hook_env):
    resp = call_http("hook", method="GET")
    assert (resp.status_code, resp.get_body()) == (405, b"405 Method not allowed\n")


def test_secret_never_in_response_or_logs(call_http, hook_env, caplog):
    caplog.set_level(logging.DEBUG)
    body = webhooks.json_body(webhooks.example("issues", "opened"))
    for h in (webhooks.headers("issues", body, SECRET), webhooks.headers("issues", body, "wrong")):
        resp = call_http("hook", headers=h, body=body)
        assert SECRET.encode() not in resp.get_body()
    assert SECRET not in caplog.text
    assert "rejected delivery" in caplog.text and "accepted issues delivery" in caplog.text


def test_missing_secret_setting_is_a_5xx(call_http, hook_env, monkeypatch):
    monkeypatch.delenv("PROW_HMAC_SECRET")
    body = webhooks.json_body(webhooks.example("issues", "opened"))
    resp = call_http("hook", headers=webhooks.headers("issues", body, SECRET), body=body)
    assert resp.status_code == 500
    assert drain(hook_env) == []


def test_storage_down_is_503_never_2xx(call_http, hook_env, monkeypatch):
    dead = connection_string(free_port(), free_port(), free_port())
    monkeypatch.setenv("PROW_STORAGE", dead)
    body = webhooks.json_body(webhooks.example("issues", "opened"))
    started = time.monotonic()
    resp = call_http("hook", headers=webhooks.headers("issues", body, SECRET), body=body)
    assert resp.status_code == 503
    assert b"redeliver" in resp.get_body()
    assert time.monotonic() - started < 10      # GitHub gives a delivery 10 s


def test_queue_down_after_blob_written_then_redelivery_queues(hook_env, azurite):
    """Blob stored, queue unreachable: 503; GitHub's redelivery then queues the stored delivery."""
    from shared.hook import handle_webhook
    from shared.hmac_secret import parse_hmac_secret

    half_dead = connection_string(azurite.blob_port, free_port(), azurite.table_port)
    broken = DeliveryStore(StorageClients(StorageSettings(connection_string=half_dead)))
    healthy = DeliveryStore(StorageClients(StorageSettings(connection_string=hook_env)))
    body = webhooks.json_body(webhooks.example("issues", "opened"))
    h = webhooks.headers("issues", body, SECRET)
    from azure.functions._http import HttpRequestHeaders
    hh = HttpRequestHeaders(h)
    secret = parse_hmac_secret(SECRET)
    assert handle_webhook("POST", hh, body, secret=secret, store=broken).status == 503
    assert stored(hook_env, h["X-GitHub-Delivery"])[0] == body
    assert drain(hook_env) == []
    assert handle_webhook("POST", hh, body, secret=secret, store=healthy).status == 200
    assert [m.delivery_id for m in drain(hook_env)] == [h["X-GitHub-Delivery"]]


def test_hierarchical_secret_through_the_function(call_http, hook_env, monkeypatch):
    payload = webhooks.example("issues", "opened")
    full = payload["repository"]["full_name"]
    monkeypatch.setenv("PROW_HMAC_SECRET", f"'*':\n  - value: global\n{full}:\n  - value: repo-key\n")
    body = webhooks.json_body(payload)
    assert call_http("hook", headers=webhooks.headers("issues", body, "repo-key"), body=body).status_code == 200
    assert call_http("hook", headers=webhooks.headers("issues", body, "global"), body=body).status_code == 403
