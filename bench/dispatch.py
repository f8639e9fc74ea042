"""Dispatch benchmarks (the dispatch issue): GitHub requests per `/help`, and dispatch throughput.

Both run the real app: signed deliveries go into the registered `hook` function, the stored
messages are handed to `dispatch_message` (what the `dispatch` queue function calls), plugins talk
to the fake GitHub over HTTP through the one GitHub client, whose ETag cache lives in Azurite.

* `/help` requests: what the fake GitHub logged for one `/help` on an issue, split into requests that
  count against the rate limit and 304 revalidations (free), with a cold cache (nothing read before)
  and a warm one (the issue's labels were read by an earlier command that changed nothing).
* throughput: comments without a command (the common case: most comments are conversation) must
  make no GitHub request; events per second of `dispatch_message`, serially, against the floor of
  the storage work any at-least-once dispatcher must do per event with the bare SDKs (read the
  stored body, insert the dedupe record, mark it done).
"""
from __future__ import annotations

import base64
import os
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import alternate, app_functions, summary
from tests import payloads, webhooks

SECRET = "bench-secret"
REPO = "org/repo"


class _App:
    """The app wired as in tests/appenv.py, outside pytest."""

    def __init__(self, conn: str, gh, config_dir: Path):
        from azure.storage.queue import QueueClient

        (config_dir / "config.yaml").write_text("prowjob_namespace: prow\npod_namespace: test-pods\n")
        (config_dir / "plugins.yaml").write_text("plugins:\n  org:\n    plugins: [help, shrug]\n")
        os.environ.update({
            "PROW_STORAGE": conn, "PROW_HMAC_SECRET": SECRET, "GITHUB_API_URL": gh.url, "GITHUB_TOKEN": gh.token,
            "PROW_CONFIG_PATH": str(config_dir / "config.yaml"),
            "PROW_PLUGIN_CONFIG_PATH": str(config_dir / "plugins.yaml")})
        for name in ("PROW_JOB_CONFIG_PATH", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"):
            os.environ.pop(name, None)
        self.functions = app_functions()
        self.queue = QueueClient.from_connection_string(conn, "webhook-events")
        try:
            self.queue.create_queue()
        except Exception:
            self.queue.clear_messages()

    def post(self, event: str, payload: dict) -> None:
        import azure.functions as func

        body = webhooks.json_body(payload)
        headers = webhooks.headers(event, body, SECRET, delivery=str(uuid.uuid4()))
        req = func.HttpRequest(method="POST", url="http://localhost/api/hook", headers=headers, params={},
                               route_params={}, body=body)
        resp = self.functions["hook"].get_user_function()(req)
        assert resp.status_code == 200, resp.get_body()

    def take_messages(self) -> list[str]:
        """Every queued delivery message, decoded as the host's base64 trigger decodes it."""
        out = []
        while True:
            batch = list(self.queue.receive_messages(messages_per_page=32, max_messages=32))
            if not batch:
                return out
            for m in batch:
                out.append(base64.b64decode(m.content).decode())
                self.queue.delete_message(m)


def _classify(log) -> dict:
    counted = [r for r in log if r.status != 304]
    return {"total": len(log), "rate_limited": len(counted), "revalidations_304": len(log) - len(counted),
            "requests": [f"{r.method} {r.path} -> {r.status}" for r in log]}


def help_requests(conn: str) -> dict:
    from shared.dispatch import dispatch_message
    from tests.fakes.github import FakeGitHub

    with FakeGitHub() as gh, tempfile.TemporaryDirectory() as tmp:
        app = _App(conn, gh, Path(tmp))
        gh.add_repo(REPO)
        out = {}
        for case in ("cold", "warm"):
            number = gh.add_issue(REPO, author="alice")
            if case == "warm":  # an earlier command that reads the labels and changes nothing
                app.post("issue_comment", payloads.issue_comment(REPO, number, "/remove-help", commenter="bob"))
                for text in app.take_messages():
                    dispatch_message(text)
            gh.clear_log()
            app.post("issue_comment", payloads.issue_comment(REPO, number, "/help", commenter="bob"))
            for text in app.take_messages():
                result = dispatch_message(text)
                assert result.outcome == "done", result
            out[case] = _classify(gh.log)
            assert gh.labels(REPO, number) == ["help wanted"]
        return out


def throughput(conn: str, events: int) -> dict:
    from azure.data.tables import TableServiceClient, UpdateMode
    from azure.storage.blob import BlobServiceClient

    from shared.dispatch import dispatch_message
    from tests.fakes.github import FakeGitHub

    with FakeGitHub() as gh, tempfile.TemporaryDirectory() as tmp:
        app = _App(conn, gh, Path(tmp))
        gh.add_repo(REPO)
        number = gh.add_issue(REPO, author="alice")
        for i in range(events + 10):
            app.post("issue_comment", payloads.issue_comment(REPO, number, f"Thanks, that fixed it ({i}).",
                                                             commenter="bob"))
        messages = app.take_messages()
        bodies = [webhooks.json_body(payloads.issue_comment(REPO, number, "plain text", commenter="bob"))] * len(messages)
        gh.clear_log()

        blobs = BlobServiceClient.from_connection_string(conn).get_container_client("webhooks")
        names = [b.name for b in blobs.list_blobs()][: len(messages)]
        table = TableServiceClient.from_connection_string(conn).get_table_client("benchfloor")
        try:
            table.create_table()
        except Exception:
            pass
        pending = iter(messages)
        floor_names = iter(names * 2)
        del bodies

        def one_dispatch() -> float:
            text = next(pending)
            started = time.perf_counter()
            result = dispatch_message(text)
            elapsed = time.perf_counter() - started
            assert result.outcome == "done", result
            return elapsed

        def one_floor() -> float:
            name = next(floor_names)
            key = str(uuid.uuid4())
            started = time.perf_counter()
            blobs.get_blob_client(name).download_blob().readall()
            table.create_entity({"PartitionKey": key[:2], "RowKey": key, "state": "running"})
            table.update_entity({"PartitionKey": key[:2], "RowKey": key, "state": "done"}, mode=UpdateMode.MERGE)
            return time.perf_counter() - started

        for _ in range(10):
            one_dispatch(), one_floor()
        ta, tb, ratios = alternate(one_dispatch, one_floor, events)
        assert gh.log == [], f"comments without a command made GitHub requests: {gh.log[:3]}"
        med = summary(ta)["median"]
        return {"events": events, "dispatch": summary(ta), "floor": summary(tb),
                "events_per_second": 1 / med, "floor_events_per_second": 1 / summary(tb)["median"],
                "ratio_median": med / summary(tb)["median"], "pairwise_ratio": summary(ratios),
                "github_requests": len(gh.log)}
