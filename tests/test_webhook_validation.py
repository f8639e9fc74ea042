"""Prow's request checks, in Prow's order, with Prow's codes and bodies (sans I/O)."""
import json

import pytest
from azure.functions._http import HttpRequestHeaders  # the case-insensitive headers the host gives

from shared.hmac_secret import parse_hmac_secret
from shared.webhook import WebhookRejected, validate
from tests import webhooks

SECRET = parse_hmac_secret("s3cret")
PAYLOAD = webhooks.example("issues", "opened")
BODY = webhooks.json_body(PAYLOAD)


def good_headers(**overrides):
    h = webhooks.headers("issues", BODY, "s3cret")
    h.update(overrides)
    return HttpRequestHeaders({k: v for k, v in h.items() if v is not None})


def rejected(method="POST", body=BODY, secret=SECRET, **header_overrides):
    with pytest.raises(WebhookRejected) as info:
        validate(method, good_headers(**header_overrides), body, secret)
    return info.value.status, info.value.body


@pytest.mark.parametrize("case,expected", [
    (dict(method="GET"), (405, "405 Method not allowed")),
    (dict(method="PUT", **{"X-GitHub-Event": None}), (405, "405 Method not allowed")),  # method first
    ({"X-GitHub-Event": None}, (400, "400 Bad Request: Missing X-GitHub-Event Header")),
    ({"X-GitHub-Event": ""}, (400, "400 Bad Request: Missing X-GitHub-Event Header")),
    ({"X-GitHub-Delivery": None, "X-Hub-Signature-256": None},
     (400, "400 Bad Request: Missing X-GitHub-Delivery Header")),
    ({"X-Hub-Signature-256": None, "Content-Type": "text/plain"},
     (403, "403 Forbidden: Missing X-Hub-Signature-256")),
    ({"Content-Type": "text/plain"},
     (400, "400 Bad Request: Hook only accepts content-type: application/json - please reconfigure this hook on GitHub")),
    ({"Content-Type": None},
     (400, "400 Bad Request: Hook only accepts content-type: application/json - please reconfigure this hook on GitHub")),
    (dict(body=None), (500, "500 Internal Server Error: Failed to read request body")),
    (dict(body=b"not json"), (403, "403 Forbidden: Invalid X-Hub-Signature-256 - invalid payload")),
    (dict(body=b"[1, 2]"), (403, "403 Forbidden: Invalid X-Hub-Signature-256 - invalid payload")),
    ({"X-Hub-Signature-256": "sha1=abcd"}, (403, "403 Forbidden: Invalid X-Hub-Signature-256 - invalid signature")),
    ({"X-Hub-Signature-256": "sha256=zz"}, (403, "403 Forbidden: Invalid X-Hub-Signature-256 - invalid signature")),
    ({"X-Hub-Signature-256": "sha256=" + "00" * 32},
     (403, "403 Forbidden: Invalid X-Hub-Signature-256 - misconfigured webhook secret from organization/repo: "
           + PAYLOAD["repository"]["full_name"])),
])
def test_rejections_in_prow_order(case, expected):
    case = dict(case)
    kwargs = {k: case.pop(k) for k in ("method", "body") if k in case}
    assert rejected(**kwargs, **case) == expected


def test_signature_with_wrong_secret():
    status, body = rejected(secret=parse_hmac_secret("other"))
    assert status == 403 and "misconfigured webhook secret" in body


def test_no_secret_for_scope():
    secret = parse_hmac_secret("someorg:\n  - value: x\n")
    assert rejected(secret=secret) == (
        403, "403 Forbidden: Invalid X-Hub-Signature-256 - failed to get an appropriate hmac secret")


def test_valid_json_delivery():
    d = validate("POST", good_headers(), BODY, SECRET)
    assert d.event == "issues" and d.body == BODY and d.payload == PAYLOAD
    assert d.repo_full_name == PAYLOAD["repository"]["full_name"]
    assert d.headers["X-Hub-Signature-256"] == webhooks.sign(BODY, "s3cret")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_with_parameters_accepted(content_type):
    assert validate("POST", good_headers(**{"Content-Type": content_type}), BODY, SECRET).payload == PAYLOAD


def test_form_encoded_signature_over_raw_body():
    body = webhooks.form_body(PAYLOAD)
    h = HttpRequestHeaders(webhooks.headers("issues", body, "s3cret",
                                            content_type="application/x-www-form-urlencoded"))
    d = validate("POST", h, body, SECRET)
    assert d.payload == PAYLOAD and d.body == body
    # the signature of the JSON alone does not validate a form body
    h2 = HttpRequestHeaders({**h, "X-Hub-Signature-256": webhooks.sign(BODY, "s3cret")})
    with pytest.raises(WebhookRejected) as info:
        validate("POST", h2, body, SECRET)
    assert info.value.status == 403


def test_form_without_payload_field():
    body = b"other=1"
    h = HttpRequestHeaders(webhooks.headers("issues", body, "s3cret",
                                            content_type="application/x-www-form-urlencoded"))
    with pytest.raises(WebhookRejected) as info:
        validate("POST", h, body, SECRET)
    assert (info.value.status, info.value.body) == (
        403, "403 Forbidden: Invalid X-Hub-Signature-256 - invalid payload")


def test_org_level_event_uses_org_scope():
    payload = {"action": "member_added", "organization": {"login": "acme"}, "membership": {}}
    body = json.dumps(payload).encode()
    secret = parse_hmac_secret("acme:\n  - value: acme-key\n'*':\n  - value: g\n")
    d = validate("POST", HttpRequestHeaders(webhooks.headers("organization", body, "acme-key")), body, secret)
    assert d.org == "acme"
    with pytest.raises(WebhookRejected):
        validate("POST", HttpRequestHeaders(webhooks.headers("organization", body, "g")), body, secret)


def test_rotation_any_token_of_the_scope():
    secret = parse_hmac_secret(f"{PAYLOAD['repository']['full_name']}:\n  - value: new\n  - value: old\n")
    for key in ("new", "old"):
        h = HttpRequestHeaders(webhooks.headers("issues", BODY, key))
        assert validate("POST", h, BODY, secret).event == "issues"
