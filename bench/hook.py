"""Hook benchmarks: cold import, per-request handling against Azurite, first delivery in a fresh process."""
from __future__ import annotations

import json
import os
import time
import uuid

from bench.common import ROOT, alternate, app_functions, run_python, summary
from tests import webhooks

PAYLOAD_BYTES = 25 * 1024
SECRET = "bench-secret"


def payload_25kb() -> bytes:
    """A real pull_request payload padded in its body text to 25 KB."""
    payload = dict(webhooks.example("pull_request", "opened"))
    pr = dict(payload["pull_request"])
    base = len(webhooks.json_body(payload))
    pr["body"] = (pr.get("body") or "") + "x" * max(0, PAYLOAD_BYTES - base)
    payload["pull_request"] = pr
    body = webhooks.json_body(payload)
    return body


def cold_import(runs: int) -> dict:
    app = lambda: run_python("import function_app")[0]
    floor = lambda: run_python("import azure.functions")[0]
    run_python("import function_app")  # warm the .pyc cache once
    ta, tb, ratios = alternate(app, floor, runs)
    return {"function_app": summary(ta), "azure.functions": summary(tb), "ratio": summary(ratios)}


def per_request(conn: str, runs: int) -> dict:
    """Median/p99 of one hook request through the registered function vs the bare SDK floor."""
    import azure.functions as func
    from azure.storage.blob import BlobServiceClient, ContentSettings
    from azure.storage.queue import QueueClient, TextBase64EncodePolicy

    os.environ["PROW_STORAGE"] = conn
    os.environ["PROW_HMAC_SECRET"] = SECRET
    hook = app_functions()["hook"].get_user_function()
    body = payload_25kb()
    sig = webhooks.sign(body, SECRET)

    blob_service = BlobServiceClient.from_connection_string(conn)
    floor_container = blob_service.get_container_client("benchfloor")
    try:
        floor_container.create_container()
    except Exception:
        pass
    floor_queue = QueueClient.from_connection_string(conn, "benchfloor", message_encode_policy=TextBase64EncodePolicy())
    try:
        floor_queue.create_queue()
    except Exception:
        pass

    def one_hook() -> float:
        delivery = str(uuid.uuid4())
        req = func.HttpRequest(method="POST", url="http://localhost/api/hook", params={}, route_params={},
                               headers={"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": delivery,
                                        "X-Hub-Signature-256": sig, "Content-Type": "application/json"},
                               body=body)
        started = time.perf_counter()
        resp = hook(req)
        elapsed = time.perf_counter() - started
        assert resp.status_code == 200, resp.get_body()
        return elapsed

    def one_floor() -> float:
        name = str(uuid.uuid4())
        started = time.perf_counter()
        floor_container.get_blob_client(name).upload_blob(body, overwrite=False,
                                                          content_settings=ContentSettings("application/json"))
        floor_queue.send_message(json.dumps({"delivery": name, "event": "pull_request"}))
        return time.perf_counter() - started

    for _ in range(10):  # warm connections and imports on both sides
        one_hook(), one_floor()
    ta, tb, ratios = alternate(one_hook, one_floor, runs)
    return {"payload_bytes": len(body), "hook": summary(ta), "floor": summary(tb),
            "ratio_median": summary(ta)["median"] / summary(tb)["median"],
            "ratio_p99": summary(ta)["p99"] / summary(tb)["p99"], "pairwise_ratio": summary(ratios)}


FIRST_HOOK = r"""
import time, os, uuid
t0 = time.perf_counter()
import azure.functions as func
import function_app
hook = {f.get_function_name(): f for f in function_app.app.get_functions()}["hook"].get_user_function()
body = open(os.environ["BENCH_BODY"], "rb").read()
req = func.HttpRequest(method="POST", url="http://localhost/api/hook", params={}, route_params={},
    headers={"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": str(uuid.uuid4()),
             "X-Hub-Signature-256": os.environ["BENCH_SIG"], "Content-Type": "application/json"}, body=body)
resp = hook(req)
assert resp.status_code == 200, resp.get_body()
print(time.perf_counter() - t0)
"""

FIRST_FLOOR = r"""
import time, os, uuid, json
t0 = time.perf_counter()
import azure.functions as func
from azure.storage.blob import BlobServiceClient, ContentSettings
from azure.storage.queue import QueueClient, TextBase64EncodePolicy
body = open(os.environ["BENCH_BODY"], "rb").read()
conn = os.environ["PROW_STORAGE"]
name = str(uuid.uuid4())
BlobServiceClient.from_connection_string(conn).get_blob_client("benchfloor", name).upload_blob(
    body, overwrite=False, content_settings=ContentSettings("application/json"))
QueueClient.from_connection_string(conn, "benchfloor", message_encode_policy=TextBase64EncodePolicy()).send_message(
    json.dumps({"delivery": name}))
print(time.perf_counter() - t0)
"""


def first_delivery(conn: str, runs: int, tmpdir) -> dict:
    body = payload_25kb()
    path = os.path.join(tmpdir, "body.json")
    with open(path, "wb") as f:
        f.write(body)
    env = {**os.environ, "PROW_STORAGE": conn, "PROW_HMAC_SECRET": SECRET, "BENCH_BODY": path,
           "BENCH_SIG": webhooks.sign(body, SECRET), "PYTHONPATH": str(ROOT)}
    hook = lambda: float(run_python(FIRST_HOOK, env=env)[1])
    floor = lambda: float(run_python(FIRST_FLOOR, env=env)[1])
    hook(), floor()
    ta, tb, ratios = alternate(hook, floor, runs)
    return {"hook": summary(ta), "floor": summary(tb), "ratio": summary(ratios)}
