"""`phony`: send a signed webhook delivery the way GitHub does (Prow's `phony`, same flags).

    python -m shared.cli phony --event issue_comment --payload comment.json --hmac-secret-file hmac.yaml

`--hmac-secret-file` reads a secret in either of Prow's formats and signs with the token the hook
would try first for the payload's repository (or organization). Exit status 0 when the hook
answered 2xx, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import sys
import uuid
import urllib.error
import urllib.request
from urllib.parse import urlencode

from shared.hmac_secret import HmacSecretError, parse_hmac_secret
from shared.webhook import signature

DEFAULT_ADDRESS = "http://localhost:7071/api/hook"  # `func start`; Prow's default is :8888/hook


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m shared.cli phony", description=__doc__.split("\n\n")[0])
    p.add_argument("--address", default=DEFAULT_ADDRESS, help="where to send the hook (default %(default)s)")
    p.add_argument("--hmac", default="abcde12345", help="HMAC token to sign the payload with")
    p.add_argument("--hmac-secret-file", help="a Prow hmac secret file (hierarchical YAML or one token); "
                                              "overrides --hmac")
    p.add_argument("--event", default="ping", help="X-GitHub-Event, such as pull_request (default ping)")
    p.add_argument("--payload", help='file to send as the payload (default: "{}")')
    p.add_argument("--delivery", help="X-GitHub-Delivery (default: a new GUID; repeat one to test redelivery)")
    p.add_argument("--content-type", choices=("json", "form"), default="json",
                   help="send application/json (default) or application/x-www-form-urlencoded")
    p.add_argument("--timeout", type=float, default=30.0)
    return p.parse_args(argv)


def build_request(args) -> tuple[urllib.request.Request, str]:
    if args.payload:
        with open(args.payload, "rb") as f:
            payload = f.read()
    else:
        payload = b"{}"
    try:
        doc = json.loads(payload)
    except ValueError:
        doc = {}
    key = args.hmac.encode()
    if args.hmac_secret_file:
        with open(args.hmac_secret_file, "rb") as f:
            secret = parse_hmac_secret(f.read())
        repo = doc.get("repository") if isinstance(doc, dict) else None
        org = doc.get("organization") if isinstance(doc, dict) else None
        scope = (repo or {}).get("full_name") or (org or {}).get("login") or ""
        keys = secret.keys_for(scope)
        if not keys:
            raise HmacSecretError(f"the secret file has no token for {scope or 'this payload'} (nor '*')")
        key = keys[0]
    if args.content_type == "form":
        body = urlencode({"payload": payload.decode()}).encode()
        ctype = "application/x-www-form-urlencoded"
    else:
        body, ctype = payload, "application/json"
    delivery = args.delivery or str(uuid.uuid4())
    req = urllib.request.Request(args.address, data=body, method="POST", headers={
        "X-GitHub-Event": args.event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature(body, key),
        "Content-Type": ctype,
        "User-Agent": "GitHub-Hookshot/phony",
    })
    return req, delivery


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        req, delivery = build_request(args)
    except (OSError, HmacSecretError) as exc:
        print(f"phony: {exc}", file=sys.stderr)
        return 2
    try:
        with urllib.request.urlopen(req, timeout=args.timeout) as resp:
            status, text = resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        print(f"phony: could not reach {args.address}: {exc}", file=sys.stderr)
        return 1
    print(f"{status} {text.strip()} (delivery {delivery})")
    return 0 if 200 <= status < 300 else 1
